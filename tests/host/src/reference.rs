// SPDX-License-Identifier: GPL-2.0
//! An independent oracle for rule matching: the rule language's meaning as
//! the README states it, written from scratch: `RRule::matches` and
//! `decide` use no code of `src/pure/rules.rs` (no `Rule::matches`, no index, no
//! `orig_dst`, no `Prefix`); only `check`, which runs the module's side,
//! calls the parser and the index. Random rules are drawn here as plain values, printed as rule
//! text, and parsed by the real parser; the module's indexed evaluation of
//! the parsed rules must then decide every random packet exactly as this
//! file does from the plain values. A slip in the parser, the matcher or
//! the index makes them disagree; a slip here does too, so the two are
//! checked against each other rather than one against itself. Used by the
//! host test `matches_the_independent_reference` (fixed seed) and the fuzz
//! target `reference` (the fuzzer's bytes choose the rules and packets).

use crate::model::{Addr, CtOrig, CtState, Family, Hook, IfName};
use crate::packet::{Packet, L4};
use crate::rule_syntax::parse_rule;
use crate::rules::{build_index, filter_words, index_sizes, sort_rules, Ctx, Needs, Rule, Table};
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

/// Where the random choices come from: a generator (xorshift) from a fixed
/// seed, so failures replay; or a fuzzer's input, one byte per choice
/// (then the generator once the bytes run out), so that libFuzzer's
/// mutations of the input are mutations of the rules and packets.
pub struct Rng {
    x: u64,
    tape: Vec<u8>,
    pos: usize,
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng { x: seed | 1, tape: Vec::new(), pos: 0 }
    }
    pub fn from_tape(bytes: &[u8]) -> Rng {
        Rng { x: 0x9e37_79b9_7f4a_7c15, tape: bytes.to_vec(), pos: 0 }
    }
    pub fn next(&mut self) -> u64 {
        if let Some(&b) = self.tape.get(self.pos) {
            self.pos += 1;
            return u64::from(b);
        }
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// The priority of a rule that names none (README: "`prio` 1000 when not
/// given").
pub const DEFAULT_PRIO: u32 = 1000;
pub const HOOKS: [&str; 5] = ["prerouting", "input", "forward", "output", "postrouting"];
pub const STATES: [&str; 4] = ["new", "established", "related", "untracked"];

/// An address as 16 bytes and its family (4 or 6); IPv4 in the first 4.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RAddr {
    pub fam: u8,
    pub b: [u8; 16],
}

impl RAddr {
    pub fn v4(a: [u8; 4]) -> Self {
        let mut b = [0; 16];
        b[..4].copy_from_slice(&a);
        RAddr { fam: 4, b }
    }
    pub fn v6(last: u8) -> Self {
        let mut b = [0; 16];
        b[0] = 0xfd;
        b[15] = last;
        RAddr { fam: 6, b }
    }
    pub fn text(&self) -> String {
        // (prio: 1000 when not written; written only when it differs.)
        if self.fam == 4 {
            format!("{}.{}.{}.{}", self.b[0], self.b[1], self.b[2], self.b[3])
        } else {
            let w: Vec<String> = (0..8).map(|i| format!("{:x}", u16::from_be_bytes([self.b[2 * i], self.b[2 * i + 1]]))).collect();
            w.join(":")
        }
    }
    /// Bit `i` (0 = most significant).
    fn bit(&self, i: usize) -> bool {
        self.b[i / 8] & (0x80 >> (i % 8)) != 0
    }
}

/// `addr/len`: the first `len` bits equal, same family.
fn in_prefix(a: &RAddr, p: &(RAddr, u8)) -> bool {
    a.fam == p.0.fam && (0..p.1 as usize).all(|i| a.bit(i) == p.0.bit(i))
}

#[derive(Clone, Debug)]
pub struct RRule {
    pub prio: u32,
    pub hooks: Vec<usize>,
    pub fam: Option<u8>,
    pub proto: Option<u8>,
    pub saddr: Option<(RAddr, u8)>,
    pub daddr: Option<(RAddr, u8)>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
    pub iif: Option<(String, bool)>,
    pub oif: Option<(String, bool)>,
    /// None: any; Some(None): host; Some(Some(n)): inode n.
    pub netns: Option<Option<u32>>,
    pub ct: Vec<usize>,
    pub orig_daddr: Option<(RAddr, u8)>,
    pub orig_dport: Option<(u16, u16)>,
    /// "accept", "drop" or "log".
    pub action: &'static str,
}

/// The packet and what the hook knows about it.
#[derive(Clone, Debug)]
pub struct RPacket {
    pub hook: usize,
    pub fam: u8,
    pub proto: u8,
    pub src: RAddr,
    pub dst: RAddr,
    /// (sport, dport) for TCP and UDP, None otherwise.
    pub ports: Option<(u16, u16)>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub netns: u32,
    pub host: bool,
    /// Conntrack: (state index into STATES, reply direction, original
    /// destination address and port). None: untracked.
    pub ct: Option<(usize, bool, RAddr, u16)>,
}

fn in_range(x: u16, r: (u16, u16)) -> bool {
    r.0 <= x && x <= r.1
}

fn dev_ok(m: &Option<(String, bool)>, dev: &Option<String>) -> bool {
    match (m, dev) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((name, true)), Some(d)) => d.starts_with(name.as_str()),
        (Some((name, false)), Some(d)) => d == name,
    }
}

impl RRule {
    /// The rule's meaning, clause by clause, as the README states it.
    pub fn matches(&self, p: &RPacket) -> bool {
        let hook_ok = self.hooks.is_empty() || self.hooks.contains(&p.hook);
        let fam_ok = self.fam.map_or(true, |f| f == p.fam);
        let proto_ok = self.proto.map_or(true, |x| x == p.proto);
        let s_ok = self.saddr.as_ref().map_or(true, |x| in_prefix(&p.src, x));
        let d_ok = self.daddr.as_ref().map_or(true, |x| in_prefix(&p.dst, x));
        let sport_ok = self.sport.map_or(true, |r| p.ports.is_some_and(|(s, _)| in_range(s, r)));
        let dport_ok = self.dport.map_or(true, |r| p.ports.is_some_and(|(_, d)| in_range(d, r)));
        let netns_ok = match self.netns {
            None => true,
            Some(None) => p.host,
            Some(Some(n)) => p.netns == n,
        };
        let state = p.ct.map_or(3, |c| c.0);
        let ct_ok = self.ct.is_empty() || self.ct.contains(&state);
        // The destination before DNAT: conntrack's original tuple for a
        // packet of the original direction, else the packet's own.
        // (A protocol without ports has no original port either.)
        let (odst, oport) = match p.ct {
            Some((_, false, a, port)) => (a, matches!(p.proto, 6 | 17).then_some(port)),
            _ => (p.dst, p.ports.map(|x| x.1)),
        };
        let odst_ok = self.orig_daddr.as_ref().map_or(true, |x| in_prefix(&odst, x));
        let oport_ok = self.orig_dport.map_or(true, |r| oport.is_some_and(|x| in_range(x, r)));
        hook_ok && fam_ok && proto_ok && s_ok && d_ok && sport_ok && dport_ok && netns_ok
            && dev_ok(&self.iif, &p.iif) && dev_ok(&self.oif, &p.oif) && ct_ok && odst_ok && oport_ok
    }

    /// The rule in dockfw's rule language.
    pub fn text(&self) -> String {
        let mut t: Vec<String> = self.hooks.iter().map(|&h| HOOKS[h].into()).collect();
        if let Some(f) = self.fam {
            t.push(if f == 4 { "ip" } else { "ip6" }.into());
        }
        if let Some(p) = self.proto {
            t.push(match p {
                6 => "tcp".into(),
                17 => "udp".into(),
                1 => "icmp".into(),
                n => format!("proto {n}"),
            });
        }
        let pfx = |k: &str, x: &Option<(RAddr, u8)>, t: &mut Vec<String>| {
            if let Some((a, l)) = x {
                t.push(format!("{k} {}/{l}", a.text()));
            }
        };
        let rng = |k: &str, x: Option<(u16, u16)>, t: &mut Vec<String>| {
            if let Some((a, b)) = x {
                t.push(if a == b { format!("{k} {a}") } else { format!("{k} {a}-{b}") });
            }
        };
        pfx("saddr", &self.saddr, &mut t);
        pfx("daddr", &self.daddr, &mut t);
        rng("sport", self.sport, &mut t);
        rng("dport", self.dport, &mut t);
        for (k, m) in [("iif", &self.iif), ("oif", &self.oif)] {
            if let Some((n, w)) = m {
                t.push(format!("{k} {n}{}", if *w { "+" } else { "" }));
            }
        }
        match self.netns {
            None => {}
            Some(None) => t.push("netns host".into()),
            Some(Some(n)) => t.push(format!("netns {n}")),
        }
        if !self.ct.is_empty() {
            let s: Vec<&str> = self.ct.iter().map(|&i| STATES[i]).collect();
            t.push(format!("ct {}", s.join(",")));
        }
        pfx("orig-daddr", &self.orig_daddr, &mut t);
        rng("orig-dport", self.orig_dport, &mut t);
        if self.prio != DEFAULT_PRIO {
            t.push(format!("prio {}", self.prio));
        }
        t.push(self.action.into());
        t.join(" ")
    }
}

/// The ruleset's decision: rules in (priority, position) order, `log`
/// rules noted and passed, the first accept or drop decides. Returns the
/// deciding rule's position and the positions of the log rules met.
pub fn decide(rules: &[RRule], p: &RPacket) -> (Option<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| (rules[i].prio, i));
    let mut logs = vec![];
    for i in order {
        if rules[i].matches(p) {
            if rules[i].action == "log" {
                logs.push(i);
            } else {
                return (Some(i), logs);
            }
        }
    }
    (None, logs)
}

const PORTS: [u16; 6] = [22, 53, 80, 443, 8080, 9999];
const DEVS: [&str; 4] = ["veth-ext", "veth-c1", "docker0", "eth0"];
const NETNS: [u32; 3] = [4026531840, 4026532001, 4026532002];

fn v4_pool(g: &mut Rng) -> RAddr {
    RAddr::v4([g.pick(&[10u8, 172]), g.pick(&[0u8, 1, 17]), g.pick(&[0u8, 1]), g.pick(&[1u8, 2, 200])])
}

fn prefix(g: &mut Rng, fam: u8) -> (RAddr, u8) {
    let a = if fam == 6 { RAddr::v6(g.pick(&[1u8, 2, 0x81])) } else { v4_pool(g) };
    let len = if a.fam == 4 { g.pick(&[0u8, 8, 12, 16, 23, 24, 31, 32]) } else { g.pick(&[0u8, 8, 64, 121, 128]) };
    (a, len)
}

fn range(g: &mut Rng) -> (u16, u16) {
    if g.chance(3) {
        let (a, b) = (g.pick(&PORTS), g.pick(&PORTS));
        (a.min(b), a.max(b))
    } else {
        let p = g.pick(&PORTS);
        (p, p)
    }
}

fn dev_match(g: &mut Rng) -> (String, bool) {
    if g.chance(3) {
        (g.pick(&["veth", "veth-", "d", "eth0"]).into(), true)
    } else {
        (g.pick(&DEVS).into(), false)
    }
}

/// A random rule; each clause present with some probability, within what
/// the language accepts: the addresses of one rule share its family, and
/// ports go with tcp, udp or no protocol.
pub fn random_rule(g: &mut Rng) -> RRule {
    let fam = if g.chance(6) { Some(g.pick(&[4u8, 6])) } else { None };
    let pf = fam.unwrap_or(if g.chance(5) { 6 } else { 4 });
    let proto = if g.chance(2) { Some(g.pick(&[6u8, 17, 1, 47])) } else { None };
    let ports = matches!(proto, None | Some(6) | Some(17));
    let mut hooks = vec![];
    if g.chance(3) {
        for h in 0..5 {
            if g.chance(2) {
                hooks.push(h);
            }
        }
    }
    let mut ct = vec![];
    if g.chance(5) {
        for s in 0..4 {
            if g.chance(2) {
                ct.push(s);
            }
        }
    }
    RRule {
        prio: if g.chance(3) { g.pick(&[0u32, 10, 1000, 2000]) } else { DEFAULT_PRIO },
        hooks,
        fam,
        proto,
        saddr: g.chance(4).then(|| prefix(g, pf)),
        daddr: g.chance(5).then(|| prefix(g, pf)),
        sport: (ports && g.chance(8)).then(|| range(g)),
        dport: (ports && g.chance(2)).then(|| range(g)),
        iif: g.chance(6).then(|| dev_match(g)),
        oif: g.chance(6).then(|| dev_match(g)),
        netns: if g.chance(6) { Some(if g.chance(2) { None } else { Some(g.pick(&NETNS)) }) } else { None },
        ct,
        orig_daddr: g.chance(5).then(|| prefix(g, pf)),
        orig_dport: g.chance(3).then(|| range(g)),
        action: g.pick(&["accept", "drop", "log"]),
    }
}

/// A random packet at a random hook: TCP, UDP, ICMP or GRE, IPv4 or IPv6,
/// with or without devices, conntrack entry (either direction, DNATed or
/// not).
pub fn random_packet(g: &mut Rng) -> RPacket {
    let v6 = g.chance(5);
    let pick_addr = |g: &mut Rng| if v6 { RAddr::v6(g.pick(&[1u8, 2, 0x81])) } else { v4_pool(g) };
    let (src, dst) = (pick_addr(g), pick_addr(g));
    let proto = g.pick(&[6u8, 17, 6, 17, 1, 47]);
    let ports = matches!(proto, 6 | 17).then(|| (g.pick(&PORTS), g.pick(&PORTS)));
    let netns = g.pick(&NETNS);
    let ct = (!g.chance(4)).then(|| {
        let odst = if g.chance(2) { pick_addr(g) } else { dst };
        (g.below(3) as usize, g.chance(4), odst, g.pick(&PORTS))
    });
    RPacket {
        hook: g.below(5) as usize,
        fam: if v6 { 6 } else { 4 },
        proto,
        src,
        dst,
        ports,
        iif: (!g.chance(4)).then(|| g.pick(&DEVS).into()),
        oif: (!g.chance(4)).then(|| g.pick(&DEVS).into()),
        netns,
        host: netns == NETNS[0],
        ct,
    }
}

/// Rules in evaluation order with their index, as the module's tables hold
/// them (the host tests' way to build one).
pub struct Indexed {
    pub rules: Vec<Rule>,
    pub keys: Vec<u64>,
    pub wild: Vec<u32>,
    pub filter: Vec<u64>,
    pub needs: Needs,
}

pub fn index(mut rules: Vec<Rule>) -> Indexed {
    sort_rules(&mut rules);
    let (nk, nw) = index_sizes(&rules);
    let (mut keys, mut wild, mut filter) = (vec![0u64; nk], vec![0u32; nw], vec![0u64; filter_words(nk)]);
    let needs = build_index(&rules, &mut keys, &mut wild, &mut filter);
    Indexed { rules, keys, wild, filter, needs }
}

impl Indexed {
    pub fn table(&self) -> Table<'_> {
        Table { rules: &self.rules, keys: &self.keys, wild: &self.wild, filter: &self.filter }
    }
}

/// The real model's view of a reference packet.
pub fn real_packet(p: &RPacket) -> (Packet, Option<CtOrig>) {
    let addr = |a: &RAddr| if a.fam == 4 { Addr::V4([a.b[0], a.b[1], a.b[2], a.b[3]]) } else { Addr::V6(a.b) };
    let l4 = match (p.proto, p.ports) {
        (6, Some((sport, dport))) => L4::Tcp { sport, dport, flags: 2 },
        (17, Some((sport, dport))) => L4::Udp { sport, dport },
        (1, _) => L4::Icmp { ty: 8, code: 0, id: 77 },
        _ => L4::Other,
    };
    let family = if p.fam == 4 { Family::Ipv4 } else { Family::Ipv6 };
    let pkt = Packet { family, proto: p.proto, saddr: addr(&p.src), daddr: addr(&p.dst), ip_id: 0, l4 };
    let ct = p.ct.map(|(state, reply, odst, oport)| CtOrig {
        state: [CtState::New, CtState::Established, CtState::Related][state],
        reply,
        dnat: odst != p.dst,
        proto: p.proto,
        src: addr(&p.src),
        dst: addr(&odst),
        sport: p.ports.map_or(0, |x| x.0),
        dport: oport,
    });
    (pkt, ct)
}

/// The module's way (rule text parsed, indexed, evaluated on a context
/// built as the hook builds it: only the parts some rule `needs`) against
/// the reference's (`decide`) for every packet: the deciding rule and the
/// log rules met must agree. Returns how many packets a rule decided and how
/// many met a log rule; the first disagreement, with the rules, otherwise.
pub fn check(refs: &[RRule], packets: &[RPacket]) -> Result<(usize, usize), String> {
    let mut rules: Vec<Rule> = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let t = r.text();
        let mut x = parse_rule(t.split_whitespace()).map_err(|e| format!("{t:?} does not parse: {e:?}"))?;
        x.id = i as u32 + 1;
        rules.push(x);
    }
    let Indexed { rules, keys, wild, filter, needs } = index(rules);
    let each = rules.iter().map(Rule::needs).fold(Needs::default(), |a, b| Needs {
        ct: a.ct || b.ct,
        ifnames: a.ifnames || b.ifnames,
        netns: a.netns || b.netns,
    });
    if needs != each {
        return Err(format!("the index needs {needs:?}, its rules one by one {each:?}"));
    }
    let t = Table { rules: &rules, keys: &keys, wild: &wild, filter: &filter };
    let (mut decided, mut logged) = (0, 0);
    for p in packets {
        let (pkt, ct) = real_packet(p);
        // As hooks.rs builds it: what no rule looks at is left out (no
        // conntrack lookup, no device names, no namespace).
        let c = Ctx {
            hook: Hook::ALL[p.hook],
            pkt: &pkt,
            ct: if needs.ct { ct.as_ref() } else { None },
            iif: if needs.ifnames { p.iif.as_deref().and_then(IfName::new) } else { None },
            oif: if needs.ifnames { p.oif.as_deref().and_then(IfName::new) } else { None },
            netns: if needs.netns { p.netns } else { 0 },
            host: needs.netns && p.host,
        };
        let mut logs = Vec::new();
        let got = t.eval(&c, |pos| logs.push(rules[pos].id as usize - 1)).map(|pos| rules[pos].id as usize - 1);
        let (want, want_logs) = decide(refs, p);
        if got != want || logs != want_logs {
            let texts: Vec<String> = refs.iter().map(|r| r.text()).collect();
            return Err(format!("decided by {got:?} logging {logs:?}, the reference says {want:?} logging \
                                {want_logs:?}, for {p:?}\nrules:\n{}", texts.join("\n")));
        }
        decided += want.is_some() as usize;
        logged += !want_logs.is_empty() as usize;
    }
    Ok((decided, logged))
}
