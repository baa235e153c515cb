// SPDX-License-Identifier: GPL-2.0
//! The dockfw rule on the wire: a rule to and from its `DOCKFW_A_RULE` nest
//! of `DOCKFW_RA_*` attributes (verdict, priority, hook mask as
//! NF_INET_* bits, NFPROTO family, addresses with prefix lengths, port
//! ranges, interface names with `+` wildcards, network namespace, conntrack
//! states as the uAPI's `DOCKFW_CTSTATE_*` bits, comment, container names,
//! the inactive flag), the counters a dump adds, and the JSON view of a
//! listed rule. The rule encoder writes attribute bytes directly, so a
//! whole ruleset can be packed into `DOCKFW_A_RULES` nests.

use super::attr::{attr, nest_raw, parse_attrs, put, put_str, Attr, NLA_F_NESTED};
use crate::model::{Addr, CtState, Family, Hook};
use crate::rule_syntax::{hook_keyword, write_rule};
use crate::rules::{Action, CtrRole, IfMatch, NetnsMatch, PortRange, Prefix, Rule};
use crate::uapi::*;
use neli::attr::Attribute;
use serde::Serialize;

fn verdict(a: Action) -> u8 {
    let v = match a {
        Action::Accept => DOCKFW_VERDICT_ACCEPT,
        Action::Drop => DOCKFW_VERDICT_DROP,
        Action::Log => DOCKFW_VERDICT_LOG,
    };
    v as u8
}

fn action(v: u8) -> Option<Action> {
    match u32::from(v) {
        DOCKFW_VERDICT_ACCEPT => Some(Action::Accept),
        DOCKFW_VERDICT_DROP => Some(Action::Drop),
        DOCKFW_VERDICT_LOG => Some(Action::Log),
        _ => None,
    }
}

pub fn family_nfproto(f: Family) -> u8 {
    match f {
        Family::Ipv4 => libc::NFPROTO_IPV4 as u8,
        Family::Ipv6 => libc::NFPROTO_IPV6 as u8,
    }
}

const CT_STATES: [(CtState, u32); 4] = [
    (CtState::New, DOCKFW_CTSTATE_NEW),
    (CtState::Established, DOCKFW_CTSTATE_ESTABLISHED),
    (CtState::Related, DOCKFW_CTSTATE_RELATED),
    (CtState::Untracked, DOCKFW_CTSTATE_UNTRACKED),
];

fn ct_to_wire(mask: u8) -> u32 {
    CT_STATES.iter().filter(|(s, _)| mask & s.bit() != 0).map(|(_, w)| w).fold(0, |a, b| a | b)
}

fn ct_from_wire(mask: u32) -> Result<u8, String> {
    let known = CT_STATES.iter().fold(0, |a, (_, w)| a | w);
    if mask & !known != 0 {
        return Err(format!("unknown conntrack state bits {:#x}", mask & !known));
    }
    Ok(CT_STATES.iter().filter(|(_, w)| mask & w != 0).map(|(s, _)| s.bit()).fold(0, |a, b| a | b))
}

fn hooks_to_wire(mask: u8) -> u32 {
    Hook::ALL.iter().filter(|h| mask & h.bit() != 0).map(|h| 1u32 << h.index()).fold(0, |a, b| a | b)
}

fn hooks_from_wire(mask: u32) -> Result<u8, String> {
    let mut out = 0u8;
    for bit in 0..32 {
        if mask & (1 << bit) != 0 {
            out |= Hook::from_index(bit).ok_or_else(|| format!("unknown hook {bit} in hook mask"))?.bit();
        }
    }
    Ok(out)
}

fn ifname_text(m: &IfMatch) -> String {
    let mut s = String::from_utf8_lossy(m.name.as_bytes()).into_owned();
    if m.wildcard {
        s.push('+');
    }
    s
}

/// Writes the `DOCKFW_RA_*` attributes of a rule: the verdict, priority
/// and hooks always, every other match only when present, the id when set.
/// The one encoder of a rule: `rule_attrs`, `encode_rule` and
/// `encode_rule_into` all go through it.
fn write_rule_attrs(r: &Rule, out: &mut Vec<u8>) {
    put(out, DOCKFW_RA_VERDICT, &[verdict(r.action)]);
    put(out, DOCKFW_RA_PRIORITY, &r.priority.to_ne_bytes());
    put(out, DOCKFW_RA_HOOKS, &hooks_to_wire(r.hooks).to_ne_bytes());
    if r.id != 0 {
        put(out, DOCKFW_RA_ID, &r.id.to_ne_bytes());
    }
    if let Some(f) = r.family {
        put(out, DOCKFW_RA_FAMILY, &[family_nfproto(f)]);
    }
    if let Some(p) = r.proto {
        put(out, DOCKFW_RA_PROTO, &[p]);
    }
    let prefixes = [
        (r.saddr, DOCKFW_RA_SADDR, DOCKFW_RA_SPREFIX),
        (r.daddr, DOCKFW_RA_DADDR, DOCKFW_RA_DPREFIX),
        (r.orig_daddr, DOCKFW_RA_ORIG_DADDR, DOCKFW_RA_ORIG_DPREFIX),
    ];
    let ports = [
        (r.sport, DOCKFW_RA_SPORT_MIN, DOCKFW_RA_SPORT_MAX),
        (r.dport, DOCKFW_RA_DPORT_MIN, DOCKFW_RA_DPORT_MAX),
        (r.orig_dport, DOCKFW_RA_ORIG_DPORT_MIN, DOCKFW_RA_ORIG_DPORT_MAX),
    ];
    for (p, a, l) in prefixes {
        if let Some(p) = p {
            put(out, a, p.addr.bytes());
            put(out, l, &[p.len]);
        }
    }
    for (p, lo, hi) in ports {
        if let Some(p) = p {
            put(out, lo, &p.min.to_ne_bytes());
            put(out, hi, &p.max.to_ne_bytes());
        }
    }
    if let Some(m) = &r.iif {
        put_str(out, DOCKFW_RA_IIFNAME, ifname_text(m).as_bytes());
    }
    if let Some(m) = &r.oif {
        put_str(out, DOCKFW_RA_OIFNAME, ifname_text(m).as_bytes());
    }
    match r.netns {
        NetnsMatch::Any => {}
        NetnsMatch::Host => put(out, DOCKFW_RA_NETNS_HOST, &[]),
        NetnsMatch::Inum(n) => put(out, DOCKFW_RA_NETNS, &n.to_ne_bytes()),
    }
    if r.ctstate != 0 {
        put(out, DOCKFW_RA_CTSTATE, &ct_to_wire(r.ctstate).to_ne_bytes());
    }
    if !r.comment().is_empty() {
        put_str(out, DOCKFW_RA_COMMENT, r.comment().as_bytes());
    }
    for (role, ty) in CONTAINER_ATTRS {
        if let Some(c) = r.container(role) {
            put_str(out, ty, c.as_bytes());
        }
    }
    if r.inactive {
        put(out, DOCKFW_RA_INACTIVE, &[]);
    }
}

/// The `DOCKFW_RA_*` attributes of a rule, one object each (for callers
/// that filter them: trace matches).
pub fn rule_attrs(r: &Rule) -> Vec<Attr> {
    let mut b = Vec::with_capacity(128);
    write_rule_attrs(r, &mut b);
    let parsed = parse_attrs(&b).expect("the encoder writes well-formed attributes");
    parsed.into_iter().map(|(ty, p)| attr(ty, p.to_vec())).collect()
}

/// Appends the whole `DOCKFW_A_RULE` nest of `r` to `out`; returns its
/// size. Consecutive rules so written form the payload of a
/// `DOCKFW_A_RULES` nest.
pub fn encode_rule_into(r: &Rule, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(DOCKFW_A_RULE | NLA_F_NESTED).to_ne_bytes());
    write_rule_attrs(r, out);
    let len = out.len() - start;
    // A rule's attributes are a few hundred bytes at most.
    let len16 = u16::try_from(len).expect("a rule fits in one attribute");
    out[start..start + 2].copy_from_slice(&len16.to_ne_bytes());
    len
}

/// Which rule attribute carries the container named in each role.
pub const CONTAINER_ATTRS: [(CtrRole, u16); 3] = [
    (CtrRole::Src, DOCKFW_RA_SRC_CONTAINER),
    (CtrRole::Dst, DOCKFW_RA_DST_CONTAINER),
    (CtrRole::Netns, DOCKFW_RA_NETNS_CONTAINER),
];

/// `DOCKFW_A_RULE` holding the rule.
pub fn encode_rule(r: &Rule) -> Attr {
    let mut b = Vec::with_capacity(128);
    write_rule_attrs(r, &mut b);
    // A rule's attributes are a few hundred bytes at most.
    nest_raw(DOCKFW_A_RULE, b).expect("a rule fits in one attribute")
}

/// A rule as the kernel reports it, with its counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleEntry {
    pub rule: Rule,
    pub packets: u64,
    pub bytes: u64,
}

fn fixed<const N: usize>(ty: u16, b: &[u8]) -> Result<[u8; N], String> {
    b.try_into().map_err(|_| format!("rule attribute {ty}: {} bytes, expected {N}", b.len()))
}

fn text(ty: u16, b: &[u8]) -> Result<&str, String> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    std::str::from_utf8(&b[..end]).map_err(|_| format!("rule attribute {ty}: not UTF-8"))
}

fn addr(ty: u16, b: &[u8]) -> Result<Addr, String> {
    match b.len() {
        4 => Ok(Addr::V4(fixed(ty, b)?)),
        16 => Ok(Addr::V6(fixed(ty, b)?)),
        n => Err(format!("rule attribute {ty}: address of {n} bytes")),
    }
}

/// Decodes the `DOCKFW_RA_*` attributes nested in `a` (a `DOCKFW_A_RULE`).
/// Unknown attributes (and `DOCKFW_RA_PAD`) are ignored.
pub fn decode_rule(a: &Attr) -> Result<RuleEntry, String> {
    let handle = a.get_attr_handle::<u16>().map_err(|e| format!("rule attributes: {e}"))?;
    let mut r = Rule::default();
    let (mut packets, mut bytes) = (0, 0);
    let mut verdict_seen = false;
    let mut addrs: [(Option<Addr>, Option<u8>); 3] = [(None, None); 3];
    let mut ports: [(Option<u16>, Option<u16>); 3] = [(None, None); 3];
    for at in handle.iter() {
        let ty = *at.nla_type().nla_type();
        let b = at.payload().as_ref();
        let u8_ = || fixed::<1>(ty, b).map(|x| x[0]);
        let u16_ = || fixed::<2>(ty, b).map(u16::from_ne_bytes);
        let u32_ = || fixed::<4>(ty, b).map(u32::from_ne_bytes);
        let u64_ = || fixed::<8>(ty, b).map(u64::from_ne_bytes);
        match ty {
            DOCKFW_RA_ID => r.id = u32_()?,
            DOCKFW_RA_PRIORITY => r.priority = u32_()?,
            DOCKFW_RA_VERDICT => {
                let v = u8_()?;
                r.action = action(v).ok_or_else(|| format!("unknown verdict {v}"))?;
                verdict_seen = true;
            }
            DOCKFW_RA_HOOKS => r.hooks = hooks_from_wire(u32_()?)?,
            DOCKFW_RA_FAMILY => {
                let f = u8_()?;
                r.family = Some(match i32::from(f) {
                    libc::NFPROTO_IPV4 => Family::Ipv4,
                    libc::NFPROTO_IPV6 => Family::Ipv6,
                    _ => return Err(format!("unknown family {f}")),
                });
            }
            DOCKFW_RA_PROTO => r.proto = Some(u8_()?),
            DOCKFW_RA_SADDR => addrs[0].0 = Some(addr(ty, b)?),
            DOCKFW_RA_SPREFIX => addrs[0].1 = Some(u8_()?),
            DOCKFW_RA_DADDR => addrs[1].0 = Some(addr(ty, b)?),
            DOCKFW_RA_DPREFIX => addrs[1].1 = Some(u8_()?),
            DOCKFW_RA_ORIG_DADDR => addrs[2].0 = Some(addr(ty, b)?),
            DOCKFW_RA_ORIG_DPREFIX => addrs[2].1 = Some(u8_()?),
            DOCKFW_RA_SPORT_MIN => ports[0].0 = Some(u16_()?),
            DOCKFW_RA_SPORT_MAX => ports[0].1 = Some(u16_()?),
            DOCKFW_RA_DPORT_MIN => ports[1].0 = Some(u16_()?),
            DOCKFW_RA_DPORT_MAX => ports[1].1 = Some(u16_()?),
            DOCKFW_RA_ORIG_DPORT_MIN => ports[2].0 = Some(u16_()?),
            DOCKFW_RA_ORIG_DPORT_MAX => ports[2].1 = Some(u16_()?),
            DOCKFW_RA_IIFNAME | DOCKFW_RA_OIFNAME => {
                let s = text(ty, b)?;
                let m = IfMatch::parse(s).ok_or_else(|| format!("bad interface name {s:?}"))?;
                if ty == DOCKFW_RA_IIFNAME {
                    r.iif = Some(m);
                } else {
                    r.oif = Some(m);
                }
            }
            DOCKFW_RA_NETNS => {
                let n = u32_()?;
                if n != 0 && r.netns != NetnsMatch::Host {
                    r.netns = NetnsMatch::Inum(n);
                }
            }
            DOCKFW_RA_NETNS_HOST => r.netns = NetnsMatch::Host,
            DOCKFW_RA_CTSTATE => r.ctstate = ct_from_wire(u32_()?)?,
            DOCKFW_RA_COMMENT => r.set_comment(text(ty, b)?)?,
            DOCKFW_RA_SRC_CONTAINER => r.set_container(CtrRole::Src, text(ty, b)?)?,
            DOCKFW_RA_DST_CONTAINER => r.set_container(CtrRole::Dst, text(ty, b)?)?,
            DOCKFW_RA_NETNS_CONTAINER => r.set_container(CtrRole::Netns, text(ty, b)?)?,
            DOCKFW_RA_INACTIVE => r.inactive = true,
            DOCKFW_RA_PACKETS => packets = u64_()?,
            DOCKFW_RA_BYTES => bytes = u64_()?,
            _ => {}
        }
    }
    if !verdict_seen {
        return Err("rule without a verdict".into());
    }
    let fields = [&mut r.saddr, &mut r.daddr, &mut r.orig_daddr];
    for (slot, (a, len)) in fields.into_iter().zip(addrs) {
        match (a, len) {
            (Some(addr), len) => {
                let max = if matches!(addr, Addr::V4(_)) { 32 } else { 128 };
                *slot = Some(Prefix { addr, len: len.unwrap_or(max) });
            }
            (None, Some(_)) => return Err("prefix length without an address".into()),
            (None, None) => {}
        }
    }
    let fields = [&mut r.sport, &mut r.dport, &mut r.orig_dport];
    for (slot, (lo, hi)) in fields.into_iter().zip(ports) {
        match (lo, hi) {
            (None, None) => {}
            (lo, hi) => *slot = Some(PortRange { min: lo.unwrap_or(0), max: hi.unwrap_or(u16::MAX) }),
        }
    }
    Ok(RuleEntry { rule: r, packets, bytes })
}

/// Canonical text of a rule, with or without its id.
pub fn rule_text(r: &Rule, with_id: bool) -> String {
    let mut s = String::new();
    write_rule(&mut s, r, with_id).expect("writing to a String");
    s
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct JsonRange {
    pub min: u16,
    pub max: u16,
}

/// The JSON view of a listed rule.
#[derive(Serialize, Debug)]
pub struct JsonRule {
    pub id: u32,
    pub priority: u32,
    pub action: &'static str,
    pub hooks: Vec<&'static str>,
    pub family: Option<&'static str>,
    pub proto: Option<u8>,
    pub saddr: Option<String>,
    pub daddr: Option<String>,
    pub sport: Option<JsonRange>,
    pub dport: Option<JsonRange>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// `"host"`, a namespace inode number, or null for any.
    pub netns: serde_json::Value,
    pub ct: Vec<&'static str>,
    pub orig_daddr: Option<String>,
    pub orig_dport: Option<JsonRange>,
    pub comment: Option<String>,
    /// Containers named by the rule (`from-container`, `to-container`,
    /// `in-container`); saddr/daddr/netns then hold what they resolved to.
    pub from_container: Option<String>,
    pub to_container: Option<String>,
    pub in_container: Option<String>,
    /// The named container is not running: the rule matches nothing.
    pub inactive: bool,
    pub packets: u64,
    pub bytes: u64,
    pub rule: String,
}

fn prefix_text(p: &Prefix) -> String {
    format!("{}/{}", p.normalized().addr, p.len)
}

fn range(r: Option<PortRange>) -> Option<JsonRange> {
    r.map(|r| JsonRange { min: r.min, max: r.max })
}

impl JsonRule {
    pub fn new(e: &RuleEntry) -> JsonRule {
        let r = &e.rule;
        JsonRule {
            id: r.id,
            priority: r.priority,
            action: match r.action {
                Action::Accept => "accept",
                Action::Drop => "drop",
                Action::Log => "log",
            },
            hooks: Hook::ALL.iter().filter(|h| r.hooks & h.bit() != 0).map(|&h| hook_keyword(h)).collect(),
            family: r.family.or_else(|| [r.saddr, r.daddr, r.orig_daddr].iter().flatten().next().map(|p| p.addr.family())).map(
                |f| match f {
                    Family::Ipv4 => "ip",
                    Family::Ipv6 => "ip6",
                },
            ),
            proto: r.proto,
            saddr: r.saddr.as_ref().map(prefix_text),
            daddr: r.daddr.as_ref().map(prefix_text),
            sport: range(r.sport),
            dport: range(r.dport),
            iif: r.iif.as_ref().map(ifname_text),
            oif: r.oif.as_ref().map(ifname_text),
            netns: match r.netns {
                NetnsMatch::Any => serde_json::Value::Null,
                NetnsMatch::Host => "host".into(),
                NetnsMatch::Inum(n) => n.into(),
            },
            ct: CT_STATES.iter().filter(|(s, _)| r.ctstate & s.bit() != 0).map(|(s, _)| s.name()).collect(),
            orig_daddr: r.orig_daddr.as_ref().map(prefix_text),
            orig_dport: range(r.orig_dport),
            comment: Some(r.comment().to_string()).filter(|c| !c.is_empty()),
            from_container: r.container(CtrRole::Src).map(String::from),
            to_container: r.container(CtrRole::Dst).map(String::from),
            in_container: r.container(CtrRole::Netns).map(String::from),
            inactive: r.inactive,
            packets: e.packets,
            bytes: e.bytes,
            rule: rule_text(r, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_addr;
    use crate::nl::attr::{attr_u32, attr_u8, nest};
    use neli::{genl::Nlattr, types::Buffer};
    use crate::rule_syntax::parse_rule;
    use neli::{consts::genl::NlAttrType, types::GenlBuffer, FromBytesWithInput, ToBytes};
    use std::io::Cursor;

    /// Serializes the attribute to wire bytes and parses it back, so the
    /// tests go through the real netlink encoding.
    fn wire_round_trip<T: NlAttrType>(a: &Nlattr<T, Buffer>) -> (Vec<u8>, Attr) {
        let mut c = Cursor::new(Vec::new());
        a.to_bytes(&mut c).unwrap();
        let bytes = c.into_inner();
        let buf = GenlBuffer::<u16, Buffer>::from_bytes_with_input(&mut Cursor::new(&bytes), bytes.len()).unwrap();
        let back = buf.iter().next().unwrap().clone();
        (bytes, back)
    }

    fn full_rule(v6: bool) -> Rule {
        let (s, d, o) = if v6 {
            ("2001:db8::/32", "fd00::1:0/112", "2001:db8:1::5")
        } else {
            ("172.16.0.0/24", "10.0.0.0/8", "192.0.2.7")
        };
        let text = format!(
            "forward output {} tcp saddr {s} daddr {d} sport 1024-65535 dport 8080 iif eth0 oif br-+ netns 4026531993 \
             ct new,established orig-daddr {o} orig-dport 80 prio 7 comment web id 42 drop",
            if v6 { "ip6" } else { "ip" }
        );
        parse_rule(text.split_whitespace()).unwrap()
    }

    fn attrs_by_type(a: &Attr) -> Vec<(u16, Vec<u8>)> {
        a.get_attr_handle::<u16>().unwrap().iter().map(|x| (*x.nla_type().nla_type(), x.payload().as_ref().to_vec())).collect()
    }

    #[test]
    fn round_trip_every_field_ipv4_and_ipv6() {
        for v6 in [false, true] {
            let r = full_rule(v6);
            let (_, back) = wire_round_trip(&encode_rule(&r));
            assert_eq!(*back.nla_type().nla_type(), DOCKFW_A_RULE);
            assert!(*back.nla_type().nla_nested(), "NLA_F_NESTED must be set");
            let e = decode_rule(&back).unwrap();
            assert_eq!(e.rule, r, "v6={v6}");
            assert_eq!((e.packets, e.bytes), (0, 0));
            assert_eq!(rule_text(&e.rule, true), rule_text(&r, true));
        }
    }

    #[test]
    fn batch_encoding_is_the_single_rule_encoding_back_to_back() {
        let rules = [full_rule(false), full_rule(true), parse_rule(["accept"]).unwrap()];
        let mut wire = Vec::new();
        let mut sizes = Vec::new();
        for r in &rules {
            sizes.push(encode_rule_into(r, &mut wire));
        }
        let mut expect = Vec::new();
        for (r, &n) in rules.iter().zip(&sizes) {
            let (bytes, _) = wire_round_trip(&encode_rule(r));
            assert_eq!(bytes.len(), n, "size reported for {r:?}");
            expect.extend(bytes);
        }
        assert_eq!(wire, expect);
        // Read back through neli as the payload of a DOCKFW_A_RULES nest.
        let (_, back) = wire_round_trip(&nest_raw(DOCKFW_A_RULES, wire).unwrap());
        let got: Vec<Rule> = back.get_attr_handle::<u16>().unwrap().iter().map(|a| decode_rule(a).unwrap().rule).collect();
        assert_eq!(got, rules);
    }

    #[test]
    fn container_names_and_inactive_round_trip() {
        let mut r = parse_rule("forward from-container db@backend to-container web in-container web tcp dport 8080 accept".split_whitespace()).unwrap();
        r.saddr = Some(Prefix { addr: parse_addr("172.18.0.3").unwrap(), len: 32 });
        r.daddr = Some(Prefix { addr: parse_addr("172.17.0.2").unwrap(), len: 32 });
        r.netns = NetnsMatch::Inum(4026532301);
        let (_, back) = wire_round_trip(&encode_rule(&r));
        let got = attrs_by_type(&back);
        let get = |t| got.iter().find(|(ty, _)| *ty == t).map(|(_, b)| b.clone());
        assert_eq!(get(DOCKFW_RA_SRC_CONTAINER), Some(b"db@backend\0".to_vec()));
        assert_eq!(get(DOCKFW_RA_DST_CONTAINER), Some(b"web\0".to_vec()));
        assert_eq!(get(DOCKFW_RA_NETNS_CONTAINER), Some(b"web\0".to_vec()));
        assert_eq!(get(DOCKFW_RA_INACTIVE), None);
        assert_eq!(decode_rule(&back).unwrap().rule, r);
        // Stopped container: no address, the inactive flag (empty payload).
        r.inactive = true;
        r.daddr = None;
        let (_, back) = wire_round_trip(&encode_rule(&r));
        assert_eq!(attrs_by_type(&back).iter().find(|(t, _)| *t == DOCKFW_RA_INACTIVE).map(|(_, b)| b.len()), Some(0));
        let e = decode_rule(&back).unwrap();
        assert_eq!(e.rule, r);
        let j = serde_json::to_value(JsonRule::new(&e)).unwrap();
        assert_eq!(j["to_container"], "web");
        assert_eq!(j["from_container"], "db@backend");
        assert_eq!(j["inactive"], true);
        assert_eq!(j["daddr"], serde_json::Value::Null);
    }

    #[test]
    fn wire_values_are_as_specified() {
        let r = full_rule(false);
        let a = attrs_by_type(&encode_rule(&r));
        let get = |t: u16| a.iter().find(|(ty, _)| *ty == t).map(|(_, b)| b.clone());
        assert_eq!(get(DOCKFW_RA_VERDICT), Some(vec![DOCKFW_VERDICT_DROP as u8]));
        assert_eq!(get(DOCKFW_RA_PRIORITY), Some(7u32.to_ne_bytes().to_vec()));
        // forward = NF_INET_FORWARD (2), output = NF_INET_LOCAL_OUT (3).
        assert_eq!(get(DOCKFW_RA_HOOKS), Some(((1u32 << 2) | (1 << 3)).to_ne_bytes().to_vec()));
        assert_eq!(get(DOCKFW_RA_FAMILY), Some(vec![2]));
        assert_eq!(get(DOCKFW_RA_PROTO), Some(vec![6]));
        assert_eq!(get(DOCKFW_RA_SADDR), Some(vec![172, 16, 0, 0]));
        assert_eq!(get(DOCKFW_RA_SPREFIX), Some(vec![24]));
        assert_eq!(get(DOCKFW_RA_SPORT_MIN), Some(1024u16.to_ne_bytes().to_vec()));
        assert_eq!(get(DOCKFW_RA_SPORT_MAX), Some(65535u16.to_ne_bytes().to_vec()));
        assert_eq!(get(DOCKFW_RA_DPORT_MIN), get(DOCKFW_RA_DPORT_MAX));
        assert_eq!(get(DOCKFW_RA_IIFNAME), Some(b"eth0\0".to_vec()));
        assert_eq!(get(DOCKFW_RA_OIFNAME), Some(b"br-+\0".to_vec()));
        assert_eq!(get(DOCKFW_RA_NETNS), Some(4026531993u32.to_ne_bytes().to_vec()));
        assert_eq!(get(DOCKFW_RA_NETNS_HOST), None);
        assert_eq!(get(DOCKFW_RA_CTSTATE), Some((DOCKFW_CTSTATE_NEW | DOCKFW_CTSTATE_ESTABLISHED).to_ne_bytes().to_vec()));
        assert_eq!(get(DOCKFW_RA_ORIG_DADDR), Some(vec![192, 0, 2, 7]));
        assert_eq!(get(DOCKFW_RA_ORIG_DPREFIX), Some(vec![32]));
        assert_eq!(get(DOCKFW_RA_COMMENT), Some(b"web\0".to_vec()));
        assert_eq!(get(DOCKFW_RA_ID), Some(42u32.to_ne_bytes().to_vec()));

        // A minimal rule sends only verdict, priority and hooks.
        let min = parse_rule(["accept"]).unwrap();
        let a = attrs_by_type(&encode_rule(&min));
        let types: Vec<u16> = a.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![DOCKFW_RA_VERDICT, DOCKFW_RA_PRIORITY, DOCKFW_RA_HOOKS]);
        assert_eq!(a[2].1, 0x1fu32.to_ne_bytes().to_vec());

        let host = parse_rule("netns host input accept".split(' ')).unwrap();
        let a = attrs_by_type(&encode_rule(&host));
        assert!(a.contains(&(DOCKFW_RA_NETNS_HOST, vec![])));
        let (_, back) = wire_round_trip(&encode_rule(&host));
        assert_eq!(decode_rule(&back).unwrap().rule.netns, NetnsMatch::Host);
    }

    #[test]
    fn decode_ignores_unknown_and_pad_and_reads_counters() {
        let mut children = rule_attrs(&full_rule(true));
        children.push(attr(DOCKFW_RA_PAD, vec![]));
        children.push(attr(DOCKFW_RA_PACKETS, 12345u64.to_ne_bytes().to_vec()));
        children.push(attr(DOCKFW_RA_PAD, vec![]));
        children.push(attr(DOCKFW_RA_BYTES, 999_000_000_000u64.to_ne_bytes().to_vec()));
        children.push(attr(__DOCKFW_RA_MAX + 5, vec![1, 2, 3]));
        let (_, back) = wire_round_trip(&nest(DOCKFW_A_RULE, &children).unwrap());
        let e = decode_rule(&back).unwrap();
        assert_eq!(e.rule, full_rule(true));
        assert_eq!((e.packets, e.bytes), (12345, 999_000_000_000));
        let j = serde_json::to_value(JsonRule::new(&e)).unwrap();
        assert_eq!(j["id"], 42);
        assert_eq!(j["packets"], 12345);
        assert_eq!(j["family"], "ip6");
        assert_eq!(j["saddr"], "2001:db8::/32");
        assert_eq!(j["hooks"], serde_json::json!(["forward", "output"]));
        assert_eq!(j["ct"], serde_json::json!(["new", "established"]));
        assert_eq!(j["sport"], serde_json::json!({"min": 1024, "max": 65535}));
        assert_eq!(j["netns"], 4026531993u32);
        assert_eq!(j["oif"], "br-+");
        assert_eq!(j["orig_daddr"], "2001:db8:1::5/128");
        assert_eq!(j["comment"], "web");
        assert_eq!(j["action"], "drop");
        assert!(!j["rule"].as_str().unwrap().contains("id 42"));
    }

    #[test]
    fn decode_rejects_malformed() {
        let bad_len = nest(DOCKFW_A_RULE, &[attr_u8(DOCKFW_RA_VERDICT, 0), attr(DOCKFW_RA_PRIORITY, vec![1, 2])]).unwrap();
        assert!(decode_rule(&bad_len).unwrap_err().contains("expected 4"));
        let bad_addr = nest(DOCKFW_A_RULE, &[attr_u8(DOCKFW_RA_VERDICT, 0), attr(DOCKFW_RA_SADDR, vec![1, 2, 3])]).unwrap();
        assert!(decode_rule(&bad_addr).is_err());
        let no_verdict = nest(DOCKFW_A_RULE, &[attr_u32(DOCKFW_RA_PRIORITY, 1)]).unwrap();
        assert!(decode_rule(&no_verdict).is_err());
        let v4 = parse_addr("1.2.3.4").unwrap();
        assert_eq!(v4.bytes(), &[1, 2, 3, 4]);
    }
}
