// SPDX-License-Identifier: GPL-2.0
//! The dockfw generic-netlink connection: resolves the family by name
//! through the generic netlink controller (CTRL_CMD_GETFAMILY: its id and
//! multicast groups), sends requests (NLM_F_REQUEST | NLM_F_ACK, or
//! NLM_F_DUMP), collecting the replies and turning error ACKs, with their
//! extended-ACK message and offset, into `NlError`; joins and leaves
//! multicast groups and reads raw datagrams from them. Also the walk over
//! the netlink messages of a received datagram, and the controller's
//! CTRL_CMD_DELFAMILY announcement that a family (the module) is gone.

use super::attr::{attr_str, parse_attrs, Attr};
use crate::uapi::*;
use neli::{
    attr::Attribute,
    consts::{
        genl::{CtrlAttr, CtrlCmd},
        nl::{GenlId, NlmF, NlmsgerrAttr},
        socket::NlFamily,
    },
    err::{Nlmsgerr, SocketError},
    genl::{Genlmsghdr, GenlmsghdrBuilder, NoUserHeader},
    nl::{NlPayload, NlmsghdrBuilder},
    socket::synchronous::NlSocketHandle,
    types::{Buffer, GenlBuffer},
    utils::Groups,
};
use std::cell::Cell;
use std::os::unix::io::AsRawFd;

pub type Msg = Genlmsghdr<u8, u16>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NlError {
    /// The family does not exist here (module not loaded, or not the
    /// initial network namespace).
    NoFamily(String),
    /// The kernel answered with an error: errno (positive), the extended
    /// ACK message and the offset of the offending attribute, if given.
    Kernel { errno: i32, msg: Option<String>, offset: Option<u32> },
    /// Socket, I/O or decoding trouble.
    Io(String),
}

/// `strerror` without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl std::fmt::Display for NlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NlError::NoFamily(why) => write!(
                f,
                "the {DOCKFW_GENL_NAME} netlink family is not available ({why}): is dockfw.ko loaded? \
                 It exists only in the initial network namespace"
            ),
            NlError::Kernel { errno, msg, .. } => {
                let what = if matches!(*errno, libc::EPERM | libc::EACCES) {
                    "permission denied (needs CAP_NET_ADMIN)"
                } else {
                    "kernel refused"
                };
                match msg {
                    Some(m) => write!(f, "{what}: {m} ({})", strerror(*errno)),
                    None => write!(f, "{what}: {}", strerror(*errno)),
                }
            }
            NlError::Io(m) => write!(f, "netlink: {m}"),
        }
    }
}

fn from_nlmsgerr<M>(e: &Nlmsgerr<M>) -> NlError {
    let mut msg = None;
    let mut offset = None;
    for a in e.ext_ack().iter() {
        let b = a.payload().as_ref();
        match a.nla_type().nla_type() {
            NlmsgerrAttr::Msg => {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                let s = String::from_utf8_lossy(&b[..end]).trim().to_string();
                if !s.is_empty() {
                    msg = Some(s);
                }
            }
            NlmsgerrAttr::Offset => offset = b.try_into().ok().map(u32::from_ne_bytes),
            _ => {}
        }
    }
    NlError::Kernel { errno: -*e.error(), msg, offset }
}

fn from_socket(e: SocketError) -> NlError {
    NlError::Io(e.to_string())
}

/// A generic-netlink socket bound to the dockfw family. Requests are sent
/// one at a time and their replies read until the ACK, error or NLMSG_DONE
/// that ends them.
///
/// This uses neli's `NlSocketHandle` rather than its `NlRouter`: in neli
/// 0.7.5 the router re-types every received error with `Nlmsgerr::to_typed`,
/// which drops the extended-ACK attributes, so the kernel's message would
/// be lost. The socket handle parses replies directly and keeps them.
pub struct Conn {
    sock: NlSocketHandle,
    family: u16,
    seq: Cell<u32>,
    /// The family's multicast groups (name, id), from the controller.
    groups: Vec<(String, u32)>,
}

/// The (name, id) pairs of a `CTRL_ATTR_MCAST_GROUPS` payload.
pub fn mcast_groups(payload: &[u8]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (_, grp) in parse_attrs(payload).unwrap_or_default() {
        let (mut name, mut id) = (None, None);
        for (ty, b) in parse_attrs(grp).unwrap_or_default() {
            match i32::from(ty) {
                libc::CTRL_ATTR_MCAST_GRP_NAME => {
                    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                    name = Some(String::from_utf8_lossy(&b[..end]).into_owned());
                }
                libc::CTRL_ATTR_MCAST_GRP_ID => id = b.try_into().ok().map(u32::from_ne_bytes),
                _ => {}
            }
        }
        if let (Some(n), Some(i)) = (name, id) {
            out.push((n, i));
        }
    }
    out
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

impl Conn {
    /// Opens a generic-netlink socket with extended ACKs and resolves the
    /// dockfw family.
    pub fn open() -> Result<Conn, NlError> {
        Conn::open_family(DOCKFW_GENL_NAME)
    }

    fn open_family(name: &str) -> Result<Conn, NlError> {
        let sock = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty()).map_err(from_socket)?;
        sock.enable_ext_ack(true).map_err(from_socket)?;
        let mut conn = Conn { sock, family: u16::from(GenlId::Ctrl), seq: Cell::new(1), groups: Vec::new() };
        (conn.family, conn.groups) = conn.lookup_family(name)?;
        Ok(conn)
    }

    /// The controller's answer for family `name` (CTRL_CMD_GETFAMILY): its
    /// id and its multicast groups (name, id).
    fn lookup_family(&self, name: &str) -> Result<(u16, Vec<(String, u32)>), NlError> {
        let reply = self.transact(
            u16::from(GenlId::Ctrl),
            u8::from(CtrlCmd::Getfamily),
            2,
            vec![attr_str(u16::from(CtrlAttr::FamilyName), name)],
            false,
        );
        let msgs = match reply {
            Ok(m) => m,
            Err(NlError::Kernel { errno: libc::ENOENT, .. }) => return Err(NlError::NoFamily(strerror(libc::ENOENT))),
            Err(e) => return Err(e),
        };
        let id = msgs
            .iter()
            .find_map(|m| find(m, u16::from(CtrlAttr::FamilyId)))
            .and_then(|a| a.payload().as_ref().try_into().ok())
            .map(u16::from_ne_bytes)
            .ok_or_else(|| NlError::NoFamily("no family id in the controller's reply".into()))?;
        let groups = msgs
            .iter()
            .find_map(|m| find(m, u16::from(CtrlAttr::McastGroups)))
            .map(|a| mcast_groups(a.payload().as_ref()))
            .unwrap_or_default();
        Ok((id, groups))
    }

    /// The family's id (the `nlmsg_type` of its messages).
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// The id of the family's multicast group `name`.
    pub fn mcast_group(&self, name: &str) -> Option<u32> {
        self.groups.iter().find(|(n, _)| n == name).map(|&(_, id)| id)
    }

    fn setsockopt_u32(&self, level: i32, opt: i32, v: u32) -> Result<(), NlError> {
        // SAFETY: a valid fd and a pointer to a live u32 of the given size.
        let r = unsafe {
            libc::setsockopt(
                self.sock.as_raw_fd(),
                level,
                opt,
                &v as *const u32 as *const libc::c_void,
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(NlError::Kernel { errno: errno(), msg: None, offset: None })
        }
    }

    /// The id of the generic netlink controller's "notify" group, where
    /// the kernel announces families registered and removed
    /// (CTRL_CMD_NEWFAMILY / CTRL_CMD_DELFAMILY); rmmod of dockfw removes
    /// its family, so a member learns of the unload from there.
    pub fn ctrl_notify_group(&self) -> Result<u32, NlError> {
        self.lookup_family("nlctrl")?
            .1
            .into_iter()
            .find(|(n, _)| n == "notify")
            .map(|(_, id)| id)
            .ok_or_else(|| NlError::NoFamily("the controller has no \"notify\" group".into()))
    }

    /// Joins a multicast group (EPERM without the rights the family asks).
    pub fn join(&self, group: u32) -> Result<(), NlError> {
        self.setsockopt_u32(libc::SOL_NETLINK, libc::NETLINK_ADD_MEMBERSHIP, group)
    }

    /// Leaves a multicast group.
    pub fn leave(&self, group: u32) -> Result<(), NlError> {
        self.setsockopt_u32(libc::SOL_NETLINK, libc::NETLINK_DROP_MEMBERSHIP, group)
    }

    /// Asks for a receive buffer of `bytes` (capped by net.core.rmem_max).
    pub fn set_rcvbuf(&self, bytes: u32) -> Result<(), NlError> {
        self.setsockopt_u32(libc::SOL_SOCKET, libc::SO_RCVBUF, bytes)
    }

    /// Waits up to `timeout` for something to read (or an error, such as
    /// ENOBUFS, to collect). Interrupted by signals: returns false then.
    pub fn wait_readable(&self, timeout: std::time::Duration) -> bool {
        let mut p = libc::pollfd { fd: self.sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        n > 0
    }

    /// Reads one datagram without blocking: its length, or the errno
    /// (EAGAIN when there is none, ENOBUFS when the receive buffer had
    /// overflowed and messages were lost).
    pub fn recv_raw(&self, buf: &mut [u8]) -> Result<usize, i32> {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe {
            libc::recv(self.sock.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, buf.len(), libc::MSG_DONTWAIT)
        };
        if n < 0 {
            Err(errno())
        } else {
            Ok(n as usize)
        }
    }

    fn transact(&self, nl_type: u16, cmd: u8, version: u8, attrs: Vec<Attr>, dump: bool) -> Result<Vec<Msg>, NlError> {
        let hdr = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
            .cmd(cmd)
            .version(version)
            .attrs(attrs.into_iter().collect::<GenlBuffer<u16, Buffer>>())
            .build()
            .map_err(|e| NlError::Io(e.to_string()))?;
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let msg = NlmsghdrBuilder::default()
            .nl_type(nl_type)
            .nl_flags(NlmF::REQUEST | if dump { NlmF::DUMP } else { NlmF::ACK })
            .nl_seq(seq)
            .nl_pid(self.sock.pid())
            .nl_payload(NlPayload::Payload(hdr))
            .build()
            .map_err(|e| NlError::Io(e.to_string()))?;
        self.sock.send(&msg).map_err(from_socket)?;
        let mut out = Vec::new();
        loop {
            let (iter, _) = self.sock.recv::<u16, Msg>().map_err(from_socket)?;
            for m in iter {
                let m = m.map_err(|e| NlError::Io(format!("malformed reply: {e}")))?;
                if *m.nl_seq() != seq {
                    continue; // a late reply to an earlier request
                }
                match m.nl_payload() {
                    NlPayload::Payload(p) => out.push(p.clone()),
                    NlPayload::Err(e) => return Err(from_nlmsgerr(e)),
                    NlPayload::DumpExtAck(e) if *e.error() != 0 => return Err(from_nlmsgerr(e)),
                    NlPayload::Ack(_) | NlPayload::DumpExtAck(_) => return Ok(out),
                    NlPayload::Empty => {}
                }
                if *m.nl_type() == libc::NLMSG_DONE as u16 {
                    return Ok(out);
                }
            }
        }
    }

    /// Sends one dockfw request and returns the payloads of its replies.
    /// With `dump`, the request is a NLM_F_DUMP and every message of the
    /// multipart reply is returned; otherwise it carries NLM_F_ACK and the
    /// kernel's ACK (or error) ends it.
    pub fn request(&self, cmd: u8, attrs: Vec<Attr>, dump: bool) -> Result<Vec<Msg>, NlError> {
        self.transact(self.family, cmd, DOCKFW_GENL_VERSION as u8, attrs, dump)
    }
}

/// The first attribute of type `ty` in a reply.
pub fn find(m: &Msg, ty: u16) -> Option<&Attr> {
    m.attrs().iter().find(|a| *a.nla_type().nla_type() == ty)
}

/// The netlink messages of a datagram as (nlmsg_type, payload after the
/// 16-byte header); a message whose length runs past the datagram ends the
/// walk with an error.
pub fn messages(mut b: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8]), String>> {
    std::iter::from_fn(move || {
        if b.len() < 16 {
            return None;
        }
        let len = u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize;
        let ty = u16::from_ne_bytes([b[4], b[5]]);
        if len < 16 || len > b.len() {
            let e = format!("netlink message of length {len} in {} bytes", b.len());
            b = &[];
            return Some(Err(e));
        }
        let payload = &b[16..len];
        b = &b[((len + 3) & !3).min(b.len())..];
        Some(Ok((ty, payload)))
    })
}

/// Whether a datagram holds the controller's announcement that `family`
/// was removed: a message of type GENL_ID_CTRL, command
/// CTRL_CMD_DELFAMILY, whose CTRL_ATTR_FAMILY_ID is `family`. This is what
/// a member of nlctrl's "notify" group receives when the module that
/// registered the family is unloaded (genl_unregister_family).
pub fn family_removed(b: &[u8], family: u16) -> bool {
    messages(b).map_while(Result::ok).any(|(ty, payload)| {
        ty == libc::GENL_ID_CTRL as u16
            && payload.len() >= 4
            && payload[0] == libc::CTRL_CMD_DELFAMILY as u8
            && parse_attrs(&payload[4..]).ok().is_some_and(|attrs| {
                attrs
                    .iter()
                    .find(|(t, _)| *t == libc::CTRL_ATTR_FAMILY_ID as u16)
                    .and_then(|(_, v)| <[u8; 2]>::try_from(*v).ok())
                    .map(u16::from_ne_bytes)
                    == Some(family)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_attr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 4) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize((v.len() + 3) & !3, 0);
        v
    }

    #[test]
    fn attribute_parsing_and_mcast_groups_from_wire_bytes() {
        let grp = |name: &str, id: u32| {
            let mut n = name.as_bytes().to_vec();
            n.push(0);
            let mut inner = raw_attr(libc::CTRL_ATTR_MCAST_GRP_ID as u16, &id.to_ne_bytes());
            inner.extend(raw_attr(libc::CTRL_ATTR_MCAST_GRP_NAME as u16, &n));
            inner
        };
        let mut groups = raw_attr(1 | 0x8000, &grp("trace", 27));
        groups.extend(raw_attr(2 | 0x8000, &grp("other", 28)));
        assert_eq!(mcast_groups(&groups), vec![("trace".to_string(), 27), ("other".to_string(), 28)]);
        // Types lose the nested bit; odd lengths are padded to 4.
        let mut b = raw_attr(5 | 0x8000, &[1, 2, 3]);
        b.extend(raw_attr(6, &[]));
        assert_eq!(parse_attrs(&b).unwrap(), vec![(5, &[1u8, 2, 3][..]), (6, &[][..])]);
        // A length past the end is an error, not a panic.
        assert!(parse_attrs(&[200, 0, 1, 0, 9, 9, 9, 9]).is_err());
        assert!(parse_attrs(&[2, 0, 1, 0]).is_err());
    }

    /// Exercises the request paths against the kernel's own `nlctrl`
    /// family, which every Linux kernel has (skipped where netlink sockets
    /// cannot be opened).
    #[test]
    fn requests_acks_dumps_and_errors_against_nlctrl() {
        let conn = match Conn::open_family("nlctrl") {
            Ok(c) => c,
            Err(NlError::Io(e)) => {
                eprintln!("skipped: no generic netlink here: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let get = u8::from(CtrlCmd::Getfamily);
        let name = u16::from(CtrlAttr::FamilyName);
        let id = u16::from(CtrlAttr::FamilyId);
        // A do request with a reply, then the ACK.
        let msgs = conn.request(get, vec![attr_str(name, "nlctrl")], false).unwrap();
        assert_eq!(msgs.len(), 1);
        assert!(find(&msgs[0], id).is_some());
        // A dump: one message per family, ended by NLMSG_DONE.
        let all = conn.request(get, vec![], true).unwrap();
        assert!(all.iter().any(|m| find(m, name).is_some_and(|a| a.payload().as_ref() == b"nlctrl\0")));
        // An error ACK: unknown family.
        let e = conn.request(get, vec![attr_str(name, "no-such-fam")], false).unwrap_err();
        assert!(matches!(e, NlError::Kernel { errno: libc::ENOENT, .. }), "{e:?}");
        // Policy validation failure (a name longer than GENL_NAMSIZ): the
        // extended ACK message and attribute offset are picked up.
        let e = conn.request(get, vec![attr_str(name, "a-family-name-too-long-for-genl")], false).unwrap_err();
        match e {
            NlError::Kernel { errno: libc::EINVAL, msg, offset } => {
                assert!(msg.is_some_and(|m| !m.is_empty()), "extack message expected");
                // nlmsghdr (16) + genlmsghdr (4): the first attribute.
                assert_eq!(offset, Some(20));
            }
            e => panic!("{e:?}"),
        }
        // The controller's own multicast group is found by name.
        assert!(conn.mcast_group("notify").is_some_and(|id| id > 0), "{:?}", conn.groups);
        assert_eq!(conn.mcast_group("no-such-group"), None);
        // The raw receive path: nothing queued means EAGAIN, not a block.
        let mut buf = [0u8; 256];
        assert_eq!(conn.recv_raw(&mut buf), Err(libc::EAGAIN));
        assert!(!conn.wait_readable(std::time::Duration::from_millis(10)));
        // Joining a group, then leaving it.
        let notify = conn.mcast_group("notify").unwrap();
        conn.join(notify).unwrap();
        conn.leave(notify).unwrap();
        assert!(matches!(conn.join(0xffff), Err(NlError::Kernel { .. })));
        // A missing family is reported as such.
        assert!(matches!(Conn::open_family("no-such-fam"), Err(NlError::NoFamily(_))));
    }

    /// A netlink message header and a genetlink header before `attrs`.
    fn raw_msg(ty: u16, cmd: u8, attrs: &[u8]) -> Vec<u8> {
        let mut v = ((16 + 4 + attrs.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&[0; 10]); // flags, seq, portid
        v.extend_from_slice(&[cmd, 2, 0, 0]);
        v.extend_from_slice(attrs);
        v
    }

    #[test]
    fn family_removal_is_the_controllers_delfamily_of_our_id() {
        // Values from <linux/genetlink.h>: GENL_ID_CTRL 0x10,
        // CTRL_CMD_NEWFAMILY 1, CTRL_CMD_DELFAMILY 2, CTRL_ATTR_FAMILY_ID 1.
        let id = |v: u16| raw_attr(1, &v.to_ne_bytes());
        let del = raw_msg(0x10, 2, &id(31));
        assert!(family_removed(&del, 31));
        assert!(!family_removed(&del, 32), "another family's removal");
        assert!(!family_removed(&raw_msg(0x10, 1, &id(31)), 31), "NEWFAMILY is not a removal");
        assert!(!family_removed(&raw_msg(31, 2, &id(31)), 31), "our own family's command 2 is not the controller's");
        // Second message of a datagram; a truncated one ends the scan.
        let mut two = raw_msg(0x10, 1, &id(7));
        two.extend(&del);
        assert!(family_removed(&two, 31));
        assert!(!family_removed(&del[..del.len() - 4], 31));
        assert!(!family_removed(&raw_msg(0x10, 2, &raw_attr(1, &[31])), 31), "a one-byte id");
    }
}
