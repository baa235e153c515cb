// SPDX-License-Identifier: GPL-2.0
//! How a trace event reads: hook, protocol, conntrack state and verdict
//! names (NF_INET_* hooks as PRE_ROUTING...POST_ROUTING, IP protocol
//! numbers, `DOCKFW_CTSTATE_*`, `DOCKFW_VERDICT_*`), endpoints, where a
//! hook ran (`host`, a namespace's name or inode); the text form (a group
//! of one skb's events: a header line with the packet, one line per hook)
//! and the JSON form (one object per event, every field, null when
//! absent). Pure.

use super::event::Event;
use crate::model::{Addr, Hook};
use crate::uapi::*;
use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_addr;
    use crate::trace::event::decode_event;
    use crate::trace::event::tests::{ev, full_event_attrs};

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
}
