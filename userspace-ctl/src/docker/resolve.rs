// SPDX-License-Identifier: GPL-2.0
//! Container references in rules (`from-container`, `to-container`,
//! `in-container`) resolved against what the Docker engine says about each
//! container: the address it has on its network, or its network namespace.
//! The kernel never resolves names; it only accepts a rule that carries
//! the resolved value or is marked inactive. Pure: the engine's answers
//! come in as a map, so `add`, `restore`, `trace` and `watch` share this
//! and the tests need no engine.
//!
//! Strict resolution (add, restore, trace) refuses what it cannot resolve
//! (an unknown container, a container on several networks without
//! `@NETWORK`, no address of the rule's family) and marks a rule inactive
//! only for a container that exists but is not running. Lenient resolution
//! (watch) never refuses: whatever does not resolve makes the rule
//! inactive, so a rule never keeps an address Docker may give another
//! container.

use super::model::{Container, Network};
use crate::model::{Addr, Family};
use crate::rule_syntax::write_rule;
use crate::rules::{CtrRole, NetnsMatch, Prefix, Rule};
use std::collections::HashMap;

/// The engine's answer for each container name a set of rules uses
/// (`None`: no such container).
pub type Lookup = HashMap<String, Option<Container>>;

/// `web@frontend` -> (`web`, Some(`frontend`)).
pub fn split_ref(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('@') {
        Some((c, n)) => (c, Some(n)),
        None => (spec, None),
    }
}

/// The container names (without `@NETWORK`) a rule refers to.
pub fn names(r: &Rule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for role in CtrRole::ALL {
        if let Some(s) = r.container(role) {
            let n = split_ref(s).0.to_string();
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

pub fn has_refs(r: &Rule) -> bool {
    CtrRole::ALL.iter().any(|&role| r.container(role).is_some())
}

/// The rule without what earlier resolutions put in: the fields its
/// container references own are cleared, the inactive flag too.
pub fn unresolved(r: &Rule) -> Rule {
    let mut b = *r;
    b.inactive = false;
    if b.container(CtrRole::Src).is_some() {
        b.saddr = None;
    }
    if b.container(CtrRole::Dst).is_some() {
        b.daddr = None;
    }
    if b.container(CtrRole::Netns).is_some() {
        b.netns = NetnsMatch::Any;
    }
    b
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every reference resolved: the rule to send.
    Active(Rule),
    /// The rule to send, marked inactive, and why.
    Inactive(Rule, String),
}

impl Outcome {
    pub fn rule(&self) -> &Rule {
        match self {
            Outcome::Active(r) | Outcome::Inactive(r, _) => r,
        }
    }
}

/// Why a reference does not resolve: `Down` makes the rule inactive even
/// in strict mode (the container exists but is not running); `Fail` is an
/// error in strict mode.
enum Problem {
    Down(String),
    Fail(String),
}

fn fam_name(f: Family) -> &'static str {
    match f {
        Family::Ipv4 => "IPv4",
        Family::Ipv6 => "IPv6",
    }
}

fn net_list(c: &Container) -> String {
    c.networks.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The network of `c` a reference means: the one named after `@`, or the
/// only one.
fn pick_network<'a>(c: &'a Container, spec: &str, net: Option<&str>) -> Result<&'a Network, Problem> {
    match net {
        Some(n) => c.networks.iter().find(|x| x.name == n).ok_or_else(|| {
            Problem::Fail(format!(
                "container {} is not on network {n} (its networks: {})",
                c.name,
                if c.networks.is_empty() { "none".to_string() } else { net_list(c) }
            ))
        }),
        None => match c.networks.as_slice() {
            [one] => Ok(one),
            [] => Err(Problem::Fail(format!("container {} is attached to no network", c.name))),
            _ => Err(Problem::Fail(format!(
                "container {} is on several networks ({}): name one as {spec}@NETWORK",
                c.name,
                net_list(c)
            ))),
        },
    }
}

fn addr_of(n: &Network, f: Family) -> Option<Addr> {
    match f {
        Family::Ipv4 => n.ipv4,
        Family::Ipv6 => n.ipv6,
    }
}

fn host_prefix(a: Addr) -> Prefix {
    let len = match a {
        Addr::V4(_) => 32,
        Addr::V6(_) => 128,
    };
    Prefix { addr: a, len }
}

/// Resolves every container reference of `rule` against `look`.
/// Strict: `Err` with a message for what cannot be resolved (only a
/// stopped container gives `Inactive`). Lenient: never `Err`.
pub fn resolve(rule: &Rule, look: &Lookup, strict: bool) -> Result<Outcome, String> {
    let base = unresolved(rule);
    if !has_refs(&base) {
        return Ok(Outcome::Active(base));
    }
    let mut problem: Option<Problem> = None;
    let mut note = |p: Problem| {
        // A failure outranks a stopped container (strict mode must refuse).
        if !matches!(problem, Some(Problem::Fail(_))) {
            problem = Some(p);
        }
    };
    let mut addr_refs: Vec<(CtrRole, &Container, &Network)> = Vec::new();
    let mut netns = None;
    for role in CtrRole::ALL {
        let Some(spec) = base.container(role) else { continue };
        let (name, net) = split_ref(spec);
        let c = match look.get(name) {
            Some(Some(c)) => c,
            _ => {
                note(Problem::Fail(format!("no such container: {name}")));
                continue;
            }
        };
        if role == CtrRole::Netns {
            if !c.running {
                note(Problem::Down(format!("container {name} is not running")));
            } else {
                match c.netns {
                    Some(n) => netns = Some(n),
                    None => note(Problem::Fail(format!(
                        "cannot read the network namespace of container {name} (/proc/{}/ns/net)",
                        c.pid
                    ))),
                }
            }
            continue;
        }
        match pick_network(c, name, net) {
            Err(p) => note(p),
            Ok(_) if !c.running => note(Problem::Down(format!("container {name} is not running"))),
            Ok(n) => addr_refs.push((role, c, n)),
        }
    }
    // The family: the rule's `ip`/`ip6`, or that of its other addresses,
    // or the first one every referenced network has an address of.
    let fixed = base.family.or_else(|| [base.saddr, base.daddr, base.orig_daddr].iter().flatten().next().map(|p| p.addr.family()));
    let fam = fixed.or_else(|| {
        [Family::Ipv4, Family::Ipv6].into_iter().find(|&f| addr_refs.iter().all(|(_, _, n)| addr_of(n, f).is_some()))
    });
    let mut out = base;
    for &(role, c, n) in &addr_refs {
        let a = fam.and_then(|f| addr_of(n, f));
        match a {
            Some(a) => {
                if role == CtrRole::Src {
                    out.saddr = Some(host_prefix(a));
                } else {
                    out.daddr = Some(host_prefix(a));
                }
            }
            None => note(Problem::Fail(match (fam, n.ipv4.or(n.ipv6)) {
                (_, None) => format!("container {} has no address on network {}", c.name, n.name),
                (Some(f), Some(_)) => format!("container {} has no {} address on network {}", c.name, fam_name(f), n.name),
                (None, Some(_)) => format!(
                    "the containers of this rule have no address family in common (container {} on network {})",
                    c.name, n.name
                ),
            })),
        }
    }
    if let Some(n) = netns {
        out.netns = NetnsMatch::Inum(n);
    }
    match problem {
        None => Ok(Outcome::Active(out)),
        Some(Problem::Fail(m)) if strict => Err(m),
        Some(Problem::Fail(m)) | Some(Problem::Down(m)) => {
            let mut r = unresolved(rule);
            r.inactive = true;
            Ok(Outcome::Inactive(r, m))
        }
    }
}

/// What a rule's references currently resolve to, for `list` and
/// `watch`'s log: `to-container web=172.17.0.3, in-container web=netns
/// 4026532201`, or `inactive`.
pub fn resolved_text(r: &Rule) -> String {
    if r.inactive {
        return "inactive".into();
    }
    let mut parts = Vec::new();
    for role in CtrRole::ALL {
        let Some(spec) = r.container(role) else { continue };
        let v = match role {
            CtrRole::Src => r.saddr.map(|p| p.addr.to_string()),
            CtrRole::Dst => r.daddr.map(|p| p.addr.to_string()),
            CtrRole::Netns => match r.netns {
                NetnsMatch::Inum(n) => Some(format!("netns {n}")),
                _ => None,
            },
        };
        parts.push(format!("{} {spec}={}", role.keyword(), v.unwrap_or_else(|| "?".into())));
    }
    parts.join(", ")
}

/// One rule `watch` rewrites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub id: u32,
    /// The rule's text (names, not addresses).
    pub rule: String,
    pub old: String,
    pub new: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {} ({}): {} -> {}", self.id, self.rule, self.old, self.new)
    }
}

/// `watch`'s decision: the ruleset re-resolved against `look` (same
/// order, same ids, so the kernel keeps every counter), and the rules that
/// changed. Lenient: a container that is gone, stopped, ambiguous or
/// without an address makes its rules inactive.
pub fn plan(rules: &[Rule], look: &Lookup) -> (Vec<Rule>, Vec<Change>) {
    let mut out = Vec::with_capacity(rules.len());
    let mut changes = Vec::new();
    for r in rules {
        if !has_refs(r) {
            out.push(*r);
            continue;
        }
        let o = resolve(r, look, false).expect("lenient resolution does not fail");
        let new = *o.rule();
        if new != *r {
            let mut text = String::new();
            let _ = write_rule(&mut text, r, false);
            let new_text = match &o {
                Outcome::Active(n) => resolved_text(n),
                Outcome::Inactive(_, why) => format!("inactive ({why})"),
            };
            changes.push(Change { id: r.id, rule: text, old: resolved_text(r), new: new_text });
        }
        out.push(new);
    }
    (out, changes)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::model::parse_addr;
    use crate::rule_syntax::parse_rule;

    pub fn net(name: &str, v4: Option<&str>, v6: Option<&str>) -> Network {
        Network { name: name.into(), ipv4: v4.and_then(parse_addr), ipv6: v6.and_then(parse_addr) }
    }

    pub fn ctr(name: &str, running: bool, nets: Vec<Network>) -> Container {
        Container {
            id: format!("{:0<64}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>()),
            name: name.into(),
            running,
            pid: if running { 4242 } else { 0 },
            netns: running.then_some(4026532500),
            networks: nets,
        }
    }

    fn rule(s: &str) -> Rule {
        parse_rule(s.split_whitespace()).unwrap()
    }

    fn look(cs: Vec<Container>, missing: &[&str]) -> Lookup {
        let mut m: Lookup = cs.into_iter().map(|c| (c.name.clone(), Some(c))).collect();
        for n in missing {
            m.insert((*n).into(), None);
        }
        m
    }

    fn web(ip: &str) -> Container {
        ctr("web", true, vec![net("bridge", Some(ip), None)])
    }

    #[test]
    fn to_container_resolves_to_a_host_prefix() {
        let r = rule("forward tcp orig-dport 80 to-container web saddr 172.16.0.0/24 accept");
        assert_eq!(names(&r), vec!["web"]);
        let o = resolve(&r, &look(vec![web("172.17.0.2")], &[]), true).unwrap();
        let Outcome::Active(a) = o else { panic!("{o:?}") };
        assert_eq!(a.daddr, Some(Prefix { addr: parse_addr("172.17.0.2").unwrap(), len: 32 }));
        assert_eq!(a.saddr.unwrap().len, 24);
        assert!(!a.inactive);
        assert!(a.validate().is_ok());
        assert_eq!(resolved_text(&a), "to-container web=172.17.0.2");
        // Printing shows the name, never the address.
        let mut t = String::new();
        write_rule(&mut t, &a, false).unwrap();
        assert!(t.contains("to-container web") && !t.contains("172.17.0.2"), "{t}");
    }

    #[test]
    fn from_container_and_in_container() {
        let r = rule("from-container web in-container db drop");
        let db = ctr("db", true, vec![net("bridge", Some("172.17.0.9"), None)]);
        let Outcome::Active(a) = resolve(&r, &look(vec![web("172.17.0.2"), db], &[]), true).unwrap() else { panic!() };
        assert_eq!(a.saddr.unwrap().addr, parse_addr("172.17.0.2").unwrap());
        assert_eq!(a.netns, NetnsMatch::Inum(4026532500));
        assert!(a.validate().is_ok());
        assert_eq!(names(&r), vec!["web", "db"]);
    }

    #[test]
    fn family_follows_the_rule_or_the_addresses() {
        let dual = ctr("web", true, vec![net("bridge", Some("172.17.0.2"), Some("fd00::2"))]);
        let l = look(vec![dual], &[]);
        let v6 = resolve(&rule("ip6 to-container web accept"), &l, true).unwrap();
        assert_eq!(v6.rule().daddr.unwrap().addr, parse_addr("fd00::2").unwrap());
        assert_eq!(v6.rule().daddr.unwrap().len, 128);
        let by_saddr = resolve(&rule("saddr 2001:db8::/32 to-container web accept"), &l, true).unwrap();
        assert_eq!(by_saddr.rule().daddr.unwrap().addr, parse_addr("fd00::2").unwrap());
        let default = resolve(&rule("to-container web accept"), &l, true).unwrap();
        assert_eq!(default.rule().daddr.unwrap().addr, parse_addr("172.17.0.2").unwrap());
        // Only IPv6 on the network: IPv6 without asking.
        let only6 = look(vec![ctr("web", true, vec![net("v6net", None, Some("fd00::5"))])], &[]);
        assert_eq!(resolve(&rule("to-container web accept"), &only6, true).unwrap().rule().daddr.unwrap().len, 128);
        let e = resolve(&rule("ip to-container web accept"), &only6, true).unwrap_err();
        assert_eq!(e, "container web has no IPv4 address on network v6net");
    }

    #[test]
    fn several_networks_need_a_name() {
        let c = ctr("web", true, vec![net("bridge", Some("172.17.0.2"), None), net("front", Some("172.20.0.5"), None)]);
        let l = look(vec![c], &[]);
        let e = resolve(&rule("to-container web accept"), &l, true).unwrap_err();
        assert_eq!(e, "container web is on several networks (bridge, front): name one as web@NETWORK");
        let a = resolve(&rule("to-container web@front accept"), &l, true).unwrap();
        assert_eq!(a.rule().daddr.unwrap().addr, parse_addr("172.20.0.5").unwrap());
        let e = resolve(&rule("to-container web@back accept"), &l, true).unwrap_err();
        assert_eq!(e, "container web is not on network back (its networks: bridge, front)");
        // A namespace needs no network.
        assert!(matches!(resolve(&rule("in-container web accept"), &l, true).unwrap(), Outcome::Active(_)));
        // watch: ambiguity makes the rule inactive instead.
        let o = resolve(&rule("to-container web accept"), &l, false).unwrap();
        assert!(matches!(o, Outcome::Inactive(r, ref why) if r.inactive && why.contains("several networks")));
    }

    #[test]
    fn stopped_is_inactive_unknown_is_an_error() {
        let stopped = ctr("web", false, vec![net("bridge", None, None)]);
        let l = look(vec![stopped], &["ghost"]);
        let o = resolve(&rule("forward to-container web accept"), &l, true).unwrap();
        let Outcome::Inactive(r, why) = o else { panic!() };
        assert!(r.inactive && r.daddr.is_none());
        assert_eq!(why, "container web is not running");
        assert!(r.validate().is_ok());
        assert_eq!(resolve(&rule("to-container ghost accept"), &l, true).unwrap_err(), "no such container: ghost");
        // An error outranks a stopped container in the same rule.
        assert_eq!(resolve(&rule("from-container web to-container ghost accept"), &l, true).unwrap_err(), "no such container: ghost");
        let o = resolve(&rule("to-container ghost accept"), &l, false).unwrap();
        assert!(matches!(o, Outcome::Inactive(_, ref w) if w == "no such container: ghost"));
        // Host networking: no address of its own.
        let host = look(vec![ctr("h", true, vec![net("host", None, None)])], &[]);
        assert_eq!(resolve(&rule("to-container h accept"), &host, true).unwrap_err(), "container h has no address on network host");
    }

    #[test]
    fn rules_without_references_pass_unchanged() {
        let r = rule("tcp dport 80 saddr 10.0.0.0/8 netns 4026531993 drop");
        assert_eq!(resolve(&r, &Lookup::new(), true).unwrap(), Outcome::Active(r));
    }

    /// watch: given the kernel's rules and the engine's state, the
    /// replacement set and the changes.
    #[test]
    fn plan_moves_stops_and_keeps() {
        let mut rules = Vec::new();
        for (id, s) in [
            (1, "forward tcp orig-dport 80 saddr 172.16.0.0/24 to-container web accept"),
            (2, "forward tcp orig-dport 80 drop"),
            (3, "from-container db drop"),
            (4, "in-container web log"),
        ] {
            let mut r = rule(s);
            r.id = id;
            rules.push(r);
        }
        // As first resolved: web at .2, db at .3.
        let before = look(vec![web("172.17.0.2"), ctr("db", true, vec![net("bridge", Some("172.17.0.3"), None)])], &[]);
        let (set, ch) = plan(&rules, &before);
        assert_eq!(ch.len(), 3);
        assert_eq!(ch[0].to_string(), "rule 1 (forward tcp to-container web saddr 172.16.0.0/24 orig-dport 80 accept): to-container web=? -> to-container web=172.17.0.2");
        // Nothing moved: no change.
        let (again, ch) = plan(&set, &before);
        assert!(ch.is_empty());
        assert_eq!(again, set);
        // web recreated at .4 in another namespace, db stopped.
        let mut w = web("172.17.0.4");
        w.netns = Some(4026532999);
        let after = look(vec![w, ctr("db", false, vec![net("bridge", None, None)])], &[]);
        let (next, ch) = plan(&set, &after);
        assert_eq!(next.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(next[0].daddr.unwrap().addr, parse_addr("172.17.0.4").unwrap());
        assert_eq!(next[1], set[1]);
        assert!(next[2].inactive && next[2].saddr.is_none());
        assert_eq!(next[3].netns, NetnsMatch::Inum(4026532999));
        let texts: Vec<String> = ch.iter().map(|c| format!("{}: {} -> {}", c.id, c.old, c.new)).collect();
        assert_eq!(
            texts,
            vec![
                "1: to-container web=172.17.0.2 -> to-container web=172.17.0.4",
                "3: from-container db=172.17.0.3 -> inactive (container db is not running)",
                "4: in-container web=netns 4026532500 -> in-container web=netns 4026532999",
            ]
        );
        // web removed: its rules go inactive, never keep .4.
        let gone = look(vec![], &["web", "db"]);
        let (last, _) = plan(&next, &gone);
        assert!(last[0].inactive && last[0].daddr.is_none());
        assert!(last.iter().all(|r| r.validate().is_ok()));
        // ... and come back when it starts again.
        let (back, ch) = plan(&last, &after);
        assert_eq!(back[0].daddr, next[0].daddr);
        assert!(!back[0].inactive);
        // db is still stopped: rule 3 stays as it was.
        assert_eq!(ch.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 4]);
    }
}
