// SPDX-License-Identifier: GPL-2.0
//! Tests of the rule matcher, its index, and the rule language.

use crate::model::*;
use crate::packet::*;
use crate::rule_syntax::*;
use crate::reference::{index, Rng};
use crate::rules::*;
use std::format;
use std::string::String;
use std::vec::Vec;

fn v4(s: &str) -> Addr {
    parse_addr(s).unwrap()
}

fn tcp_pkt(src: &str, sport: u16, dst: &str, dport: u16) -> Packet {
    Packet {
        family: Family::Ipv4,
        proto: IPPROTO_TCP,
        saddr: v4(src),
        daddr: v4(dst),
        ip_id: 0,
        l4: L4::Tcp { sport, dport, flags: 2 },
    }
}

fn udp_pkt(src: &str, sport: u16, dst: &str, dport: u16) -> Packet {
    Packet { proto: IPPROTO_UDP, l4: L4::Udp { sport, dport }, ..tcp_pkt(src, sport, dst, dport) }
}

fn ctx<'a>(hook: Hook, pkt: &'a Packet, ct: Option<&'a CtOrig>) -> Ctx<'a> {
    Ctx { hook, pkt, ct, iif: IfName::new("veth-ext"), oif: IfName::new("docker0"), netns: 4026531840, host: true }
}

fn rule(text: &str) -> Rule {
    parse_rule(text.split_whitespace()).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
}

/// The conntrack entry of `ext:40000 -> host:80` DNATed to 172.17.0.2:8080.
fn dnat_ct(src: &str) -> CtOrig {
    CtOrig {
        state: CtState::New,
        reply: false,
        dnat: true,
        proto: 6,
        src: v4(src),
        dst: v4("10.0.0.1"),
        sport: 40000,
        dport: 80,
    }
}

#[test]
fn prefixes() {
    let p = parse_prefix("172.16.0.0/24").unwrap();
    assert!(p.contains(&v4("172.16.0.77")));
    assert!(!p.contains(&v4("172.16.1.1")));
    assert!(!p.contains(&parse_addr("::1").unwrap()));
    let odd = parse_prefix("10.0.0.0/9").unwrap();
    assert!(odd.contains(&v4("10.127.255.255")) && !odd.contains(&v4("10.128.0.0")));
    assert!(parse_prefix("0.0.0.0/0").unwrap().contains(&v4("1.2.3.4")));
    let v6 = parse_prefix("fd00:1::/33").unwrap();
    assert!(v6.contains(&parse_addr("fd00:1:7fff::1").unwrap()));
    assert!(!v6.contains(&parse_addr("fd00:1:8000::1").unwrap()));
    assert_eq!(format!("{}", parse_prefix("10.1.2.3/8").unwrap().normalized().addr), "10.0.0.0");
    for bad in ["10.0.0.0/33", "10.0.0.0/", "::/129", "x/8", "10.0.0.0/-1"] {
        assert!(parse_prefix(bad).is_none(), "{bad}");
    }
}

#[test]
fn orig_dport_holds_on_the_dnat_forward_path() {
    // What FORWARD sees after Docker's DNAT: the container's address and port.
    let pkt = tcp_pkt("172.16.0.5", 40000, "172.17.0.2", 8080);
    let allowed = dnat_ct("172.16.0.5");
    let r = rule("forward tcp saddr 172.16.0.0/24 orig-dport 80 accept");
    assert!(r.matches(&ctx(Hook::Forward, &pkt, Some(&allowed))));
    // A plain dport 80 rule, like `iptables --dport 80`, does not see it.
    assert!(!rule("forward tcp dport 80 accept").matches(&ctx(Hook::Forward, &pkt, Some(&allowed))));
    // Another published port does not match.
    let mut other = allowed;
    other.dport = 81;
    assert!(!r.matches(&ctx(Hook::Forward, &pkt, Some(&other))));
    // Without conntrack (PRE_ROUTING at NF_IP_PRI_FIRST, before conntrack
    // and NAT), the packet's own destination is the original one.
    let pre = tcp_pkt("172.16.0.5", 40000, "10.0.0.1", 80);
    assert!(rule("tcp orig-dport 80 orig-daddr 10.0.0.1 accept").matches(&ctx(Hook::PreRouting, &pre, None)));
    // Reply-direction packets carry the flow's original tuple in reverse:
    // they are not "to port 80".
    let mut reply = allowed;
    reply.reply = true;
    let back = tcp_pkt("172.17.0.2", 8080, "172.16.0.5", 40000);
    assert!(!rule("orig-dport 80 accept").matches(&ctx(Hook::Forward, &back, Some(&reply))));
}

#[test]
fn each_match_field() {
    let pkt = tcp_pkt("10.0.0.2", 40000, "172.17.0.2", 8080);
    let c = ctx(Hook::Forward, &pkt, None);
    for (text, want) in [
        ("accept", true),
        ("forward accept", true),
        ("input output accept", false),
        ("ip accept", true),
        ("ip6 accept", false),
        ("udp accept", false),
        ("tcp sport 40000 accept", true),
        ("tcp sport 1-39999 accept", false),
        ("tcp dport 8000-9000 accept", true),
        ("saddr 10.0.0.0/8 accept", true),
        ("daddr 10.0.0.0/8 accept", false),
        ("iif veth-ext accept", true),
        ("iif veth+ accept", true),
        ("iif veth accept", false),
        ("oif docker0 accept", true),
        ("oif eth+ accept", false),
        ("netns host accept", true),
        ("netns 4026532000 accept", false),
        ("netns 4026531840 accept", true),
        ("ct untracked accept", true),
        ("ct new,established accept", false),
    ] {
        assert_eq!(rule(text).matches(&c), want, "{text}");
    }
    // Ports never match a packet without ports.
    let ping = Packet { l4: L4::Icmp { ty: 8, code: 0, id: 1 }, proto: 1, ..pkt };
    assert!(!rule("dport 8080 accept").matches(&ctx(Hook::Forward, &ping, None)));
    // A container namespace is not the host.
    let c2 = Ctx { host: false, netns: 4026532086, ..ctx(Hook::LocalIn, &pkt, None) };
    assert!(!rule("netns host accept").matches(&c2));
    assert!(rule("netns 4026532086 accept").matches(&c2));
}

#[test]
fn needs_name_only_what_the_rules_look_at() {
    let plain = index(std::vec![rule("tcp dport 80 accept"), rule("saddr 10.0.0.0/8 drop")]);
    let (nk, nw) = index_sizes(&plain.rules);
    let (mut k, mut w, mut f) = (std::vec![0u64; nk], std::vec![0u32; nw], std::vec![0u64; filter_words(nk)]);
    assert_eq!(build_index(&plain.rules, &mut k, &mut w, &mut f), Needs::default());
    for (text, want) in [
        ("orig-dport 80 accept", Needs { ct: true, ..Default::default() }),
        ("ct new accept", Needs { ct: true, ..Default::default() }),
        ("iif veth+ accept", Needs { ifnames: true, ..Default::default() }),
        ("netns host accept", Needs { netns: true, ..Default::default() }),
    ] {
        let rs = std::vec![rule(text)];
        let (nk, nw) = index_sizes(&rs);
        let (mut k, mut w, mut f) = (std::vec![0u64; nk], std::vec![0u32; nw], std::vec![0u64; filter_words(nk)]);
        assert_eq!(build_index(&rs, &mut k, &mut w, &mut f), want, "{text}");
    }
}

#[test]
fn evaluation_order_priority_then_id_and_log_goes_on() {
    let mut a = rule("tcp dport 8080 drop");
    a.id = 1;
    let mut b = rule("tcp dport 8080 prio 10 accept");
    b.id = 2;
    let mut l = rule("saddr 10.0.0.0/8 prio 5 log");
    l.id = 3;
    let t = index(std::vec![a, b, l]);
    let pkt = tcp_pkt("10.0.0.2", 1, "172.17.0.2", 8080);
    let mut logged = Vec::new();
    let pos = t.table().eval(&ctx(Hook::Forward, &pkt, None), |p| logged.push(t.rules[p].id)).unwrap();
    assert_eq!(t.rules[pos].id, 2, "prio 10 comes before the default 1000");
    assert_eq!(logged, [3], "the log rule (prio 5) logs and evaluation continues");
}


fn random_rule(g: &mut Rng, id: u32) -> Rule {
    let mut r = Rule { id, priority: g.below(4) as u32 * 10, ..Default::default() };
    r.action = [Action::Accept, Action::Drop, Action::Log][g.below(3) as usize];
    if g.below(3) == 0 {
        r.hooks = (g.below(31) + 1) as u8;
    }
    let port = |g: &mut Rng| [80u16, 8080, 443, 22, 53][g.below(5) as usize];
    if g.below(2) == 0 {
        r.proto = Some([6, 17][g.below(2) as usize]);
    }
    match g.below(4) {
        0 => {
            let p = port(g);
            r.dport = Some(PortRange { min: p, max: p });
        }
        1 => r.dport = Some(PortRange { min: 20, max: 100 }),
        _ => {}
    }
    if g.below(3) == 0 {
        let p = port(g);
        r.orig_dport = Some(PortRange { min: p, max: p });
    }
    if g.below(3) == 0 {
        r.saddr = Some(Prefix { addr: Addr::V4([10, g.below(2) as u8, 0, 0]), len: 16 });
    }
    if g.below(5) == 0 {
        r.ctstate = (g.below(15) + 1) as u8;
    }
    r
}

/// A random packet on the ports the random rules use, its conntrack entry
/// (DNATed from 10.0.0.1, sometimes a reply), a hook, and whether the hook
/// sees the entry.
fn random_packet(g: &mut Rng) -> (Packet, CtOrig, Hook, bool) {
    let ports = [80u16, 8080, 443, 22, 53, 9999];
    let proto = [6u8, 17][g.below(2) as usize];
    let dport = ports[g.below(6) as usize];
    let pkt = Packet {
        family: Family::Ipv4,
        proto,
        saddr: Addr::V4([10, g.below(3) as u8, 1, 1]),
        daddr: Addr::V4([172, 17, 0, 2]),
        ip_id: 0,
        l4: if proto == 6 { L4::Tcp { sport: 1234, dport, flags: 2 } } else { L4::Udp { sport: 1234, dport } },
    };
    let ct = CtOrig {
        state: [CtState::New, CtState::Established][g.below(2) as usize],
        reply: g.below(4) == 0,
        dnat: true,
        proto: pkt.proto,
        src: pkt.saddr,
        dst: Addr::V4([10, 0, 0, 1]),
        sport: 1234,
        dport: ports[g.below(6) as usize],
    };
    let hook = Hook::ALL[g.below(5) as usize];
    let with_ct = g.below(2) == 0;
    (pkt, ct, hook, with_ct)
}

#[test]
fn index_decides_exactly_like_a_linear_scan() {
    let mut g = Rng::seeded(0x5eed);
    let mut decided = 0;
    for round in 0..300 {
        let n = 1 + g.below(if round % 10 == 0 { 400 } else { 30 }) as u32;
        let t = index((1..=n).map(|id| random_rule(&mut g, id)).collect());
        for _ in 0..50 {
            let (pkt, ct, hook, with_ct) = random_packet(&mut g);
            let c = ctx(hook, &pkt, with_ct.then_some(&ct));
            let (mut l1, mut l2) = (Vec::new(), Vec::new());
            let a = t.table().eval(&c, |p| l1.push(p));
            let b = t.table().eval_linear(&c, |p| l2.push(p));
            assert_eq!(a, b, "round {round}: index and scan disagree");
            assert_eq!(l1, l2, "round {round}: log rules differ");
            decided += a.is_some() as u32;
        }
    }
    // The random rules must actually decide a good share of packets, or the
    // comparison above proves little.
    assert!(decided > 3000, "only {decided} of 15000 packets were decided by a rule");
}

#[test]
fn key_filter_sizes_and_shared_bits() {
    assert_eq!(filter_words(0), 0);
    assert_eq!(filter_words(1), 1);
    assert_eq!(filter_words(10), 2);
    // From 16 384 keys on, one bit per possible key: the filter is exact.
    assert_eq!(filter_words(100_000), 2048);
    let big = index((1..=20_000u32).map(|p| rule(&format!("udp dport {p} accept"))).collect());
    let set: u32 = big.filter.iter().map(|w| w.count_ones()).sum();
    assert_eq!(set, 20_000, "distinct ports must have distinct bits in a full-size filter");

    // A one-word filter: 80 and 8080 share bit 16 (8080 = 126 * 64 + 16).
    let t = index(std::vec![rule("udp dport 80 drop"), rule("udp dport 22 accept")]);
    assert_eq!(t.filter.len(), 1);
    let at = |dport| udp_pkt("10.0.0.1", 1234, "10.0.0.2", dport);
    for (port, want) in [(80, Some(0)), (22, Some(1)), (8080, None), (23, None)] {
        let pkt = at(port);
        let c = ctx(Hook::Forward, &pkt, None);
        assert_eq!(t.table().eval(&c, |_| {}), want, "dport {port}");
        assert_eq!(t.table().candidates(&c).count(), usize::from(want.is_some()), "dport {port}: candidates");
        // Without a filter the keys are searched: the same decision.
        let unfiltered = Table { filter: &[], ..t.table() };
        assert_eq!(unfiltered.eval(&c, |_| {}), want, "dport {port}: no filter");
    }
}

#[test]
fn syntax_round_trips() {
    for text in [
        "forward tcp saddr 172.16.0.0/24 orig-dport 80 accept",
        "tcp dport 8080 drop",
        "prerouting input udp sport 1000-2000 dport 53 log",
        "ip6 icmpv6 daddr fd00::/64 accept",
        "proto 132 drop",
        "iif veth+ oif docker0 netns host ct new,related orig-daddr 10.0.0.1 orig-dport 80-81 prio 7 comment web-allow accept",
        "saddr fd00::2 netns 4026532086 drop",
    ] {
        let r = rule(text);
        let mut out = String::new();
        write_rule(&mut out, &r, false).unwrap();
        assert_eq!(out, text, "canonical text");
        assert_eq!(rule(&out), r);
    }
    // With an id: the form `save` writes and `restore` reads.
    let mut r = rule("tcp dport 80 accept");
    r.id = 42;
    let s = format!("{}", RuleText(&r));
    assert_eq!(s, "id 42 tcp dport 80 accept");
    assert_eq!(rule(&s), r);
    // Host bits are cleared when printed.
    let mut out = String::new();
    write_rule(&mut out, &rule("saddr 10.1.2.3/8 accept"), false).unwrap();
    assert_eq!(out, "saddr 10.0.0.0/8 accept");
}

#[test]
fn syntax_errors_point_at_the_token() {
    let cases: &[(&str, usize, &str)] = &[
        ("tcp dport 99999 accept", 2, "not a port"),
        ("tcp dport accept", 2, "not a port"),
        ("frobnicate accept", 0, "unknown keyword"),
        ("tcp dport 80", 3, "missing action"),
        ("accept drop", 1, "exactly one action"),
        ("saddr 10.0.0.0/40 accept", 1, "not an address"),
        ("tcp tcp accept", 1, "already given"),
        ("icmp dport 80 accept", 4, "ports only exist"),
        ("saddr 10.0.0.1 daddr ::1 accept", 5, "different families"),
        ("dport 90-80 accept", 1, "not a port"),
        ("netns 0 accept", 1, "netns takes"),
        ("ct bogus accept", 1, "ct states"),
        ("iif waytoolongname0123 accept", 1, "not an interface"),
        ("comment", 1, "comment word expected"),
        ("forward forward accept", 1, "hook named twice"),
    ];
    for &(text, tok, msg) in cases {
        let e = parse_rule(text.split_whitespace()).unwrap_err();
        assert_eq!(e.token, tok, "{text:?}: {e:?}");
        assert!(e.msg.contains(msg), "{text:?}: {:?} should mention {msg:?}", e.msg);
    }
}

#[test]
fn container_references_parse_print_and_need_resolution() {
    let text = "forward tcp to-container web saddr 172.16.0.0/24 orig-dport 80 accept";
    let mut r = rule(text);
    assert_eq!(r.container(CtrRole::Dst), Some("web"));
    assert_eq!(r.daddr, None, "parsing does not resolve");
    // The kernel's check refuses an unresolved reference...
    assert!(r.validate().unwrap_err().contains("resolved"));
    // ...and takes it once dockfwctl filled in the container's address.
    r.daddr = Some(Prefix { addr: v4("172.17.0.2"), len: 32 });
    r.validate().unwrap();
    // A prefix wider than one host is not a container's address.
    r.daddr = Some(Prefix { addr: v4("172.17.0.0"), len: 16 });
    assert!(r.validate().is_err());
    r.daddr = Some(Prefix { addr: v4("172.17.0.2"), len: 32 });
    // Printing shows the name, never the resolved address, so `save` output
    // is resolved again by `restore`.
    let mut out = String::new();
    write_rule(&mut out, &r, false).unwrap();
    assert_eq!(out, "forward tcp to-container web saddr 172.16.0.0/24 orig-dport 80 accept");
    // Resolved, the rule matches the container's address after DNAT.
    let pkt = tcp_pkt("172.16.0.5", 40000, "172.17.0.2", 8080);
    let ct = dnat_ct("172.16.0.5");
    assert!(r.matches(&ctx(Hook::Forward, &pkt, Some(&ct))));
    let other = tcp_pkt("172.16.0.5", 40000, "172.17.0.3", 8080);
    assert!(!r.matches(&ctx(Hook::Forward, &other, Some(&ct))));
    // Inactive (container stopped): matches nothing, needs no address.
    r.inactive = true;
    assert!(!r.matches(&ctx(Hook::Forward, &pkt, Some(&ct))));
    r.daddr = None;
    r.validate().unwrap();
    // Only a rule naming a container can be inactive.
    let mut plain = rule("tcp dport 80 accept");
    plain.inactive = true;
    assert!(plain.validate().is_err());

    for text in [
        "from-container db@backend to-container web tcp dport 8080 accept",
        "input in-container web udp dport 53 drop",
        "to-container 3f4e5d6c7b8a tcp dport 80 drop",
    ] {
        let r = rule(text);
        let mut out = String::new();
        write_rule(&mut out, &r, false).unwrap();
        assert_eq!(rule(&out), r, "{text:?} -> {out:?}");
    }
    let r = rule("input in-container web accept");
    assert_eq!(r.container(CtrRole::Netns), Some("web"));
    assert_eq!(r.netns, NetnsMatch::Any);
    assert!(r.validate().is_err());
}

#[test]
fn container_reference_errors() {
    let cases: &[(&str, usize, &str)] = &[
        ("to-container web daddr 10.0.0.1 accept", 2, "already names a container"),
        ("daddr 10.0.0.1 to-container web accept", 2, "both give the destination"),
        ("saddr 10.0.0.1 from-container web accept", 2, "both give the source"),
        ("netns host in-container web accept", 2, "both give the namespace"),
        ("to-container -web accept", 1, "Docker name"),
        ("to-container web@ accept", 1, "Docker name"),
        ("to-container we/b accept", 1, "Docker name"),
        ("to-container", 1, "container name or id expected"),
        ("to-container a to-container b accept", 2, "both give the destination"),
    ];
    for &(text, tok, msg) in cases {
        let e = parse_rule(text.split_whitespace()).unwrap_err();
        assert_eq!(e.token, tok, "{text:?}: {e:?}");
        assert!(e.msg.contains(msg), "{text:?}: {:?} should mention {msg:?}", e.msg);
    }
    let long = format!("to-container {} accept", "z".repeat(64));
    assert!(parse_rule(long.split_whitespace()).is_err());
    let ok = format!("to-container {} accept", "a".repeat(63));
    assert!(parse_rule(ok.split_whitespace()).is_ok());
    // A full 64-digit id is kept in its short form.
    let id = "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e";
    let r = parse_rule(format!("to-container {id} accept").split_whitespace()).unwrap();
    assert_eq!(r.container(CtrRole::Dst), Some("3f4e5d6c7b8a"));
}

/// The module's own two-layer ruleset (src/ruleset.rs, compiled here
/// against kernel-shim), driven the way the netlink commands drive it:
/// `next` for a replace, `with_added` and `position` + `without` for add
/// and del. `merges` counts the updates that built a new base.
struct Layers {
    rs: crate::ruleset::Ruleset,
    merges: u32,
}

impl Layers {
    fn new(rules: Vec<Rule>) -> Layers {
        let next = rules.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        let mut v = kernel::alloc::KVVec::new();
        for r in rules {
            v.push(r, kernel::alloc::flags::GFP_KERNEL).unwrap();
        }
        let rs = crate::ruleset::Ruleset::empty().next(v, next).unwrap();
        Layers { rs: kernel::alloc::KBox::into_inner(rs), merges: 0 }
    }

    fn view(&self) -> Layered<'_> {
        self.rs.view()
    }

    fn publish(&mut self, next: kernel::alloc::KBox<crate::ruleset::Ruleset>) {
        let before = self.rs.view().base.rules.as_ptr();
        self.rs = kernel::alloc::KBox::into_inner(next);
        let v = self.rs.view();
        if v.base.rules.as_ptr() != before && !v.base.rules.is_empty() {
            assert!(v.delta.rules.is_empty() && v.dead.is_empty(), "a new base comes with an empty delta");
            self.merges += 1;
        }
    }

    fn add(&mut self, r: Rule) {
        let next = self.rs.with_added(r, r.id + 1).unwrap();
        self.publish(next);
    }

    fn del(&mut self, id: u32) -> bool {
        let Some(p) = self.rs.position(id) else { return false };
        let next = self.rs.without(p).unwrap();
        self.publish(next);
        true
    }
}

#[test]
fn layered_ruleset_decides_like_a_scan_of_the_naive_model() {
    let mut g = Rng::seeded(0xdecaf);
    let (mut checked, mut decided, mut merges) = (0u32, 0u32, 0u32);
    for round in 0..40 {
        let n0 = g.below(if round % 4 == 0 { 600 } else { 40 }) as u32;
        let mut model: Vec<Rule> = (1..=n0).map(|id| random_rule(&mut g, id)).collect();
        let mut next_id = n0 + 1;
        let mut l = Layers::new(model.clone());
        // A base alone (no delta, nothing deleted): the evaluator's shortcut.
        {
            let mut sorted = model.clone();
            sort_rules(&mut sorted);
            let v = l.view();
            for _ in 0..50 {
                let (pkt, ct, hook, with_ct) = random_packet(&mut g);
                let c = ctx(hook, &pkt, with_ct.then_some(&ct));
                let want = sorted.iter().find(|r| r.matches(&c) && r.action != Action::Log).map(|r| r.id);
                assert_eq!(v.eval(&c, |_| {}).map(|p| v.rule(p).id), want, "round {round}: base alone");
                decided += want.is_some() as u32;
            }
        }
        for step in 0..700 {
            if g.below(5) < 3 || model.is_empty() {
                let r = random_rule(&mut g, next_id);
                next_id += 1;
                model.push(r);
                l.add(r);
            } else {
                let id = model.remove(g.below(model.len() as u64) as usize).id;
                assert!(l.del(id), "round {round} step {step}: rule {id} not found");
            }
            let mut sorted = model.clone();
            sort_rules(&mut sorted);
            let v = l.view();
            assert_eq!(v.len(), sorted.len());
            if step % 7 != 0 {
                continue;
            }
            // The listing order is the evaluation order of the model.
            let listed: Vec<u32> = v.order(Cursor::default()).map(|p| v.rule(p).id).collect();
            let want: Vec<u32> = sorted.iter().map(|r| r.id).collect();
            assert_eq!(listed, want, "round {round} step {step}: order");
            // A dump resumed from a cursor continues where it stopped.
            let mut o = v.order(Cursor::default());
            let head: Vec<usize> = o.by_ref().take(listed.len() / 2).collect();
            let rest: Vec<usize> = v.order(Cursor::from_u64(o.at.to_u64())).collect();
            assert_eq!(head.len() + rest.len(), listed.len());
            for _ in 0..20 {
                let (pkt, ct, hook, with_ct) = random_packet(&mut g);
                let c = ctx(hook, &pkt, with_ct.then_some(&ct));
                let (mut l1, mut l2, mut l3) = (Vec::new(), Vec::new(), Vec::new());
                let a = v.eval(&c, |p| l1.push(v.rule(p).id)).map(|p| v.rule(p).id);
                let b = v.eval_linear(&c, |p| l2.push(v.rule(p).id)).map(|p| v.rule(p).id);
                let m = sorted.iter().filter(|r| r.matches(&c));
                let mut want = None;
                for r in m {
                    if r.action == Action::Log {
                        l3.push(r.id);
                    } else {
                        want = Some(r.id);
                        break;
                    }
                }
                assert_eq!(a, want, "round {round} step {step}: layered index and model disagree");
                assert_eq!(b, want, "round {round} step {step}: layered scan and model disagree");
                assert_eq!(l1, l3, "round {round} step {step}: log rules differ");
                assert_eq!(l2, l3);
                // A hook outside every rule's mask has nothing to decide.
                if hook_mask(&sorted) & hook_bit(Family::Ipv4, hook) == 0 {
                    assert_eq!(want, None);
                    assert!(l3.is_empty());
                }
                checked += 1;
                decided += want.is_some() as u32;
            }
        }
        merges += l.merges;
    }
    assert!(merges > 10, "only {merges} merges: the merge path is not exercised");
    assert!(decided > checked / 4, "only {decided} of {checked} packets decided by a rule");
}

#[test]
fn hook_masks() {
    assert_eq!(rule("accept").hook_mask(), ALL_HOOK_BITS);
    assert_eq!(rule("input ip6 accept").hook_mask(), hook_bit(Family::Ipv6, Hook::LocalIn));
    assert_eq!(
        rule("forward output saddr 10.0.0.0/8 drop").hook_mask(),
        hook_bit(Family::Ipv4, Hook::Forward) | hook_bit(Family::Ipv4, Hook::LocalOut)
    );
}

/// A rule keyed on one exact port (destination or original destination),
/// or, one time in `wild_one_in`, one the index cannot key (a port range).
fn keyed_rule(g: &mut Rng, id: u32, wild_one_in: u64) -> Rule {
    let mut r = random_rule(g, id);
    let p = [80u16, 8080, 443, 22, 53][g.below(5) as usize];
    r.dport = None;
    r.orig_dport = None;
    if wild_one_in > 0 && g.below(wild_one_in) == 0 {
        r.dport = Some(PortRange { min: 20, max: 100 });
    } else if g.below(2) == 0 {
        r.dport = Some(PortRange { min: p, max: p });
    } else {
        r.orig_dport = Some(PortRange { min: p, max: p });
    }
    r
}

#[test]
fn prefilter_never_skips_a_packet_a_rule_could_match() {
    // `may_match` false lets the hook return the policy without evaluating:
    // it must only say so when evaluation finds no deciding rule and no log
    // rule. Packets go to ports the rules name and to ports they do not
    // (9999, 7), with and without a DNATed conntrack entry.
    let mut g = Rng::seeded(0xf11e);
    let (mut skipped, mut kept, mut skipped_layered) = (0u32, 0u32, 0u32);
    for round in 0..200 {
        let n = 1 + g.below(if round % 10 == 0 { 300 } else { 20 }) as u32;
        let wild = if round % 4 == 0 { 5 } else { 0 };
        let rules: Vec<Rule> = (1..=n).map(|id| keyed_rule(&mut g, id, wild)).collect();
        let t = index(rules.clone());
        let mut l = Layers::new(rules);
        for id in n + 1..n + 1 + g.below(10) as u32 {
            l.add(keyed_rule(&mut g, id, wild));
        }
        if n > 2 {
            l.del(1 + g.below(u64::from(n)) as u32);
        }
        for _ in 0..50 {
            let (mut pkt, mut ct, hook, with_ct) = random_packet(&mut g);
            if g.below(3) == 0 {
                pkt.l4 = L4::Udp { sport: 1234, dport: [9999u16, 7][g.below(2) as usize] };
            }
            if g.below(3) == 0 {
                ct.dport = 7;
            }
            let c = ctx(hook, &pkt, with_ct.then_some(&ct));
            let ports = KeyPorts::of(&pkt, with_ct.then_some(&ct));
            assert_eq!(ports, c.key_ports());
            let mut logged = Vec::new();
            let decided = t.table().eval_linear(&c, |p| logged.push(p));
            if t.table().may_match(ports) {
                kept += 1;
            } else {
                assert_eq!((decided, logged.len()), (None, 0), "round {round}: the prefilter skipped a match");
                skipped += 1;
            }
            let v = l.view();
            let mut logged = Vec::new();
            let decided = v.eval_linear(&c, |p| logged.push(p));
            if !v.may_match(ports) {
                assert_eq!((decided, logged.len()), (None, 0), "round {round}: the layered prefilter skipped a match");
                skipped_layered += 1;
            }
        }
    }
    // Both answers must occur often, or the property above proves little.
    assert!(skipped > 1500 && kept > 1500, "skipped {skipped}, kept {kept} of 10000");
    assert!(skipped_layered > 1000, "layered: skipped {skipped_layered} of 10000");
}

#[test]
fn prefilter_answers_from_the_keys_and_the_unkeyed_rules() {
    let pkt = |dport| udp_pkt("10.0.0.2", 1234, "172.17.0.2", dport);
    let dnat = |dport| CtOrig {
        state: CtState::New,
        reply: false,
        dnat: true,
        proto: 17,
        src: Addr::V4([10, 0, 0, 2]),
        dst: Addr::V4([10, 0, 0, 1]),
        sport: 1234,
        dport,
    };
    let t = index(std::vec![rule("udp dport 8080 accept"), rule("orig-dport 80 drop")]);
    let may = |p: &Packet, ct: Option<&CtOrig>| t.table().may_match(KeyPorts::of(p, ct));
    assert!(may(&pkt(8080), None), "a rule names the destination port");
    assert!(!may(&pkt(9999), None), "no rule names 9999");
    assert!(may(&pkt(9999), Some(&dnat(80))), "published port 80, DNATed to 9999");
    assert!(!may(&pkt(9999), Some(&dnat(81))));
    // Without a conntrack entry the original destination is the packet's own.
    assert!(may(&pkt(80), None));
    // An ICMP packet has no port: only unkeyed rules can match it.
    let mut icmp = pkt(0);
    icmp.l4 = L4::Icmp { ty: 8, code: 0, id: 1 };
    assert!(!may(&icmp, None));
    let w = index(std::vec![rule("udp dport 8080 accept"), rule("dport 1-100 drop")]);
    assert!(w.table().may_match(KeyPorts::of(&icmp, None)), "an unkeyed rule can match anything");
    assert!(!index(Vec::new()).table().may_match(KeyPorts::of(&pkt(80), None)), "no rules, nothing to match");
}

/// The module's parser, matcher and index against the independent
/// reference of `reference.rs`: random rules drawn as plain values, printed,
/// parsed; random packets (TCP, UDP, ICMP, GRE; IPv4 and IPv6; with and
/// without devices and conntrack, either direction) decided both ways.
#[test]
fn matches_the_independent_reference() {
    use crate::reference::{check, random_packet, random_rule, Rng};
    let mut g = Rng::seeded(0xd0c4_f00d);
    let (mut decided, mut logged, mut packets) = (0, 0, 0);
    for round in 0..400 {
        let n = 1 + g.below(if round % 10 == 0 { 300 } else { 25 }) as usize;
        let refs: Vec<_> = (0..n).map(|_| random_rule(&mut g)).collect();
        let pkts: Vec<_> = (0..60).map(|_| random_packet(&mut g)).collect();
        let (d, l) = check(&refs, &pkts).unwrap_or_else(|e| panic!("round {round}: {e}"));
        decided += d;
        logged += l;
        packets += pkts.len();
    }
    // The draw must exercise both outcomes, or agreement proves little.
    assert!(decided > packets / 5 && decided < packets * 4 / 5, "{decided} of {packets} packets decided");
    assert!(logged > packets / 50, "only {logged} of {packets} packets met a log rule");
}

/// Edges that cargo-mutants found unguarded (make mutants): the limits of
/// comments, hook masks, container resolution and prefix normalisation.
#[test]
fn validation_edges() {
    let mut r = rule("accept");
    let c63 = "c".repeat(63);
    assert!(r.set_comment(&c63).is_ok(), "63 characters are allowed");
    assert_eq!(r.comment(), c63);
    assert!(r.set_comment(&"c".repeat(64)).is_err(), "64 characters are not");
    assert!(r.set_comment("two words").is_err(), "a space is refused");
    assert!(r.set_comment("caf\u{e9}").is_err(), "non-ASCII is refused");
    assert!(r.set_comment("").is_ok(), "an empty comment clears it");

    let mut r = rule("accept");
    r.hooks = 0;
    assert!(r.validate_shape().is_err(), "no hook at all");
    r.hooks = 0x40 | 1;
    assert!(r.validate_shape().is_err(), "a bit past the five inet hooks");
    r.hooks = 1;
    assert!(r.validate_shape().is_ok());

    // A container reference is resolved only by a full-length address.
    let mut r = rule("from-container web accept");
    r.saddr = Some(parse_prefix("172.17.0.2/32").unwrap());
    assert!(r.validate().is_ok(), "resolved to a /32");
    r.saddr = Some(parse_prefix("172.17.0.0/24").unwrap());
    assert!(r.validate().is_err(), "a /24 is not one container's address");
    let mut r = rule("to-container web accept");
    r.daddr = Some(parse_prefix("fd00::2/128").unwrap());
    assert!(r.validate().is_ok());
    r.daddr = Some(parse_prefix("fd00::/64").unwrap());
    assert!(r.validate().is_err());

    // Host bits cleared, inside an octet too.
    let p = parse_prefix("10.1.3.255/23").unwrap().normalized();
    assert_eq!(p, parse_prefix("10.1.2.0/23").unwrap());
    let p = parse_prefix("fd00::ffff/121").unwrap().normalized();
    assert_eq!(p, parse_prefix("fd00::ff80/121").unwrap());
}

/// The index keeps a rule's kind of port apart (its destination port or its
/// original, pre-DNAT one): the same number gives two distinct keys.
/// (Decisions would survive a collision, since every candidate is matched
/// in full; the index would just do more work, which no other test sees.)
#[test]
fn dport_and_orig_dport_keys_are_distinct() {
    let t = index(std::vec![rule("tcp dport 80 accept"), rule("tcp orig-dport 80 drop")]);
    let mut ks: Vec<u64> = t.keys.iter().map(|k| k >> 32).collect();
    ks.sort_unstable();
    assert_eq!(ks.len(), 2);
    assert_ne!(ks[0], ks[1], "dport 80 and orig-dport 80 share an index key");
}

/// The fuzz target's way of choosing (one input byte per choice): the same
/// bytes give the same rules and packets, and the module agrees with the
/// reference on a spread of tapes.
#[test]
fn reference_from_byte_tapes() {
    use crate::reference::{check, random_packet, random_rule, Rng};
    for k in 0..300u32 {
        let tape: Vec<u8> = (0..400u32).map(|i| ((k * 131 + i * 37 + i * i) % 256) as u8).collect();
        let draw = |tape: &[u8]| {
            let mut g = Rng::from_tape(tape);
            let n = 1 + g.below(12) as usize;
            let rules: Vec<_> = (0..n).map(|_| random_rule(&mut g)).collect();
            let pkts: Vec<_> = (0..6).map(|_| random_packet(&mut g)).collect();
            (rules, pkts)
        };
        let (rules, pkts) = draw(&tape);
        let (again, _) = draw(&tape);
        assert_eq!(rules.iter().map(|r| r.text()).collect::<Vec<_>>(), again.iter().map(|r| r.text()).collect::<Vec<_>>());
        check(&rules, &pkts).unwrap_or_else(|e| panic!("tape {k}: {e}"));
    }
}

/// Numbers in the rule language are plain decimal digits: a sign that
/// Rust's own parser would take is refused (cargo-mutants found the check
/// unguarded), as is an empty one.
#[test]
fn numbers_are_plain_digits() {
    for bad in ["prio +5 accept", "netns +7 accept", "proto +6 accept", "id +3 accept", "prio -1 accept"] {
        assert!(parse_rule(bad.split_whitespace()).is_err(), "{bad} was accepted");
    }
    assert_eq!(rule("prio 5 accept").priority, 5);
}

/// The protocol names of the trace (dmesg and stream).
#[test]
fn trace_protocol_names() {
    assert_eq!(crate::packet::proto_name(6), "TCP");
    assert_eq!(crate::packet::proto_name(17), "UDP");
    assert_eq!(crate::packet::proto_name(1), "ICMP");
    assert_eq!(crate::packet::proto_name(58), "ICMPv6");
    assert_eq!(crate::packet::proto_name(47), "IP");
}

/// More edges cargo-mutants found in the rule language: iif and oif are
/// separate keywords (one of each is fine), a container reference and an
/// explicit address of the same side conflict (either order), and a rule
/// without an id is written without one even when ids are asked for.
#[test]
fn rule_language_edges() {
    let r = rule("iif veth+ oif docker0 accept");
    assert!(r.iif.is_some() && r.oif.is_some());
    for bad in ["from-container web saddr 10.0.0.1 accept", "to-container web daddr 10.0.0.1 accept",
                "in-container web netns 5 accept"] {
        assert!(parse_rule(bad.split_whitespace()).is_err(), "{bad} was accepted");
    }
    let mut s = String::new();
    write_rule(&mut s, &rule("tcp dport 80 accept"), true).unwrap();
    assert_eq!(s, "tcp dport 80 accept");
    let mut s = String::new();
    let mut r = rule("tcp dport 80 accept");
    r.id = 7;
    write_rule(&mut s, &r, true).unwrap();
    assert_eq!(s, "id 7 tcp dport 80 accept");
}
