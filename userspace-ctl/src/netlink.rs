// SPDX-License-Identifier: GPL-2.0
//! The dockfw generic-netlink connection: resolves the family by name and
//! sends requests (NLM_F_REQUEST | NLM_F_ACK, or NLM_F_DUMP), collecting the
//! replies and turning error ACKs, with their extended-ACK message, into
//! `NlError`.

use crate::codec::Attr;
use crate::uapi::*;
use neli::{
    attr::Attribute,
    consts::{
        nl::{NlmF, NlmsgerrAttr},
        socket::NlFamily,
    },
    err::{Nlmsgerr, RouterError},
    genl::{Genlmsghdr, GenlmsghdrBuilder, NoUserHeader},
    nl::NlPayload,
    router::synchronous::NlRouter,
    types::{Buffer, GenlBuffer},
    utils::Groups,
};

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

fn from_router<T, P>(e: RouterError<T, P>) -> NlError {
    match e {
        RouterError::Nlmsgerr(e) => from_nlmsgerr(&e),
        RouterError::Io(kind) => NlError::Io(std::io::Error::from(kind).to_string()),
        RouterError::Msg(m) => NlError::Io(m.to_string()),
        RouterError::De(d) => NlError::Io(format!("malformed reply: {d}")),
        RouterError::Socket(s) => NlError::Io(s.to_string()),
        RouterError::BadSeqOrPid(_) => NlError::Io("reply with an unexpected sequence number or port id".into()),
        RouterError::NoAck => NlError::Io("the kernel sent no acknowledgement".into()),
        RouterError::UnexpectedAck => NlError::Io("unexpected acknowledgement".into()),
        RouterError::ClosedChannel => NlError::Io("netlink receive channel closed".into()),
    }
}

pub struct Conn {
    router: NlRouter,
    family: u16,
}

impl Conn {
    /// Opens a generic-netlink socket with extended ACKs and resolves the
    /// dockfw family.
    pub fn open() -> Result<Conn, NlError> {
        Conn::open_family(DOCKFW_GENL_NAME)
    }

    fn open_family(name: &str) -> Result<Conn, NlError> {
        let (router, _mcast) = NlRouter::connect(NlFamily::Generic, None, Groups::empty()).map_err(from_router)?;
        router.enable_ext_ack(true).map_err(from_router)?;
        let family = match router.resolve_genl_family(name) {
            Ok(id) => id,
            Err(RouterError::Nlmsgerr(e)) if -*e.error() == libc::ENOENT => {
                return Err(NlError::NoFamily(strerror(libc::ENOENT)));
            }
            Err(RouterError::Msg(m)) => return Err(NlError::NoFamily(m.to_string())),
            Err(e) => return Err(from_router(e)),
        };
        Ok(Conn { router, family })
    }

    /// Sends one request and returns the payloads of its replies. With
    /// `dump`, the request is a NLM_F_DUMP and every message of the
    /// multipart reply is returned; otherwise it carries NLM_F_ACK and the
    /// kernel's ACK (or error) ends it.
    pub fn request(&self, cmd: u8, attrs: Vec<Attr>, dump: bool) -> Result<Vec<Msg>, NlError> {
        let hdr = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
            .cmd(cmd)
            .version(DOCKFW_GENL_VERSION as u8)
            .attrs(attrs.into_iter().collect::<GenlBuffer<u16, Buffer>>())
            .build()
            .map_err(|e| NlError::Io(e.to_string()))?;
        let flags = if dump { NlmF::DUMP } else { NlmF::ACK };
        let recv = self
            .router
            .send::<u16, Msg, u16, Msg>(self.family, flags, NlPayload::Payload(hdr))
            .map_err(from_router)?;
        let mut out = Vec::new();
        for m in recv {
            let m = m.map_err(from_router)?;
            match m.nl_payload() {
                NlPayload::Payload(p) => out.push(p.clone()),
                NlPayload::Err(e) => return Err(from_nlmsgerr(e)),
                NlPayload::DumpExtAck(e) if *e.error() != 0 => return Err(from_nlmsgerr(e)),
                NlPayload::Ack(_) | NlPayload::DumpExtAck(_) | NlPayload::Empty => {}
            }
        }
        Ok(out)
    }
}

/// The first attribute of type `ty` in a reply.
pub fn find(m: &Msg, ty: u16) -> Option<&Attr> {
    m.attrs().iter().find(|a| *a.nla_type().nla_type() == ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{attr, attr_str};
    use neli::consts::genl::{CtrlAttr, CtrlCmd};

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
        let e0 = conn.request(get, vec![attr_str(name, "no-such-family-xyz")], false);
        eprintln!("first: {e0:?}");
        let e0 = conn.request(get, vec![attr(name, b"no-such-family-xyz".to_vec())], false);
        eprintln!("nonul: {e0:?}");
        eprintln!("resolve: {:?}", conn.router.resolve_genl_family("no-such-family-xyz"));
        eprintln!("open: {:?}", Conn::open_family("no-such-family-xyz").err());
        // A do request with a reply, then the ACK.
        let msgs = conn.request(get, vec![attr_str(name, "nlctrl")], false).unwrap();
        assert_eq!(msgs.len(), 1);
        assert!(find(&msgs[0], id).is_some());
        // A dump: one message per family, ended by NLMSG_DONE.
        let all = conn.request(get, vec![], true).unwrap();
        assert!(all.iter().any(|m| find(m, name).is_some_and(|a| a.payload().as_ref() == b"nlctrl\0")));
        // An error ACK: unknown family.
        let e = conn.request(get, vec![attr_str(name, "no-such-family-xyz")], false).unwrap_err();
        assert!(matches!(e, NlError::Kernel { errno: libc::ENOENT, .. }), "{e:?}");
        // Strict validation failure: the extended ACK message is picked up.
        let e = conn.request(get, vec![attr(id, vec![1])], false).unwrap_err();
        match e {
            NlError::Kernel { errno: libc::EINVAL, msg, .. } => {
                assert!(msg.is_some_and(|m| !m.is_empty()), "extack message expected");
            }
            e => panic!("{e:?}"),
        }
        // A missing family is reported as such.
        assert!(matches!(Conn::open_family("no-such-family-xyz"), Err(NlError::NoFamily(_))));
    }
}
