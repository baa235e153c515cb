// SPDX-License-Identifier: GPL-2.0
//! Header parsing for the hooks: reads the IPv4 or IPv6 header, walks IPv6
//! extension headers, and extracts the transport summary (TCP/UDP ports and
//! flags, ICMP type/code/id). Every read goes through `ByteSource::bytes`,
//! which gives exactly the bytes asked for or fails rather than read past
//! the packet's end, so a truncated or hostile packet yields an error, never an
//! out-of-bounds read. Pure `core` code, compiled by the host tests too.

use super::model::{Addr, Family};
use core::fmt;

/// Somewhere packet bytes can be read from: an skb in the kernel, a slice
/// in tests. `bytes` gives the `N` bytes at `offset`, either in place or
/// copied into `buf`, or `None` if the source ends before them.
pub trait ByteSource {
    fn bytes<'a, const N: usize>(&'a self, offset: usize, buf: &'a mut [u8; N]) -> Option<&'a [u8; N]>;
}

impl ByteSource for [u8] {
    fn bytes<'a, const N: usize>(&'a self, offset: usize, _buf: &'a mut [u8; N]) -> Option<&'a [u8; N]> {
        self.get(offset..offset.checked_add(N)?)?.try_into().ok()
    }
}

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;

/// Transport-layer summary.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum L4 {
    Tcp { sport: u16, dport: u16, flags: u8 },
    Udp { sport: u16, dport: u16 },
    Icmp { ty: u8, code: u8, id: u16 },
    /// A non-first fragment: the transport header is in another packet.
    Fragment,
    /// The transport header is missing or cut short.
    Truncated,
    /// Some other protocol, not looked into.
    Other,
}

/// What the hooks need to know about one packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Packet {
    pub family: Family,
    /// Transport protocol (after IPv6 extension headers).
    pub proto: u8,
    pub saddr: Addr,
    pub daddr: Addr,
    /// IPv4 identification, or the IPv6 fragment id (0 when unfragmented).
    pub ip_id: u32,
    pub l4: L4,
}

impl Packet {
    /// Source and destination ports of TCP and UDP; `None` otherwise.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.l4 {
            L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport } => Some((sport, dport)),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError {
    /// Fewer bytes than a minimal IP header.
    Short,
    /// Version, header length or total length is bogus.
    BadHeader,
    /// An IPv6 extension-header chain too long or cut short.
    BadExtHeaders,
}

/// Parses the packet whose network header starts at `nh` in `src`.
pub fn parse<S: ByteSource + ?Sized>(src: &S, nh: usize, family: Family) -> Result<Packet, ParseError> {
    match family {
        Family::Ipv4 => parse_ipv4(src, nh),
        Family::Ipv6 => parse_ipv6(src, nh),
    }
}

fn parse_ipv4<S: ByteSource + ?Sized>(src: &S, nh: usize) -> Result<Packet, ParseError> {
    let mut hb = [0u8; 20];
    let Some(h) = src.bytes(nh, &mut hb) else {
        return Err(ParseError::Short);
    };
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || ihl < 20 {
        return Err(ParseError::BadHeader);
    }
    let tot_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if tot_len < ihl {
        return Err(ParseError::BadHeader);
    }
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let proto = h[9];
    let saddr = Addr::V4([h[12], h[13], h[14], h[15]]);
    let daddr = Addr::V4([h[16], h[17], h[18], h[19]]);
    // Fragment offset != 0: the transport header is not in this packet.
    let l4 = if frag & 0x1fff != 0 {
        L4::Fragment
    } else {
        parse_l4(src, nh + ihl, proto, false)
    };
    Ok(Packet {
        family: Family::Ipv4,
        proto,
        saddr,
        daddr,
        ip_id: u32::from(u16::from_be_bytes([h[4], h[5]])),
        l4,
    })
}


fn parse_ipv6<S: ByteSource + ?Sized>(src: &S, nh: usize) -> Result<Packet, ParseError> {
    let mut hb = [0u8; 40];
    let Some(h) = src.bytes(nh, &mut hb) else {
        return Err(ParseError::Short);
    };
    if h[0] >> 4 != 6 {
        return Err(ParseError::BadHeader);
    }
    let mut s = [0u8; 16];
    let mut d = [0u8; 16];
    s.copy_from_slice(&h[8..24]);
    d.copy_from_slice(&h[24..40]);
    let mut next = h[6];
    let mut off = nh + 40;
    let mut ip_id = 0u32;
    let mut fragment = false;
    // The walk is bounded by the packet, not by a count: every extension
    // header moves `off` forward by at least 8 bytes and a load past the
    // end fails, so a chain ends after at most len/8 steps, as in the
    // kernel's own ipv6_skip_exthdr(). A fixed cap would let a long chain
    // hide the transport header, and with it the ports, from port rules.
    loop {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-octet
            // units, not counting the first 8.
            0 | 43 | 60 => {
                let mut eb = [0u8; 2];
                let Some(e) = src.bytes(off, &mut eb) else {
                    return Err(ParseError::BadExtHeaders);
                };
                next = e[0];
                off += (usize::from(e[1]) + 1) * 8;
            }
            // Authentication header: length in 4-octet units, minus 2.
            51 => {
                let mut eb = [0u8; 2];
                let Some(e) = src.bytes(off, &mut eb) else {
                    return Err(ParseError::BadExtHeaders);
                };
                next = e[0];
                off += (usize::from(e[1]) + 2) * 4;
            }
            // Fragment header: fixed 8 bytes.
            44 => {
                let mut eb = [0u8; 8];
                let Some(e) = src.bytes(off, &mut eb) else {
                    return Err(ParseError::BadExtHeaders);
                };
                next = e[0];
                let frag_off = u16::from_be_bytes([e[2], e[3]]) >> 3;
                ip_id = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
                fragment = frag_off != 0;
                off += 8;
            }
            _ => break,
        }
        if fragment {
            break;
        }
    }
    let l4 = if fragment {
        L4::Fragment
    } else {
        parse_l4(src, off, next, true)
    };
    Ok(Packet {
        family: Family::Ipv6,
        proto: next,
        saddr: Addr::V6(s),
        daddr: Addr::V6(d),
        ip_id,
        l4,
    })
}

fn parse_l4<S: ByteSource + ?Sized>(src: &S, off: usize, proto: u8, v6: bool) -> L4 {
    match proto {
        IPPROTO_TCP => {
            let mut buf = [0u8; 14];
            let Some(t) = src.bytes(off, &mut buf) else {
                return L4::Truncated;
            };
            L4::Tcp {
                sport: u16::from_be_bytes([t[0], t[1]]),
                dport: u16::from_be_bytes([t[2], t[3]]),
                flags: t[13],
            }
        }
        IPPROTO_UDP => {
            let mut buf = [0u8; 4];
            let Some(u) = src.bytes(off, &mut buf) else {
                return L4::Truncated;
            };
            L4::Udp {
                sport: u16::from_be_bytes([u[0], u[1]]),
                dport: u16::from_be_bytes([u[2], u[3]]),
            }
        }
        IPPROTO_ICMP | IPPROTO_ICMPV6 if (proto == IPPROTO_ICMPV6) == v6 => {
            let mut buf = [0u8; 6];
            let Some(i) = src.bytes(off, &mut buf) else {
                return L4::Truncated;
            };
            L4::Icmp {
                ty: i[0],
                code: i[1],
                id: u16::from_be_bytes([i[4], i[5]]),
            }
        }
        _ => L4::Other,
    }
}

/// Short protocol name for traces.
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_ICMP => "ICMP",
        IPPROTO_ICMPV6 => "ICMPv6",
        _ => "IP",
    }
}

/// `TCP 10.0.0.1:40000 -> 172.17.0.2:8080 [S]`, `ICMP 10.0.0.1 -> 10.0.0.2 type=8 code=0 id=7`.
impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = proto_name(self.proto);
        let (lb, rb) = match self.family {
            Family::Ipv4 => ("", ""),
            Family::Ipv6 => ("[", "]"),
        };
        match self.l4 {
            L4::Tcp { sport, dport, flags } => {
                write!(f, "{name} {lb}{}{rb}:{sport} -> {lb}{}{rb}:{dport} [", self.saddr, self.daddr)?;
                for (bit, c) in [(0x02, 'S'), (0x10, '.'), (0x01, 'F'), (0x04, 'R'), (0x08, 'P')] {
                    if flags & bit != 0 {
                        write!(f, "{c}")?;
                    }
                }
                write!(f, "]")
            }
            L4::Udp { sport, dport } => {
                write!(f, "{name} {lb}{}{rb}:{sport} -> {lb}{}{rb}:{dport}", self.saddr, self.daddr)
            }
            L4::Icmp { ty, code, id } => {
                write!(f, "{name} {} -> {} type={ty} code={code} id={id}", self.saddr, self.daddr)
            }
            L4::Fragment => write!(f, "{name} {} -> {} fragment", self.saddr, self.daddr),
            L4::Truncated => write!(f, "{name} {} -> {} truncated", self.saddr, self.daddr),
            L4::Other => write!(f, "proto={} {} -> {}", self.proto, self.saddr, self.daddr),
        }
    }
}
