// SPDX-License-Identifier: GPL-2.0
//! `dockfwctl trace`: trace events (`DOCKFW_CMD_TRACE_EVENT` multicast
//! messages) decoded from wire bytes, their text and JSON forms, grouping
//! by skb, and namespace names from `/run/netns`. Everything here is
//! pure except `NetnsNames`, which reads a directory it is given.

use crate::model::{Addr, Hook};
use crate::netlink::parse_attrs;
use crate::uapi::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One trace event; every field may be absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub ts_ns: Option<u64>,
    pub skb_id: Option<u32>,
    pub hook: Option<u8>,
    pub family: Option<u8>,
    pub netns: Option<u32>,
    pub netns_init: bool,
    /// Not on the wire: filled in from `/run/netns`.
    pub netns_name: Option<String>,
    /// Not on the wire: the Docker container whose namespace this is.
    pub netns_container: Option<String>,
    /// Not on the wire: the running containers that have these addresses.
    pub saddr_container: Option<String>,
    pub daddr_container: Option<String>,
    pub iif: Option<String>,
    pub iifindex: Option<u32>,
    pub oif: Option<String>,
    pub oifindex: Option<u32>,
    pub proto: Option<u8>,
    pub saddr: Option<Addr>,
    pub daddr: Option<Addr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub tcp_flags: Option<u8>,
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
    pub icmp_id: Option<u16>,
    pub ip_id: Option<u32>,
    pub len: Option<u32>,
    pub ct_state: Option<u32>,
    pub ct_reply: bool,
    pub ct_dnat: bool,
    pub orig_saddr: Option<Addr>,
    pub orig_daddr: Option<Addr>,
    pub orig_sport: Option<u16>,
    pub orig_dport: Option<u16>,
    pub verdict: Option<u8>,
    pub rule_id: Option<u32>,
    /// The first matching filter.
    pub trace_id: Option<u32>,
    /// Every matching filter (the kernel repeats DOCKFW_EV_TRACE_ID), so a
    /// session can keep only the events its own filters asked for.
    pub trace_ids: Vec<u32>,
}

fn fixed<const N: usize>(ty: u16, b: &[u8]) -> Result<[u8; N], String> {
    b.try_into().map_err(|_| format!("event attribute {ty}: {} bytes, expected {N}", b.len()))
}

fn ev_addr(ty: u16, b: &[u8]) -> Result<Addr, String> {
    match b.len() {
        4 => Ok(Addr::V4(fixed(ty, b)?)),
        16 => Ok(Addr::V6(fixed(ty, b)?)),
        n => Err(format!("event attribute {ty}: address of {n} bytes")),
    }
}

fn ev_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Decodes the payload of a `DOCKFW_A_EVENT` nest. Unknown attributes and
/// `DOCKFW_EV_PAD` are ignored; a known one of the wrong size is an error.
pub fn decode_event(nest: &[u8]) -> Result<Event, String> {
    let mut e = Event::default();
    for (ty, b) in parse_attrs(nest)? {
        let u8_ = || fixed::<1>(ty, b).map(|x| x[0]);
        let u16_ = || fixed::<2>(ty, b).map(u16::from_ne_bytes);
        let u32_ = || fixed::<4>(ty, b).map(u32::from_ne_bytes);
        match ty {
            DOCKFW_EV_TIMESTAMP => e.ts_ns = Some(fixed::<8>(ty, b).map(u64::from_ne_bytes)?),
            DOCKFW_EV_SKB_ID => e.skb_id = Some(u32_()?),
            DOCKFW_EV_HOOK => e.hook = Some(u8_()?),
            DOCKFW_EV_FAMILY => e.family = Some(u8_()?),
            DOCKFW_EV_NETNS => e.netns = Some(u32_()?),
            DOCKFW_EV_NETNS_INIT => e.netns_init = true,
            DOCKFW_EV_IIFNAME => e.iif = Some(ev_str(b)),
            DOCKFW_EV_IIFINDEX => e.iifindex = Some(u32_()?),
            DOCKFW_EV_OIFNAME => e.oif = Some(ev_str(b)),
            DOCKFW_EV_OIFINDEX => e.oifindex = Some(u32_()?),
            DOCKFW_EV_PROTO => e.proto = Some(u8_()?),
            DOCKFW_EV_SADDR => e.saddr = Some(ev_addr(ty, b)?),
            DOCKFW_EV_DADDR => e.daddr = Some(ev_addr(ty, b)?),
            DOCKFW_EV_SPORT => e.sport = Some(u16_()?),
            DOCKFW_EV_DPORT => e.dport = Some(u16_()?),
            DOCKFW_EV_TCP_FLAGS => e.tcp_flags = Some(u8_()?),
            DOCKFW_EV_ICMP_TYPE => e.icmp_type = Some(u8_()?),
            DOCKFW_EV_ICMP_CODE => e.icmp_code = Some(u8_()?),
            DOCKFW_EV_ICMP_ID => e.icmp_id = Some(u16_()?),
            DOCKFW_EV_IP_ID => e.ip_id = Some(u32_()?),
            DOCKFW_EV_LEN => e.len = Some(u32_()?),
            DOCKFW_EV_CT_STATE => e.ct_state = Some(u32_()?),
            DOCKFW_EV_CT_REPLY => e.ct_reply = true,
            DOCKFW_EV_CT_DNAT => e.ct_dnat = true,
            DOCKFW_EV_ORIG_SADDR => e.orig_saddr = Some(ev_addr(ty, b)?),
            DOCKFW_EV_ORIG_DADDR => e.orig_daddr = Some(ev_addr(ty, b)?),
            DOCKFW_EV_ORIG_SPORT => e.orig_sport = Some(u16_()?),
            DOCKFW_EV_ORIG_DPORT => e.orig_dport = Some(u16_()?),
            DOCKFW_EV_VERDICT => e.verdict = Some(u8_()?),
            DOCKFW_EV_RULE_ID => e.rule_id = Some(u32_()?),
            DOCKFW_EV_TRACE_ID => {
                let v = u32_()?;
                e.trace_id.get_or_insert(v);
                e.trace_ids.push(v);
            }
            _ => {}
        }
    }
    Ok(e)
}

/// The trace events of one received datagram (a netlink message stream).
/// Messages of other types or commands, and ACKs, are skipped; an event
/// that does not decode is returned as its error.
/// The netlink messages of a datagram as (nlmsg_type, payload after the
/// 16-byte header); a message whose length runs past the datagram ends the
/// walk with an error.
fn messages(mut b: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8]), String>> {
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

pub fn parse_datagram(b: &[u8], family: u16) -> Vec<Result<Event, String>> {
    let mut out = Vec::new();
    for m in messages(b) {
        let (ty, payload) = match m {
            Ok(m) => m,
            Err(e) => {
                out.push(Err(e));
                break;
            }
        };
        if ty == family && payload.len() >= 4 && payload[0] == DOCKFW_CMD_TRACE_EVENT {
            match parse_attrs(&payload[4..]) {
                Ok(attrs) => {
                    if let Some((_, nest)) = attrs.iter().find(|(t, _)| *t == DOCKFW_A_EVENT) {
                        out.push(decode_event(nest));
                    }
                }
                Err(e) => out.push(Err(e)),
            }
        }
    }
    out
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

// ---------------------------------------------------------------- names

pub fn hook_name(h: u8) -> String {
    match Hook::from_index(u32::from(h)) {
        Some(h) => h.name().to_string(),
        None => format!("HOOK{h}"),
    }
}

pub fn proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "ICMP",
        2 => "IGMP",
        6 => "TCP",
        17 => "UDP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        132 => "SCTP",
        136 => "UDPLite",
        _ => return None,
    })
}

/// `TCP`, or `proto=N` for a number without a name, `IP` when absent.
pub fn proto_label(p: Option<u8>) -> String {
    match p {
        Some(p) => proto_name(p).map_or_else(|| format!("proto={p}"), str::to_string),
        None => "IP".into(),
    }
}

pub fn ct_state_name(s: u32) -> String {
    match s {
        DOCKFW_CTSTATE_NEW => "new".into(),
        DOCKFW_CTSTATE_ESTABLISHED => "established".into(),
        DOCKFW_CTSTATE_RELATED => "related".into(),
        DOCKFW_CTSTATE_UNTRACKED => "untracked".into(),
        n => format!("{n:#x}"),
    }
}

pub fn verdict_name(v: u8) -> String {
    match u32::from(v) {
        DOCKFW_VERDICT_ACCEPT => "accept".into(),
        DOCKFW_VERDICT_DROP => "drop".into(),
        n => format!("verdict={n}"),
    }
}

/// TCP flags as the kernel's dmesg trace prints them.
pub fn tcp_flags_text(f: u8) -> String {
    [(0x02, 'S'), (0x10, '.'), (0x01, 'F'), (0x04, 'R'), (0x08, 'P')]
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|&(_, c)| c)
        .collect()
}

/// `10.0.0.1:80`, `[fd00::1]:80`, `10.0.0.1` (no port), `?` (no address).
pub fn endpoint(a: Option<&Addr>, port: Option<u16>) -> String {
    match (a, port) {
        (None, Some(p)) => format!("?:{p}"),
        (None, None) => "?".into(),
        (Some(a @ Addr::V4(_)), Some(p)) => format!("{a}:{p}"),
        (Some(a @ Addr::V6(_)), Some(p)) => format!("[{a}]:{p}"),
        (Some(a), None) => a.to_string(),
    }
}

/// Where a hook ran: `host`, the namespace's name, its inode, or `?`.
pub fn location(e: &Event) -> String {
    if e.netns_init {
        "host".into()
    } else if let Some(n) = e.netns_name.as_ref().or(e.netns_container.as_ref()) {
        n.clone()
    } else if let Some(i) = e.netns {
        i.to_string()
    } else {
        "?".into()
    }
}

/// `host:FORWARD`.
pub fn hook_at(e: &Event) -> String {
    format!("{}:{}", location(e), e.hook.map_or_else(|| "?".into(), hook_name))
}

// ---------------------------------------------------------------- text

fn ifname(name: &Option<String>, index: Option<u32>) -> String {
    match (name, index) {
        (Some(n), _) if !n.is_empty() => n.clone(),
        (_, Some(i)) => format!("#{i}"),
        _ => "-".into(),
    }
}

/// An endpoint followed by the container that has the address, if known:
/// `172.17.0.2:8080(web)`.
pub fn named_endpoint(a: Option<&Addr>, port: Option<u16>, container: Option<&String>) -> String {
    let mut s = endpoint(a, port);
    if let Some(c) = container {
        s.push_str(&format!("({c})"));
    }
    s
}

/// `TCP 10.0.0.2:40000 -> 10.0.0.1:8081 [S]`: the packet as its first
/// event saw it.
pub fn packet_text(e: &Event) -> String {
    let mut s = format!(
        "{} {} -> {}",
        proto_label(e.proto),
        named_endpoint(e.saddr.as_ref(), e.sport, e.saddr_container.as_ref()),
        named_endpoint(e.daddr.as_ref(), e.dport, e.daddr_container.as_ref())
    );
    if let Some(f) = e.tcp_flags {
        s.push_str(&format!(" [{}]", tcp_flags_text(f)));
    }
    if let Some(t) = e.icmp_type {
        s.push_str(&format!(" type={t}"));
    }
    if let Some(c) = e.icmp_code {
        s.push_str(&format!(" code={c}"));
    }
    if let Some(i) = e.icmp_id {
        s.push_str(&format!(" id={i}"));
    }
    s
}

/// One event line of a group (without the trailing newline).
pub fn event_line(e: &Event) -> String {
    let ns = if e.netns_init {
        "host".to_string()
    } else {
        match (e.netns, e.netns_name.as_ref().or(e.netns_container.as_ref())) {
            (Some(i), Some(n)) => format!("{i}({n})"),
            (Some(i), None) => i.to_string(),
            (None, Some(n)) => format!("?({n})"),
            (None, None) => "?".into(),
        }
    };
    let mut s = format!(
        "  {ns} {} in={} out={} {} -> {}",
        e.hook.map_or_else(|| "?".into(), hook_name),
        ifname(&e.iif, e.iifindex),
        ifname(&e.oif, e.oifindex),
        named_endpoint(e.saddr.as_ref(), e.sport, e.saddr_container.as_ref()),
        named_endpoint(e.daddr.as_ref(), e.dport, e.daddr_container.as_ref()),
    );
    if e.ct_state.is_some() || e.orig_saddr.is_some() || e.orig_daddr.is_some() {
        s.push_str("  ct=");
        s.push_str(&e.ct_state.map_or_else(|| "?".into(), ct_state_name));
        if e.ct_reply {
            s.push_str(",reply");
        }
        if e.orig_saddr.is_some() || e.orig_daddr.is_some() {
            s.push_str(&format!(
                " orig={}->{}",
                endpoint(e.orig_saddr.as_ref(), e.orig_sport),
                endpoint(e.orig_daddr.as_ref(), e.orig_dport)
            ));
        }
        if e.ct_dnat {
            s.push_str(" dnat");
        }
    }
    s.push_str(&format!(
        "  {} rule={}",
        e.verdict.map_or_else(|| "-".into(), verdict_name),
        e.rule_id.map_or_else(|| "-".into(), |r| r.to_string())
    ));
    s
}

/// A group: the skb header line, then one line per event, each ending in
/// a newline.
pub fn group_text(events: &[Event]) -> String {
    let Some(first) = events.first() else { return String::new() };
    let mut s = format!("skb {:08x}  {}\n", first.skb_id.unwrap_or(0), packet_text(first));
    for e in events {
        s.push_str(&event_line(e));
        s.push('\n');
    }
    s
}

// ---------------------------------------------------------------- JSON

/// The JSON form of an event: every field, null when absent.
#[derive(Serialize, Debug)]
pub struct JsonEvent {
    pub ts_ns: Option<u64>,
    pub skb_id: Option<u32>,
    pub hook: Option<String>,
    pub family: Option<&'static str>,
    pub netns: Option<u32>,
    pub netns_init: bool,
    pub netns_name: Option<String>,
    /// The Docker container whose namespace this is (not for the host's).
    pub netns_container: Option<String>,
    pub iif: Option<String>,
    pub iifindex: Option<u32>,
    pub oif: Option<String>,
    pub oifindex: Option<u32>,
    pub proto: Option<u8>,
    pub proto_name: Option<&'static str>,
    pub saddr: Option<String>,
    pub daddr: Option<String>,
    /// The running Docker containers that have these addresses.
    pub saddr_container: Option<String>,
    pub daddr_container: Option<String>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// Letters as in the text form (`S.` for SYN-ACK).
    pub tcp_flags: Option<String>,
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
    pub icmp_id: Option<u16>,
    pub ip_id: Option<u32>,
    pub len: Option<u32>,
    pub ct_state: Option<String>,
    pub ct_reply: bool,
    pub ct_dnat: bool,
    pub orig_saddr: Option<String>,
    pub orig_daddr: Option<String>,
    pub orig_sport: Option<u16>,
    pub orig_dport: Option<u16>,
    pub verdict: Option<String>,
    pub rule_id: Option<u32>,
    pub trace_id: Option<u32>,
}

impl JsonEvent {
    pub fn new(e: &Event) -> JsonEvent {
        let family = match e.family.map(i32::from) {
            Some(libc::NFPROTO_IPV4) => Some("ipv4"),
            Some(libc::NFPROTO_IPV6) => Some("ipv6"),
            Some(_) => None,
            None => e.saddr.or(e.daddr).map(|a| match a {
                Addr::V4(_) => "ipv4",
                Addr::V6(_) => "ipv6",
            }),
        };
        let a = |x: &Option<Addr>| x.as_ref().map(Addr::to_string);
        JsonEvent {
            ts_ns: e.ts_ns,
            skb_id: e.skb_id,
            hook: e.hook.map(hook_name),
            family,
            netns: e.netns,
            netns_init: e.netns_init,
            netns_name: e.netns_name.clone(),
            netns_container: e.netns_container.clone(),
            iif: e.iif.clone(),
            iifindex: e.iifindex,
            oif: e.oif.clone(),
            oifindex: e.oifindex,
            proto: e.proto,
            proto_name: e.proto.and_then(proto_name),
            saddr: a(&e.saddr),
            daddr: a(&e.daddr),
            saddr_container: e.saddr_container.clone(),
            daddr_container: e.daddr_container.clone(),
            sport: e.sport,
            dport: e.dport,
            tcp_flags: e.tcp_flags.map(tcp_flags_text),
            icmp_type: e.icmp_type,
            icmp_code: e.icmp_code,
            icmp_id: e.icmp_id,
            ip_id: e.ip_id,
            len: e.len,
            ct_state: e.ct_state.map(ct_state_name),
            ct_reply: e.ct_reply,
            ct_dnat: e.ct_dnat,
            orig_saddr: a(&e.orig_saddr),
            orig_daddr: a(&e.orig_daddr),
            orig_sport: e.orig_sport,
            orig_dport: e.orig_dport,
            verdict: e.verdict.map(verdict_name),
            rule_id: e.rule_id,
            trace_id: e.trace_id,
        }
    }
}

pub fn json_line(e: &Event) -> String {
    serde_json::to_string(&JsonEvent::new(e)).expect("JSON")
}

// ---------------------------------------------------------------- groups

/// A group is printed when no event arrived for its skb for this long.
pub const GROUP_IDLE: Duration = Duration::from_millis(200);
/// ... or when it has this many events.
pub const GROUP_MAX: usize = 16;

struct Group {
    skb: u32,
    events: Vec<Event>,
    last: Instant,
}

/// Buffers events per skb id, in order of each skb's first event.
#[derive(Default)]
pub struct Grouper {
    groups: Vec<Group>,
}

impl Grouper {
    /// Adds an event; returns its group if that is now full.
    pub fn push(&mut self, e: Event, now: Instant) -> Option<Vec<Event>> {
        let skb = e.skb_id.unwrap_or(0);
        let i = match self.groups.iter().position(|g| g.skb == skb) {
            Some(i) => i,
            None => {
                self.groups.push(Group { skb, events: Vec::new(), last: now });
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[i];
        g.events.push(e);
        g.last = now;
        if g.events.len() >= GROUP_MAX {
            return Some(self.groups.remove(i).events);
        }
        None
    }

    /// Removes and returns the groups idle for `GROUP_IDLE` at `now`.
    pub fn due(&mut self, now: Instant) -> Vec<Vec<Event>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.groups.len() {
            if now.saturating_duration_since(self.groups[i].last) >= GROUP_IDLE {
                out.push(self.groups.remove(i).events);
            } else {
                i += 1;
            }
        }
        out
    }

    /// When the next group becomes due.
    pub fn next_due(&self) -> Option<Instant> {
        self.groups.iter().map(|g| g.last + GROUP_IDLE).min()
    }

    /// Every buffered group, oldest first.
    pub fn drain(&mut self) -> Vec<Vec<Event>> {
        self.groups.drain(..).map(|g| g.events).collect()
    }
}

// ---------------------------------------------------------------- netns

pub const NETNS_DIR: &str = "/run/netns";

/// Namespace names by inode: the files of `/run/netns` (bind mounts of
/// the namespaces, `ip netns add`), whose `st_ino` is the namespace's inode.
/// The directory is read at start and again when an inode not seen before
/// turns up (at most once a second for inodes already looked up).
pub struct NetnsNames {
    dir: PathBuf,
    names: HashMap<u64, String>,
    asked: HashSet<u64>,
    scanned: Option<Instant>,
}

impl NetnsNames {
    pub fn new(dir: impl AsRef<Path>) -> NetnsNames {
        let mut n = NetnsNames { dir: dir.as_ref().to_path_buf(), names: HashMap::new(), asked: HashSet::new(), scanned: None };
        n.scan();
        n
    }

    fn scan(&mut self) {
        use std::os::unix::fs::MetadataExt;
        self.scanned = Some(Instant::now());
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return };
        let mut names = HashMap::new();
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for ent in entries {
            if let (Ok(md), Some(name)) = (std::fs::metadata(ent.path()), ent.file_name().to_str()) {
                names.entry(md.ino()).or_insert_with(|| name.to_string());
            }
        }
        self.names = names;
    }

    /// The name of the namespace with inode `ino`, if it has one.
    pub fn name(&mut self, ino: u64) -> Option<String> {
        if let Some(n) = self.names.get(&ino) {
            return Some(n.clone());
        }
        let stale = self.scanned.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if self.asked.insert(ino) || stale {
            self.scan();
        }
        self.names.get(&ino).cloned()
    }

    /// Fills in the event's `netns_name` (not for the initial namespace).
    pub fn annotate(&mut self, e: &mut Event) {
        if !e.netns_init {
            if let Some(i) = e.netns {
                e.netns_name = self.name(u64::from(i));
            }
        }
    }
}

/// Fills in the containers of the event's addresses and namespace.
pub fn annotate_containers(names: &mut crate::docker::ContainerNames, e: &mut Event) {
    e.saddr_container = e.saddr.as_ref().and_then(|a| names.addr(a));
    e.daddr_container = e.daddr.as_ref().and_then(|a| names.addr(a));
    if !e.netns_init {
        e.netns_container = e.netns.and_then(|n| names.netns(n));
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::model::parse_addr;

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

    /// Builds netlink attributes on the wire, independently of the decoder.
    pub fn raw_attr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 4) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize((v.len() + 3) & !3, 0);
        v
    }

    fn ip(s: &str) -> Vec<u8> {
        parse_addr(s).unwrap().bytes().to_vec()
    }

    /// An event nest with every attribute, PAD attributes before the u64
    /// and an unknown attribute.
    fn full_event_attrs(v6: bool) -> Vec<u8> {
        let (s, d, os, od) = if v6 {
            ("fd00::2", "2001:db8::1", "fd00::2", "2001:db8::99")
        } else {
            ("10.0.0.2", "172.17.0.2", "10.0.0.2", "10.0.0.1")
        };
        let mut b = Vec::new();
        b.extend(raw_attr(DOCKFW_EV_PAD, &[]));
        b.extend(raw_attr(DOCKFW_EV_TIMESTAMP, &1_700_000_000_123_456_789u64.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_SKB_ID, &0x1a2b3c4du32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_HOOK, &[2]));
        b.extend(raw_attr(DOCKFW_EV_FAMILY, &[if v6 { 10 } else { 2 }]));
        b.extend(raw_attr(DOCKFW_EV_NETNS, &4026531840u32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_NETNS_INIT, &[]));
        b.extend(raw_attr(DOCKFW_EV_IIFNAME, b"eth0\0"));
        b.extend(raw_attr(DOCKFW_EV_IIFINDEX, &2u32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_OIFNAME, b"docker0\0"));
        b.extend(raw_attr(DOCKFW_EV_OIFINDEX, &5u32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_PROTO, &[6]));
        b.extend(raw_attr(DOCKFW_EV_SADDR, &ip(s)));
        b.extend(raw_attr(DOCKFW_EV_DADDR, &ip(d)));
        b.extend(raw_attr(DOCKFW_EV_SPORT, &40000u16.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_DPORT, &8080u16.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_TCP_FLAGS, &[0x12]));
        b.extend(raw_attr(DOCKFW_EV_ICMP_TYPE, &[8]));
        b.extend(raw_attr(DOCKFW_EV_ICMP_CODE, &[1]));
        b.extend(raw_attr(DOCKFW_EV_ICMP_ID, &777u16.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_IP_ID, &4711u32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_LEN, &60u32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_CT_STATE, &DOCKFW_CTSTATE_ESTABLISHED.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_CT_REPLY, &[]));
        b.extend(raw_attr(DOCKFW_EV_CT_DNAT, &[]));
        b.extend(raw_attr(DOCKFW_EV_ORIG_SADDR, &ip(os)));
        b.extend(raw_attr(DOCKFW_EV_ORIG_DADDR, &ip(od)));
        b.extend(raw_attr(DOCKFW_EV_ORIG_SPORT, &40000u16.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_ORIG_DPORT, &8081u16.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_VERDICT, &[1]));
        b.extend(raw_attr(DOCKFW_EV_RULE_ID, &3u32.to_ne_bytes()));
        b.extend(raw_attr(DOCKFW_EV_TRACE_ID, &9u32.to_ne_bytes()));
        b.extend(raw_attr(__DOCKFW_EV_MAX + 3, &[1, 2, 3, 4, 5]));
        b
    }

    /// A whole genetlink event message: nlmsghdr, genlmsghdr, EVENT nest.
    pub fn event_message(family: u16, cmd: u8, nest: &[u8]) -> Vec<u8> {
        let mut body = vec![cmd, 1, 0, 0];
        body.extend(raw_attr(DOCKFW_A_EVENT | 0x8000, nest));
        let mut m = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&family.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes()); // flags
        m.extend_from_slice(&0u32.to_ne_bytes()); // seq
        m.extend_from_slice(&0u32.to_ne_bytes()); // pid
        m.extend(body);
        m
    }

    #[test]
    fn decodes_every_attribute_ipv4_and_ipv6() {
        for v6 in [false, true] {
            let mut dgram = event_message(0x1d, DOCKFW_CMD_TRACE_EVENT, &full_event_attrs(v6));
            // Two messages in one datagram, the second of another family
            // and one of another command: both skipped.
            dgram.extend(event_message(0x1e, DOCKFW_CMD_TRACE_EVENT, &full_event_attrs(v6)));
            dgram.extend(event_message(0x1d, DOCKFW_CMD_STATS_GET, &full_event_attrs(v6)));
            let got = parse_datagram(&dgram, 0x1d);
            assert_eq!(got.len(), 1, "v6={v6}");
            let e = got[0].clone().unwrap();
            let (s, d, od) = if v6 { ("fd00::2", "2001:db8::1", "2001:db8::99") } else { ("10.0.0.2", "172.17.0.2", "10.0.0.1") };
            let want = Event {
                ts_ns: Some(1_700_000_000_123_456_789),
                skb_id: Some(0x1a2b3c4d),
                hook: Some(2),
                family: Some(if v6 { 10 } else { 2 }),
                netns: Some(4026531840),
                netns_init: true,
                netns_name: None,
                netns_container: None,
                saddr_container: None,
                daddr_container: None,
                iif: Some("eth0".into()),
                iifindex: Some(2),
                oif: Some("docker0".into()),
                oifindex: Some(5),
                proto: Some(6),
                saddr: parse_addr(s),
                daddr: parse_addr(d),
                sport: Some(40000),
                dport: Some(8080),
                tcp_flags: Some(0x12),
                icmp_type: Some(8),
                icmp_code: Some(1),
                icmp_id: Some(777),
                ip_id: Some(4711),
                len: Some(60),
                ct_state: Some(DOCKFW_CTSTATE_ESTABLISHED),
                ct_reply: true,
                ct_dnat: true,
                orig_saddr: parse_addr(s),
                orig_daddr: parse_addr(od),
                orig_sport: Some(40000),
                orig_dport: Some(8081),
                verdict: Some(1),
                rule_id: Some(3),
                trace_id: Some(9),
                trace_ids: vec![9],
            };
            assert_eq!(e, want, "v6={v6}");
        }
    }

    #[test]
    fn absent_attributes_stay_absent_and_bad_sizes_are_errors() {
        let nest = [raw_attr(DOCKFW_EV_SKB_ID, &7u32.to_ne_bytes()), raw_attr(DOCKFW_EV_HOOK, &[0])].concat();
        let e = decode_event(&nest).unwrap();
        assert_eq!(e, Event { skb_id: Some(7), hook: Some(0), ..Default::default() });
        assert!(!e.netns_init && !e.ct_reply && !e.ct_dnat);
        assert_eq!(decode_event(&[]).unwrap(), Event::default());
        assert!(decode_event(&raw_attr(DOCKFW_EV_SPORT, &[1, 2, 3, 4])).unwrap_err().contains("expected 2"));
        assert!(decode_event(&raw_attr(DOCKFW_EV_SADDR, &[1, 2, 3])).is_err());
        // A message without an EVENT nest yields nothing; a truncated one
        // is reported.
        let mut m = event_message(0x1d, DOCKFW_CMD_TRACE_EVENT, &[]);
        m.truncate(16 + 4);
        m[0..4].copy_from_slice(&20u32.to_ne_bytes());
        assert!(parse_datagram(&m, 0x1d).is_empty());
        let mut bad = event_message(0x1d, DOCKFW_CMD_TRACE_EVENT, &nest);
        bad[0..4].copy_from_slice(&500u32.to_ne_bytes());
        assert!(parse_datagram(&bad, 0x1d)[0].is_err());
    }

    pub fn ev(skb: u32, ns: Option<&str>, hook: u8, s: &str, sp: u16, d: &str, dp: u16) -> Event {
        Event {
            skb_id: Some(skb),
            hook: Some(hook),
            family: Some(2),
            netns_init: ns.is_none(),
            netns: Some(ns.map_or(4026531840, |n| 4026532000 + n.bytes().map(u32::from).sum::<u32>())),
            netns_name: ns.map(String::from),
            proto: Some(6),
            saddr: parse_addr(s),
            daddr: parse_addr(d),
            sport: Some(sp),
            dport: Some(dp),
            verdict: Some(0),
            ..Default::default()
        }
    }

    #[test]
    fn json_fields_and_values() {
        let e = decode_event(&full_event_attrs(false)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json_line(&e)).unwrap();
        let want = serde_json::json!({
            "ts_ns": 1_700_000_000_123_456_789u64, "skb_id": 0x1a2b3c4d, "hook": "FORWARD", "family": "ipv4",
            "netns": 4026531840u32, "netns_init": true, "netns_name": null, "netns_container": null,
            "saddr_container": null, "daddr_container": null,
            "iif": "eth0", "iifindex": 2, "oif": "docker0", "oifindex": 5,
            "proto": 6, "proto_name": "TCP", "saddr": "10.0.0.2", "daddr": "172.17.0.2",
            "sport": 40000, "dport": 8080, "tcp_flags": "S.", "icmp_type": 8, "icmp_code": 1, "icmp_id": 777,
            "ip_id": 4711, "len": 60, "ct_state": "established", "ct_reply": true, "ct_dnat": true,
            "orig_saddr": "10.0.0.2", "orig_daddr": "10.0.0.1", "orig_sport": 40000, "orig_dport": 8081,
            "verdict": "drop", "rule_id": 3, "trace_id": 9
        });
        assert_eq!(v, want);
        // One line, no newline inside.
        assert!(!json_line(&e).contains('\n'));
        // Absent values are null, flags false; IPv6 family and addresses.
        let v6 = decode_event(&full_event_attrs(true)).unwrap();
        let j = serde_json::to_value(JsonEvent::new(&v6)).unwrap();
        assert_eq!(j["family"], "ipv6");
        assert_eq!(j["daddr"], "2001:db8::1");
        let empty = serde_json::to_value(JsonEvent::new(&Event::default())).unwrap();
        assert_eq!(empty.as_object().unwrap().len(), 36);
        assert_eq!(empty["rule_id"], serde_json::Value::Null);
        assert_eq!(empty["netns_init"], false);
        assert_eq!(empty["ct_reply"], false);
        assert_eq!(empty["verdict"], serde_json::Value::Null);
        let mut named = ev(1, Some("ctr1"), 0, "10.0.0.2", 1, "10.0.0.1", 2);
        named.verdict = Some(0);
        let j = serde_json::to_value(JsonEvent::new(&named)).unwrap();
        assert_eq!((j["netns_name"].as_str(), j["verdict"].as_str(), j["hook"].as_str()), (Some("ctr1"), Some("accept"), Some("PRE_ROUTING")));
    }

    /// Docker names: after the address in text, as fields in JSON, and
    /// for a container's namespace where /run/netns has no name.
    #[test]
    fn container_names_in_text_and_json() {
        let mut a = ev(7, None, 2, "10.0.0.2", 40000, "172.17.0.3", 8080);
        a.daddr_container = Some("web".into());
        let mut b = ev(7, None, 1, "10.0.0.2", 40000, "172.17.0.3", 8080);
        b.netns_init = false;
        b.netns = Some(4026532291);
        b.netns_name = None;
        b.netns_container = Some("web".into());
        b.daddr_container = Some("web".into());
        let t = group_text(&[a.clone(), b.clone()]);
        assert!(t.starts_with("skb 00000007  TCP 10.0.0.2:40000 -> 172.17.0.3:8080(web)\n"), "{t}");
        assert!(t.contains("\n  4026532291(web) LOCAL_IN in=- out=- 10.0.0.2:40000 -> 172.17.0.3:8080(web)  accept"), "{t}");
        assert_eq!(hook_at(&b), "web:LOCAL_IN");
        // An `ip netns` name wins over the container's.
        b.netns_name = Some("c1".into());
        assert_eq!(hook_at(&b), "c1:LOCAL_IN");
        let j: serde_json::Value = serde_json::from_str(&json_line(&b)).unwrap();
        assert_eq!((j["daddr_container"].as_str(), j["saddr_container"].as_str()), (Some("web"), None));
        assert_eq!(j["netns_container"], "web");
        // Without names nothing changes.
        assert_eq!(named_endpoint(parse_addr("10.0.0.2").as_ref(), Some(1), None), "10.0.0.2:1");
    }

    #[test]
    fn text_group_layout() {
        let mut a = ev(0x1a2b3c4d, Some("ext"), 3, "10.0.0.2", 40000, "10.0.0.1", 8081);
        a.tcp_flags = Some(0x02);
        a.oif = Some("veth-ext".into());
        let mut b = ev(0x1a2b3c4d, None, 2, "10.0.0.2", 40000, "172.17.0.2", 8080);
        b.iif = Some("veth-host".into());
        b.oifindex = Some(7);
        b.ct_state = Some(DOCKFW_CTSTATE_NEW);
        b.orig_saddr = parse_addr("10.0.0.2");
        b.orig_daddr = parse_addr("10.0.0.1");
        b.orig_sport = Some(40000);
        b.orig_dport = Some(8081);
        b.ct_dnat = true;
        b.verdict = Some(1);
        b.rule_id = Some(3);
        let mut c = ev(0x1a2b3c4d, None, 4, "172.17.0.2", 8080, "10.0.0.2", 40000);
        c.netns = Some(4026532999);
        c.netns_init = false;
        c.netns_name = None;
        c.ct_state = Some(DOCKFW_CTSTATE_ESTABLISHED);
        c.ct_reply = true;
        c.verdict = None;
        assert_eq!(
            group_text(&[a, b, c]),
            "skb 1a2b3c4d  TCP 10.0.0.2:40000 -> 10.0.0.1:8081 [S]\n\
             \x20 4026532337(ext) LOCAL_OUT in=- out=veth-ext 10.0.0.2:40000 -> 10.0.0.1:8081  accept rule=-\n\
             \x20 host FORWARD in=veth-host out=#7 10.0.0.2:40000 -> 172.17.0.2:8080  ct=new orig=10.0.0.2:40000->10.0.0.1:8081 dnat  drop rule=3\n\
             \x20 4026532999 POST_ROUTING in=- out=- 172.17.0.2:8080 -> 10.0.0.2:40000  ct=established,reply  - rule=-\n"
        );
        // IPv6 in brackets with ports; ICMP without ports.
        let mut v6 = ev(1, None, 1, "10.0.0.1", 1, "10.0.0.1", 1);
        v6.saddr = parse_addr("fd00::2");
        v6.daddr = parse_addr("fd00::1");
        v6.tcp_flags = Some(0x11);
        assert_eq!(packet_text(&v6), "TCP [fd00::2]:1 -> [fd00::1]:1 [.F]");
        assert!(event_line(&v6).contains(" [fd00::2]:1 -> [fd00::1]:1  accept"));
        let icmp = Event {
            proto: Some(1),
            saddr: parse_addr("10.0.0.2"),
            daddr: parse_addr("10.0.0.1"),
            icmp_type: Some(8),
            icmp_code: Some(0),
            icmp_id: Some(7),
            ..Default::default()
        };
        assert_eq!(packet_text(&icmp), "ICMP 10.0.0.2 -> 10.0.0.1 type=8 code=0 id=7");
        assert_eq!(event_line(&icmp), "  ? ? in=- out=- 10.0.0.2 -> 10.0.0.1  - rule=-");
        assert_eq!(tcp_flags_text(0x1f), "S.FRP");
    }

    #[test]
    fn grouping_by_skb_idle_time_and_size() {
        let t0 = Instant::now();
        let mut g = Grouper::default();
        let e = |skb| Event { skb_id: Some(skb), ..Default::default() };
        assert!(g.push(e(1), t0).is_none());
        assert!(g.push(e(2), t0 + Duration::from_millis(50)).is_none());
        assert!(g.push(e(1), t0 + Duration::from_millis(100)).is_none());
        assert_eq!(g.next_due(), Some(t0 + Duration::from_millis(250)));
        assert!(g.due(t0 + Duration::from_millis(249)).is_empty());
        let due = g.due(t0 + Duration::from_millis(290));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].len(), 1);
        assert_eq!(due[0][0].skb_id, Some(2));
        // skb 1 was refreshed at 100 ms.
        assert_eq!(g.next_due(), Some(t0 + Duration::from_millis(300)));
        let due = g.due(t0 + Duration::from_millis(300));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].len(), 2);
        // A full group comes out at once.
        for i in 0..GROUP_MAX - 1 {
            assert!(g.push(e(5), t0 + Duration::from_millis(i as u64)).is_none());
        }
        assert_eq!(g.push(e(5), t0).map(|v| v.len()), Some(GROUP_MAX));
        g.push(e(8), t0);
        g.push(e(9), t0);
        let all = g.drain();
        assert_eq!(all.iter().map(|v| v[0].skb_id.unwrap()).collect::<Vec<_>>(), vec![8, 9]);
        assert!(g.next_due().is_none());
    }

    #[test]
    fn netns_names_from_a_directory() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("dockfwctl-netns-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ctr1"), b"").unwrap();
        std::fs::write(dir.join("ext"), b"").unwrap();
        let ino = |n: &str| std::fs::metadata(dir.join(n)).unwrap().ino();
        let mut names = NetnsNames::new(&dir);
        assert_eq!(names.name(ino("ctr1")).as_deref(), Some("ctr1"));
        assert_eq!(names.name(ino("ext")).as_deref(), Some("ext"));
        // A namespace named after the start is found on its first sight.
        std::fs::write(dir.join("late"), b"").unwrap();
        assert_eq!(names.name(ino("late")).as_deref(), Some("late"));
        assert_eq!(names.name(1), None);
        // Events are annotated, except in the initial namespace.
        let mut e = Event { netns: Some(ino("ctr1") as u32), ..Default::default() };
        if u64::from(e.netns.unwrap()) == ino("ctr1") {
            names.annotate(&mut e);
            assert_eq!(e.netns_name.as_deref(), Some("ctr1"));
            assert_eq!(location(&e), "ctr1");
            assert!(event_line(&e).starts_with(&format!("  {}(ctr1) ", ino("ctr1"))));
        }
        let mut h = Event { netns: Some(ino("ctr1") as u32), netns_init: true, ..Default::default() };
        names.annotate(&mut h);
        assert_eq!(h.netns_name, None);
        assert_eq!(location(&h), "host");
        // A missing directory means no names, not an error.
        let mut none = NetnsNames::new(dir.join("missing"));
        assert_eq!(none.name(ino("ctr1")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
