// SPDX-License-Identifier: GPL-2.0
//! The rule language of `dockfwctl`, close to what users already write for
//! iptables and nft:
//!
//! ```text
//! [HOOK...] [ip|ip6] [tcp|udp|icmp|icmpv6|proto N] [saddr PFX] [daddr PFX]
//! [sport RANGE] [dport RANGE] [iif NAME[+]] [oif NAME[+]] [netns host|INUM]
//! [ct STATE[,STATE...]] [orig-daddr PFX] [orig-dport RANGE] [prio N]
//! [comment WORD] [id N] accept|drop|log
//! ```
//!
//! Where a rule takes an address or a namespace it may name a Docker
//! container instead: `from-container NAME[@NET]` (for `saddr`),
//! `to-container NAME[@NET]` (for `daddr`), `in-container NAME` (for
//! `netns`). Parsing keeps the name and leaves the address unset; dockfwctl
//! resolves it through the Docker engine before the rule reaches the
//! kernel, and printing shows the name again, never the resolved value.
//!
//! HOOK is prerouting, input, forward, output or postrouting (default: all);
//! PFX is `ADDR[/LEN]`; RANGE is `N` or `N-M`; STATE is new, established,
//! related or untracked. `orig-daddr`/`orig-dport` match the destination
//! before DNAT (conntrack's original tuple): `orig-dport 80` is "the
//! published host port 80" on every path. Example:
//! `forward tcp saddr 172.16.0.0/24 orig-dport 80 accept`.
//!
//! Pure `core` code: parsing works on a token iterator, printing on
//! `core::fmt::Write`, errors carry the index of the offending token (for
//! a rule that parses but is inconsistent, the index past its last token).

use super::model::{parse_addr, CtState, Family, Hook};
use super::rules::{Action, CtrRole, IfMatch, NetnsMatch, PortRange, Prefix, Rule};
use core::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SyntaxError {
    /// Index of the token at fault (== number of tokens when one is missing).
    pub token: usize,
    pub msg: &'static str,
}

fn err<T>(token: usize, msg: &'static str) -> Result<T, SyntaxError> {
    Err(SyntaxError { token, msg })
}

pub fn hook_by_name(s: &str) -> Option<Hook> {
    Some(match s {
        "prerouting" | "PRE_ROUTING" => Hook::PreRouting,
        "input" | "LOCAL_IN" => Hook::LocalIn,
        "forward" | "FORWARD" => Hook::Forward,
        "output" | "LOCAL_OUT" => Hook::LocalOut,
        "postrouting" | "POST_ROUTING" => Hook::PostRouting,
        _ => return None,
    })
}

pub fn hook_keyword(h: Hook) -> &'static str {
    match h {
        Hook::PreRouting => "prerouting",
        Hook::LocalIn => "input",
        Hook::Forward => "forward",
        Hook::LocalOut => "output",
        Hook::PostRouting => "postrouting",
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_port(s: &str) -> Option<u16> {
    parse_u32(s).and_then(|v| u16::try_from(v).ok())
}

pub fn parse_range(s: &str) -> Option<PortRange> {
    let (a, b) = match s.split_once(['-', ':']) {
        Some((a, b)) => (parse_port(a)?, parse_port(b)?),
        None => {
            let p = parse_port(s)?;
            (p, p)
        }
    };
    (a <= b).then_some(PortRange { min: a, max: b })
}

pub fn parse_prefix(s: &str) -> Option<Prefix> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (parse_addr(a)?, Some(l)),
        None => (parse_addr(s)?, None),
    };
    let max = match a.family() {
        Family::Ipv4 => 32,
        Family::Ipv6 => 128,
    };
    let len = match l {
        Some(l) => u8::try_from(parse_u32(l)?).ok().filter(|&x| x <= max)?,
        None => max,
    };
    Some(Prefix { addr: a, len })
}

fn ct_by_name(s: &str) -> Option<CtState> {
    Some(match s {
        "new" => CtState::New,
        "established" => CtState::Established,
        "related" => CtState::Related,
        "untracked" => CtState::Untracked,
        _ => return None,
    })
}

/// Parses one rule from its tokens.
pub fn parse_rule<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Rule, SyntaxError> {
    let mut r = Rule::default();
    let mut hooks = 0u8;
    let mut action = None;
    let mut it = tokens.into_iter().enumerate().peekable();
    let mut last = 0;
    // Each keyword may appear once (hooks may repeat).
    let mut seen = 0u32;
    while let Some((i, tok)) = it.next() {
        last = i + 1;
        let mut once = |bit: u32| -> Result<(), SyntaxError> {
            if seen & (1 << bit) != 0 {
                return err(i, "this keyword was already given");
            }
            seen |= 1 << bit;
            Ok(())
        };
        if let Some(h) = hook_by_name(tok) {
            if hooks & h.bit() != 0 {
                return err(i, "hook named twice");
            }
            hooks |= h.bit();
            continue;
        }
        let mut arg = |what: &'static str| -> Result<(usize, &'a str), SyntaxError> {
            match it.next() {
                Some((j, v)) => {
                    last = j + 1;
                    Ok((j, v))
                }
                None => err(i + 1, what),
            }
        };
        match tok {
            "accept" | "drop" | "log" => {
                if action.is_some() {
                    return err(i, "a rule has exactly one action");
                }
                action = Some(match tok {
                    "accept" => Action::Accept,
                    "drop" => Action::Drop,
                    _ => Action::Log,
                });
            }
            "ip" | "ip6" => {
                once(0)?;
                r.family = Some(if tok == "ip" { Family::Ipv4 } else { Family::Ipv6 });
            }
            "tcp" | "udp" | "icmp" | "icmpv6" => {
                once(1)?;
                r.proto = Some(match tok {
                    "tcp" => 6,
                    "udp" => 17,
                    "icmp" => 1,
                    _ => 58,
                });
            }
            "proto" => {
                once(1)?;
                let (j, v) = arg("protocol number expected after proto")?;
                r.proto = Some(parse_u32(v).and_then(|x| u8::try_from(x).ok()).ok_or(SyntaxError {
                    token: j,
                    msg: "protocol must be a number 0-255",
                })?);
            }
            "saddr" | "daddr" | "netns" if r.container(match tok {
                "saddr" => CtrRole::Src,
                "daddr" => CtrRole::Dst,
                _ => CtrRole::Netns,
            }).is_some() => {
                return err(i, "this rule already names a container for it");
            }
            "saddr" | "daddr" | "orig-daddr" => {
                once(match tok {
                    "saddr" => 2,
                    "daddr" => 3,
                    _ => 4,
                })?;
                let (j, v) = arg("address or prefix expected")?;
                let p = parse_prefix(v).ok_or(SyntaxError { token: j, msg: "not an address or ADDR/LEN prefix" })?;
                match tok {
                    "saddr" => r.saddr = Some(p),
                    "daddr" => r.daddr = Some(p),
                    _ => r.orig_daddr = Some(p),
                }
            }
            "sport" | "dport" | "orig-dport" => {
                once(match tok {
                    "sport" => 5,
                    "dport" => 6,
                    _ => 7,
                })?;
                let (j, v) = arg("port or range expected")?;
                let p = parse_range(v).ok_or(SyntaxError { token: j, msg: "not a port (0-65535) or N-M range" })?;
                match tok {
                    "sport" => r.sport = Some(p),
                    "dport" => r.dport = Some(p),
                    _ => r.orig_dport = Some(p),
                }
            }
            "iif" | "oif" => {
                once(if tok == "iif" { 8 } else { 9 })?;
                let (j, v) = arg("interface name expected")?;
                let m = IfMatch::parse(v).ok_or(SyntaxError { token: j, msg: "not an interface name (1-15 chars, optional trailing +)" })?;
                if tok == "iif" {
                    r.iif = Some(m);
                } else {
                    r.oif = Some(m);
                }
            }
            "netns" => {
                once(10)?;
                let (j, v) = arg("host or a namespace inode number expected")?;
                r.netns = match v {
                    "host" => NetnsMatch::Host,
                    _ => match parse_u32(v) {
                        Some(n) if n != 0 => NetnsMatch::Inum(n),
                        _ => return err(j, "netns takes host or a namespace inode number"),
                    },
                };
            }
            "ct" => {
                once(11)?;
                let (j, v) = arg("conntrack state list expected")?;
                for s in v.split(',') {
                    r.ctstate |= ct_by_name(s).ok_or(SyntaxError { token: j, msg: "ct states are new, established, related, untracked" })?.bit();
                }
            }
            "prio" => {
                once(12)?;
                let (j, v) = arg("priority expected")?;
                r.priority = parse_u32(v).ok_or(SyntaxError { token: j, msg: "priority must be a number" })?;
            }
            "comment" => {
                once(13)?;
                let (j, v) = arg("comment word expected")?;
                r.set_comment(v).map_err(|m| SyntaxError { token: j, msg: m })?;
            }
            "from-container" | "to-container" | "in-container" => {
                let (role, bit, what) = match tok {
                    "from-container" => (CtrRole::Src, 2, "from-container and saddr both give the source address"),
                    "to-container" => (CtrRole::Dst, 3, "to-container and daddr both give the destination address"),
                    _ => (CtrRole::Netns, 10, "in-container and netns both give the namespace"),
                };
                if seen & (1 << bit) != 0 {
                    return err(i, what);
                }
                seen |= 1 << bit;
                let (j, v) = arg("container name or id expected")?;
                r.set_container(role, v).map_err(|m| SyntaxError { token: j, msg: m })?;
            }
            "id" => {
                once(14)?;
                let (j, v) = arg("rule id expected")?;
                r.id = parse_u32(v).filter(|&x| x != 0).ok_or(SyntaxError { token: j, msg: "rule id must be a number >= 1" })?;
            }
            _ => return err(i, "unknown keyword"),
        }
    }
    r.action = match action {
        Some(a) => a,
        None => return err(last, "missing action: accept, drop or log"),
    };
    if hooks != 0 {
        r.hooks = hooks;
    }
    // Container names are resolved later (by dockfwctl, with the Docker
    // engine); everything else is checked here.
    r.validate_shape().map_err(|m| SyntaxError { token: last, msg: m })?;
    Ok(r)
}

fn write_prefix(f: &mut impl fmt::Write, p: &Prefix) -> fmt::Result {
    if p.len == p.max_len() {
        write!(f, "{}", p.addr)
    } else {
        write!(f, "{}/{}", p.normalized().addr, p.len)
    }
}

fn write_range(f: &mut impl fmt::Write, r: &PortRange) -> fmt::Result {
    if r.min == r.max {
        write!(f, "{}", r.min)
    } else {
        write!(f, "{}-{}", r.min, r.max)
    }
}

/// Prints a rule in the canonical form `parse_rule` reads back (without its
/// id unless `with_id`).
pub fn write_rule(f: &mut impl fmt::Write, r: &Rule, with_id: bool) -> fmt::Result {
    let mut sep = "";
    let mut word = |f: &mut dyn fmt::Write, s: &dyn fmt::Display| -> fmt::Result {
        let res = write!(f, "{sep}{s}");
        sep = " ";
        res
    };
    if with_id && r.id != 0 {
        word(f, &format_args!("id {}", r.id))?;
    }
    if r.hooks != super::rules::ALL_HOOKS {
        for h in Hook::ALL {
            if r.hooks & h.bit() != 0 {
                word(f, &hook_keyword(h))?;
            }
        }
    }
    if let Some(fam) = r.family {
        word(f, &if fam == Family::Ipv4 { "ip" } else { "ip6" })?;
    }
    if let Some(p) = r.proto {
        match p {
            6 => word(f, &"tcp")?,
            17 => word(f, &"udp")?,
            1 => word(f, &"icmp")?,
            58 => word(f, &"icmpv6")?,
            n => word(f, &format_args!("proto {n}"))?,
        }
    }
    // A container reference prints as the name, not as the address or
    // namespace it currently resolves to.
    for role in [CtrRole::Src, CtrRole::Dst] {
        if let Some(c) = r.container(role) {
            word(f, &format_args!("{} {c}", role.keyword()))?;
        }
    }
    let saddr = r.saddr.filter(|_| r.container(CtrRole::Src).is_none());
    let daddr = r.daddr.filter(|_| r.container(CtrRole::Dst).is_none());
    for (kw, p) in [("saddr", saddr), ("daddr", daddr)] {
        if let Some(p) = p {
            word(f, &kw)?;
            write!(f, " ")?;
            write_prefix(f, &p)?;
        }
    }
    for (kw, p) in [("sport", r.sport), ("dport", r.dport)] {
        if let Some(p) = p {
            word(f, &kw)?;
            write!(f, " ")?;
            write_range(f, &p)?;
        }
    }
    for (kw, m) in [("iif", r.iif), ("oif", r.oif)] {
        if let Some(m) = m {
            word(f, &format_args!("{kw} {}{}", m.name, if m.wildcard { "+" } else { "" }))?;
        }
    }
    match r.netns {
        _ if r.container(CtrRole::Netns).is_some() => {
            word(f, &format_args!("in-container {}", r.container(CtrRole::Netns).unwrap_or("")))?
        }
        NetnsMatch::Any => {}
        NetnsMatch::Host => word(f, &"netns host")?,
        NetnsMatch::Inum(n) => word(f, &format_args!("netns {n}"))?,
    }
    if r.ctstate != 0 {
        word(f, &"ct")?;
        let mut first = true;
        for s in [CtState::New, CtState::Established, CtState::Related, CtState::Untracked] {
            if r.ctstate & s.bit() != 0 {
                write!(f, "{}{}", if first { " " } else { "," }, s.name())?;
                first = false;
            }
        }
    }
    if let Some(p) = r.orig_daddr {
        word(f, &"orig-daddr")?;
        write!(f, " ")?;
        write_prefix(f, &p)?;
    }
    if let Some(p) = r.orig_dport {
        word(f, &"orig-dport")?;
        write!(f, " ")?;
        write_range(f, &p)?;
    }
    if r.priority != super::rules::DEFAULT_PRIORITY {
        word(f, &format_args!("prio {}", r.priority))?;
    }
    if !r.comment().is_empty() {
        word(f, &format_args!("comment {}", r.comment()))?;
    }
    word(
        f,
        &match r.action {
            Action::Accept => "accept",
            Action::Drop => "drop",
            Action::Log => "log",
        },
    )
}

/// `Display` adapter: the canonical text of a rule, id included.
pub struct RuleText<'a>(pub &'a Rule);

impl fmt::Display for RuleText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rule(f, self.0, true)
    }
}
