// SPDX-License-Identifier: GPL-2.0
//! A trace event as the kernel multicasts it on the family's "trace" group:
//! a `DOCKFW_CMD_TRACE_EVENT` message holding one `DOCKFW_A_EVENT` nest of
//! `DOCKFW_EV_*` attributes (hook, family, namespace, interfaces, the
//! packet's addresses, ports, TCP flags and ICMP fields, the conntrack state
//! and original tuple, the verdict, the deciding rule and the matching
//! filters), decoded from the bytes of a received datagram. The fields that
//! are not on the wire (namespace and container names) are filled in later
//! by `netns` and the trace command.

use crate::model::Addr;
use crate::nl::attr::parse_attrs;
use crate::nl::conn::messages;
use crate::uapi::*;

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

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::model::parse_addr;

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
    pub fn full_event_attrs(v6: bool) -> Vec<u8> {
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
}
