// SPDX-License-Identifier: GPL-2.0
//! Raw generic-netlink requests for the bad-input scenarios: dockfwctl only
//! sends well-formed messages, so malformed ones (wrong types, sizes,
//! unknown attributes, missing attributes) are built here by hand.
//!
//! `dfwprobe nl CMD [ATTR...]` where ATTR is `TYPE:ID=VALUE`:
//! `u8:4=1`, `u16:12=80`, `u32:3=7`, `u64:26=1`, `hex:7=0a000001`,
//! `str:15=docker0`, `flag:18`, `nest:2[ ...attrs... ]` (a nest ends at `]`).
//! Prints `NLOK` or `NLERR <errno> <extack message>`; exit 0 either way.

use std::mem::size_of;

pub(crate) const NETLINK_GENERIC: i32 = 16;
pub(crate) const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub(crate) const NLM_F_REQUEST: u16 = 1;
pub(crate) const NLM_F_ACK: u16 = 4;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
const NLM_F_DUMP: u16 = 0x300;
const NLMSGERR_ATTR_MSG: u16 = 1;
pub(crate) const NETLINK_EXT_ACK: i32 = 11;
pub(crate) const SOL_NETLINK: i32 = 270;

/// Appends an attribute; a payload too big for the 16-bit length is cut so
/// the attribute stays well formed (the fuzzer relies on that).
pub(crate) fn put_attr(buf: &mut Vec<u8>, ty: u16, data: &[u8]) {
    let len = (4 + data.len()).min(0xffff);
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&data[..len - 4]);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// Parses attribute specs from `args`, stopping at a `]`.
fn attrs(args: &mut std::slice::Iter<'_, String>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(a) = args.next() {
        if a == "]" {
            return Ok(out);
        }
        let (kind, rest) = a.split_once(':').ok_or(format!("bad attr {a}"))?;
        let (id, val) = match rest.split_once('=') {
            Some((i, v)) => (i, v),
            None => (rest.trim_end_matches('['), ""),
        };
        let id: u16 = id.trim_end_matches('[').parse().map_err(|_| format!("bad id in {a}"))?;
        let num = || -> Result<u64, String> { val.parse().map_err(|_| format!("bad number in {a}")) };
        match kind {
            "u8" => put_attr(&mut out, id, &(num()? as u8).to_ne_bytes()),
            "u16" => put_attr(&mut out, id, &(num()? as u16).to_ne_bytes()),
            "u32" => put_attr(&mut out, id, &(num()? as u32).to_ne_bytes()),
            "u64" => put_attr(&mut out, id, &num()?.to_ne_bytes()),
            "str" => {
                let mut v = val.as_bytes().to_vec();
                v.push(0);
                put_attr(&mut out, id, &v)
            }
            "hex" => {
                let v: Result<Vec<u8>, _> =
                    (0..val.len()).step_by(2).map(|i| u8::from_str_radix(&val[i..i + 2], 16)).collect();
                put_attr(&mut out, id, &v.map_err(|_| format!("bad hex in {a}"))?)
            }
            "flag" => put_attr(&mut out, id, &[]),
            "nest" => {
                let inner = attrs(args)?;
                put_attr(&mut out, id | 0x8000, &inner)
            }
            _ => return Err(format!("unknown attr kind {kind}")),
        }
    }
    Ok(out)
}

pub(crate) struct Sock(pub(crate) i32);

impl Drop for Sock {
    fn drop(&mut self) {
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(self.0) };
    }
}

pub(crate) fn open() -> Result<Sock, String> {
    // SAFETY: plain socket syscalls with valid arguments.
    unsafe {
        let fd = libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, NETLINK_GENERIC);
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let one: i32 = 1;
        libc::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, (&one as *const i32).cast(), 4);
        Ok(Sock(fd))
    }
}

/// Sends one netlink message to the kernel.
pub(crate) fn send(s: &Sock, m: &[u8]) -> Result<(), String> {
    // SAFETY: `m` is a valid buffer of `m.len()` bytes; `sa` is a zeroed
    // sockaddr_nl (pid 0: the kernel is the peer) of the size passed.
    let n = unsafe {
        let mut sa: libc::sockaddr_nl = std::mem::zeroed();
        sa.nl_family = libc::AF_NETLINK as u16;
        libc::sendto(s.0, m.as_ptr().cast(), m.len(), 0, (&sa as *const libc::sockaddr_nl).cast(), size_of::<libc::sockaddr_nl>() as u32)
    };
    if n < 0 {
        return Err(format!("sendto: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Sends one request and returns the replies to it (by sequence number),
/// up to and including its NLMSG_ERROR (the ACK or the error).
fn request(s: &Sock, family: u16, cmd: u8, payload: &[u8], seq: u32) -> Result<Vec<Vec<u8>>, String> {
    request_flags(s, family, cmd, NLM_F_REQUEST | NLM_F_ACK, payload, seq)
}

/// As `request`, with the given flags (a dump: NLM_F_DUMP), up to and
/// including its NLMSG_ERROR or NLMSG_DONE.
fn request_flags(s: &Sock, family: u16, cmd: u8, flags: u16, payload: &[u8], seq: u32) -> Result<Vec<Vec<u8>>, String> {
    let mut m = Vec::new();
    let len = 16 + 4 + payload.len();
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&family.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[cmd, 1, 0, 0]);
    m.extend_from_slice(payload);
    send(s, &m)?;
    let mut out = Vec::new();
    loop {
        let mut buf = vec![0u8; 65536];
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(s.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(format!("recv: {}", std::io::Error::last_os_error()));
        }
        buf.truncate(n as usize);
        if buf.len() < 16 || u32::from_ne_bytes(buf[8..12].try_into().unwrap()) != seq {
            continue;
        }
        let done = matches!(u16::from_ne_bytes(buf[4..6].try_into().unwrap()), NLMSG_ERROR | NLMSG_DONE)
            || matches!(last_message(&buf).get(4..6).map(|t| u16::from_ne_bytes(t.try_into().unwrap())), Some(NLMSG_DONE));
        out.push(buf);
        if done {
            return Ok(out);
        }
    }
}

/// The last netlink message of a datagram.
fn last_message(buf: &[u8]) -> &[u8] {
    let mut off = 0;
    let mut last = buf;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
        if len < 16 || off + len > buf.len() {
            break;
        }
        last = &buf[off..off + len];
        off += (len + 3) & !3;
    }
    last
}

/// First message of a reply: (type, error code if NLMSG_ERROR or
/// NLMSG_DONE, extack msg, payload). A dump that fails ends with
/// NLMSG_DONE carrying the errno, its extended-ack TLVs right after it.
fn parse_reply(buf: &[u8]) -> (u16, Option<i32>, String, Vec<u8>) {
    if buf.len() < 16 {
        return (0, Some(-1), "short reply".into(), vec![]);
    }
    let len = u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize;
    let ty = u16::from_ne_bytes(buf[4..6].try_into().unwrap());
    let flags = u16::from_ne_bytes(buf[6..8].try_into().unwrap());
    let body = &buf[16..len.min(buf.len())];
    if ty == NLMSG_DONE && body.len() >= 4 {
        let err = i32::from_ne_bytes(body[0..4].try_into().unwrap());
        return (ty, Some(err), ack_msg(&body[4..]), vec![]);
    }
    if ty != NLMSG_ERROR {
        return (ty, None, String::new(), body.to_vec());
    }
    let err = i32::from_ne_bytes(body[0..4].try_into().unwrap());
    // The error is followed by the request header (and its payload unless
    // NLM_F_CAPPED, 0x100), then the extended-ack TLVs (NLM_F_ACK_TLVS, 0x200).
    let mut msg = String::new();
    if flags & 0x200 != 0 {
        let orig_len = u32::from_ne_bytes(body[4..8].try_into().unwrap()) as usize;
        let off = 4 + if flags & 0x100 != 0 { 16 } else { orig_len };
        msg = ack_msg(body.get(off..).unwrap_or(&[]));
    }
    (ty, Some(err), msg, vec![])
}

/// NLMSGERR_ATTR_MSG among extended-ack TLVs, or "".
fn ack_msg(tlvs: &[u8]) -> String {
    let mut off = 0;
    while off + 4 <= tlvs.len() {
        let alen = u16::from_ne_bytes(tlvs[off..off + 2].try_into().unwrap()) as usize;
        let aty = u16::from_ne_bytes(tlvs[off + 2..off + 4].try_into().unwrap());
        if alen < 4 || off + alen > tlvs.len() {
            break;
        }
        if aty == NLMSGERR_ATTR_MSG {
            return String::from_utf8_lossy(&tlvs[off + 4..off + alen]).trim_end_matches('\0').to_string();
        }
        off += (alen + 3) & !3;
    }
    String::new()
}

pub(crate) fn family_id(s: &Sock, name: &str) -> Result<u16, String> {
    let mut p = Vec::new();
    let mut n = name.as_bytes().to_vec();
    n.push(0);
    put_attr(&mut p, CTRL_ATTR_FAMILY_NAME, &n);
    let replies = request(s, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, &p, 1)?;
    let (_, err, msg, body) = parse_reply(&replies[0]);
    if let Some(e) = err.filter(|&e| e != 0) {
        return Err(format!("family {name} not found: {e} {msg}"));
    }
    let mut off = 4;
    while off + 4 <= body.len() {
        let alen = u16::from_ne_bytes(body[off..off + 2].try_into().unwrap()) as usize;
        let aty = u16::from_ne_bytes(body[off + 2..off + 4].try_into().unwrap());
        if alen < 4 {
            break;
        }
        if aty == CTRL_ATTR_FAMILY_ID {
            return Ok(u16::from_ne_bytes(body[off + 4..off + 6].try_into().unwrap()));
        }
        off += (alen + 3) & !3;
    }
    Err("no family id in reply".into())
}

/// `dfwprobe nl CMD [ATTR...] [--- CMD [ATTR...]]... [--hold]`: each request
/// in turn on one socket (a REPLACE's BEGIN, APPENDs and COMMIT must share
/// their socket), one result line per request: NLOK, NLERR errno msg,
/// NLFAIL. `--hold` keeps the socket open (and so whatever the kernel ties
/// to it: trace filters) until the process is killed.
pub fn run(args: &[String]) -> i32 {
    let (args, hold) = match args.split_last() {
        Some((last, rest)) if last == "--hold" => (rest, true),
        _ => (args, false),
    };
    let mut reqs = Vec::new();
    for part in args.split(|a| a == "---") {
        let mut it = part.iter();
        // `dump:CMD` sends the request as a dump (NLM_F_DUMP).
        let first = it.next().map(String::as_str).unwrap_or("");
        let (dump, c) = first.strip_prefix("dump:").map_or((false, first), |c| (true, c));
        let Ok(cmd) = c.parse::<u8>() else {
            eprintln!("usage: dfwprobe nl [dump:]CMD [ATTR...] [--- CMD [ATTR...]]...");
            return 64;
        };
        match attrs(&mut it) {
            Ok(p) => reqs.push((cmd, dump, p)),
            Err(e) => {
                eprintln!("dfwprobe nl: {e}");
                return 64;
            }
        }
    }
    let (sock, family) = match open().and_then(|s| family_id(&s, "dockfw").map(|f| (s, f))) {
        Ok(x) => x,
        Err(e) => {
            println!("NLFAIL {e}");
            return 0;
        }
    };
    // Sequence numbers from 2 (1 was the family lookup), one per request.
    for (seq, (cmd, dump, payload)) in (2..).zip(reqs) {
        // A dump is answered by its parts and NLMSG_DONE (no ACK asked).
        let flags = if dump { NLM_F_REQUEST | NLM_F_DUMP } else { NLM_F_REQUEST | NLM_F_ACK };
        match request_flags(&sock, family, cmd, flags, &payload, seq) {
            Ok(bufs) => match parse_reply(last_message(bufs.last().expect("at least the ack"))) {
                (_, Some(0), _, _) | (_, None, _, _) => println!("NLOK"),
                (_, Some(e), msg, _) => println!("NLERR {} {}", -e, msg),
            },
            Err(e) => println!("NLFAIL {e}"),
        }
    }
    if hold {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        loop {
            std::thread::park();
        }
    }
    0
}

/// Drops to uid/gid 65534 (no capabilities) and execs the rest of argv.
pub fn as_nobody(args: &[String]) -> i32 {
    use std::os::unix::process::CommandExt;
    // SAFETY: plain credential syscalls.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
            eprintln!("as-nobody: {}", std::io::Error::last_os_error());
            return 70;
        }
    }
    let e = std::process::Command::new(&args[0]).args(&args[1..]).exec();
    eprintln!("as-nobody: exec {}: {e}", args[0]);
    127
}
