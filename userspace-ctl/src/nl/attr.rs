// SPDX-License-Identifier: GPL-2.0
//! Netlink attributes (`struct nlattr`: a 4-byte length and type header,
//! the payload, padding to 4 bytes). Building them for a request as neli
//! objects (u8, u32, NUL-terminated strings, nests with NLA_F_NESTED set as
//! the kernel's strict validation requires, bounded by the u16 length);
//! writing them straight into message bytes, for requests as large as a
//! 100 000-rule restore; and splitting a received attribute stream into
//! (type, payload) with the type's NLA_F_NESTED / NLA_F_NET_BYTEORDER bits
//! cleared. No knowledge of the dockfw family's attributes lives here.

use neli::{
    attr::Attribute,
    genl::{AttrTypeBuilder, Nlattr, NlattrBuilder},
    types::Buffer,
    Size,
};

pub type Attr = Nlattr<u16, Buffer>;

/// The payload of a u32 attribute.
pub fn attr_as_u32(a: &Attr) -> Option<u32> {
    let b: &[u8] = a.payload().as_ref();
    b.try_into().ok().map(u32::from_ne_bytes)
}

/// An attribute with a raw payload.
pub fn attr(ty: u16, payload: Vec<u8>) -> Attr {
    NlattrBuilder::default()
        .nla_type(AttrTypeBuilder::default().nla_type(ty).build().expect("attribute type"))
        .nla_payload(payload)
        .build()
        .expect("attribute")
}

pub fn attr_u8(ty: u16, v: u8) -> Attr {
    attr(ty, vec![v])
}

pub fn attr_u32(ty: u16, v: u32) -> Attr {
    attr(ty, v.to_ne_bytes().to_vec())
}

/// A NUL-terminated string attribute.
pub fn attr_str(ty: u16, s: &str) -> Attr {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    attr(ty, b)
}

/// A nest (NLA_F_NESTED set, as strict validation requires) of `children`.
pub fn nest(ty: u16, children: &[Attr]) -> Result<Attr, String> {
    fits_nest(children.iter().map(|c| c.padded_size()).sum())?;
    let mut n = nest_raw(ty, Vec::new())?;
    for c in children {
        n = n.nest(c).map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// A nest (NLA_F_NESTED set) whose payload is already-encoded attributes.
pub fn nest_raw(ty: u16, payload: Vec<u8>) -> Result<Attr, String> {
    fits_nest(payload.len())?;
    Ok(NlattrBuilder::default()
        .nla_type(AttrTypeBuilder::default().nla_type(ty).nla_nested(true).build().expect("attribute type"))
        .nla_payload(payload)
        .build()
        .expect("attribute"))
}

/// Whether a nest of `payload` bytes fits a netlink attribute's u16 length.
fn fits_nest(payload: usize) -> Result<(), String> {
    if payload + 4 > usize::from(u16::MAX) {
        return Err(format!("nested attribute of {payload} bytes does not fit in a netlink attribute"));
    }
    Ok(())
}

/// Netlink's flag on the type of an attribute that holds attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;

/// Appends one attribute (4-byte header, payload, padding to 4 bytes) to
/// `out`, which stays 4-byte aligned. `restore` encodes 100 000 rules: the
/// rules are written straight into the message bytes, not built as one
/// object per attribute.
pub fn put(out: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    put_parts(out, ty, &[payload]);
}

/// A NUL-terminated string attribute.
pub fn put_str(out: &mut Vec<u8>, ty: u16, s: &[u8]) {
    put_parts(out, ty, &[s, &[0]]);
}

/// One attribute whose payload is `parts` back to back.
pub fn put_parts(out: &mut Vec<u8>, ty: u16, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.extend_from_slice(&((4 + len) as u16).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.resize((out.len() + 3) & !3, 0);
}

/// Attributes of a netlink attribute stream as (type, payload), the type
/// without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits.
pub fn parse_attrs(mut b: &[u8]) -> Result<Vec<(u16, &[u8])>, String> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let ty = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            return Err(format!("attribute {ty} of length {len} in {} bytes", b.len()));
        }
        out.push((ty, &b[4..len]));
        b = &b[((len + 3) & !3).min(b.len())..];
    }
    Ok(out)
}
