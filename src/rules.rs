// SPDX-License-Identifier: GPL-2.0
//! Rules and the indexed matcher.
//!
//! A rule is a conjunction of optional matches (hooks, family, protocol,
//! prefixes, port ranges, interfaces, namespace, conntrack state, and the
//! conntrack *original* destination, i.e. the published host port before
//! Docker's DNAT) and an action. Rules are evaluated in (priority, id)
//! order; `log` rules log and go on, the first `accept` or `drop` decides.
//!
//! Lookup is not a linear scan: every rule with an exact destination port
//! (or exact original destination port) sits in a sorted key index, so a
//! packet only visits the rules keyed on its own ports plus the unkeyed
//! ("wildcard") rules, merged in rule order. Thousands of port rules then
//! cost about what ten do.
//!
//! Pure `core` code with no allocation: the kernel (or a host test) owns the
//! storage and hands slices to `Table`.

use crate::model::{Addr, CtOrig, CtState, Family, Hook, IfName};
use crate::packet::Packet;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    Accept,
    Drop,
    Log,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Prefix {
    pub addr: Addr,
    pub len: u8,
}

impl Prefix {
    pub fn max_len(&self) -> u8 {
        match self.addr {
            Addr::V4(_) => 32,
            Addr::V6(_) => 128,
        }
    }

    pub fn contains(&self, a: &Addr) -> bool {
        if self.addr.family() != a.family() {
            return false;
        }
        let (p, x) = (self.addr.bytes(), a.bytes());
        let full = usize::from(self.len / 8);
        if p[..full] != x[..full] {
            return false;
        }
        let rem = self.len % 8;
        rem == 0 || {
            let mask = 0xffu8 << (8 - rem);
            p[full] & mask == x[full] & mask
        }
    }

    /// The prefix with host bits cleared (what `list` shows).
    pub fn normalized(&self) -> Prefix {
        let mut b = [0u8; 16];
        let n = self.addr.bytes().len();
        b[..n].copy_from_slice(self.addr.bytes());
        for (i, byte) in b.iter_mut().enumerate().take(n) {
            let bits = (usize::from(self.len)).saturating_sub(i * 8).min(8);
            *byte &= if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
        }
        let addr = match self.addr {
            Addr::V4(_) => Addr::V4([b[0], b[1], b[2], b[3]]),
            Addr::V6(_) => Addr::V6(b),
        };
        Prefix { addr, len: self.len }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
}

impl PortRange {
    pub fn contains(&self, p: u16) -> bool {
        self.min <= p && p <= self.max
    }

    fn exact(&self) -> Option<u16> {
        (self.min == self.max).then_some(self.min)
    }
}

/// Interface match: exact, or `name+` for every name starting with `name`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IfMatch {
    pub name: IfName,
    pub wildcard: bool,
}

impl IfMatch {
    pub fn parse(s: &str) -> Option<IfMatch> {
        match s.strip_suffix('+') {
            Some("") => Some(IfMatch { name: IfName::default(), wildcard: true }),
            Some(p) => IfName::new(p).map(|name| IfMatch { name, wildcard: true }),
            None => IfName::new(s).map(|name| IfMatch { name, wildcard: false }),
        }
    }

    pub fn matches(&self, dev: Option<&IfName>) -> bool {
        let Some(dev) = dev else { return false };
        if self.wildcard {
            dev.as_bytes().starts_with(self.name.as_bytes())
        } else {
            dev == &self.name
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NetnsMatch {
    Any,
    /// Only the initial (host) namespace.
    Host,
    /// The namespace with this inode number.
    Inum(u32),
}

pub const COMMENT_MAX: usize = 63;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rule {
    pub id: u32,
    pub priority: u32,
    pub action: Action,
    /// Mask of `Hook::bit()`; never 0.
    pub hooks: u8,
    pub family: Option<Family>,
    pub proto: Option<u8>,
    pub saddr: Option<Prefix>,
    pub daddr: Option<Prefix>,
    pub sport: Option<PortRange>,
    pub dport: Option<PortRange>,
    pub iif: Option<IfMatch>,
    pub oif: Option<IfMatch>,
    pub netns: NetnsMatch,
    /// Mask of `CtState::bit()`; 0 = any.
    pub ctstate: u8,
    pub orig_daddr: Option<Prefix>,
    pub orig_dport: Option<PortRange>,
    pub comment: [u8; COMMENT_MAX + 1],
}

pub const ALL_HOOKS: u8 = 0x1f;
pub const DEFAULT_PRIORITY: u32 = 1000;

impl Default for Rule {
    fn default() -> Rule {
        Rule {
            id: 0,
            priority: DEFAULT_PRIORITY,
            action: Action::Accept,
            hooks: ALL_HOOKS,
            family: None,
            proto: None,
            saddr: None,
            daddr: None,
            sport: None,
            dport: None,
            iif: None,
            oif: None,
            netns: NetnsMatch::Any,
            ctstate: 0,
            orig_daddr: None,
            orig_dport: None,
            comment: [0; COMMENT_MAX + 1],
        }
    }
}

/// Why a rule is not acceptable; the text goes into netlink extended ACKs
/// and dockfwctl's messages.
pub type Invalid = &'static str;

impl Rule {
    pub fn comment(&self) -> &str {
        let n = self.comment.iter().position(|&c| c == 0).unwrap_or(COMMENT_MAX);
        core::str::from_utf8(&self.comment[..n]).unwrap_or("")
    }

    pub fn set_comment(&mut self, s: &str) -> Result<(), Invalid> {
        if s.len() > COMMENT_MAX || !s.bytes().all(|c| c.is_ascii_graphic()) {
            return Err("comment must be at most 63 printable characters without spaces");
        }
        self.comment = [0; COMMENT_MAX + 1];
        self.comment[..s.len()].copy_from_slice(s.as_bytes());
        Ok(())
    }

    /// Checks the rule's internal consistency. Netlink input and the CLI
    /// both go through this, so a rule the kernel holds is always valid.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.hooks == 0 || self.hooks & !ALL_HOOKS != 0 {
            return Err("hook mask must name at least one of the five inet hooks");
        }
        let mut fam = self.family;
        for p in [self.saddr, self.daddr, self.orig_daddr].into_iter().flatten() {
            if p.len > p.max_len() {
                return Err("prefix length longer than the address");
            }
            match fam {
                Some(f) if f != p.addr.family() => return Err("addresses of different families in one rule"),
                _ => fam = Some(p.addr.family()),
            }
        }
        for r in [self.sport, self.dport, self.orig_dport].into_iter().flatten() {
            if r.min > r.max {
                return Err("port range minimum above maximum");
            }
        }
        if (self.sport.is_some() || self.dport.is_some()) && !matches!(self.proto, None | Some(6) | Some(17)) {
            return Err("ports only exist for tcp and udp");
        }
        if self.ctstate & !0xf != 0 {
            return Err("unknown conntrack state bit");
        }
        if let NetnsMatch::Inum(0) = self.netns {
            return Err("namespace inode number 0 does not exist");
        }
        Ok(())
    }

    /// The index key of this rule, if it has an exact port to be found by.
    fn key(&self) -> Option<u32> {
        if let Some(p) = self.orig_dport.and_then(|r| r.exact()) {
            return Some(KEY_ORIG | u32::from(p));
        }
        self.dport.and_then(|r| r.exact()).map(|p| KEY_DPORT | u32::from(p))
    }
}

const KEY_DPORT: u32 = 1 << 16;
const KEY_ORIG: u32 = 2 << 16;

/// What a hook knows about the packet being judged.
pub struct Ctx<'a> {
    pub hook: Hook,
    pub pkt: &'a Packet,
    pub ct: Option<&'a CtOrig>,
    pub iif: Option<IfName>,
    pub oif: Option<IfName>,
    pub netns: u32,
    pub host: bool,
}

impl Ctx<'_> {
    /// The destination before any DNAT: the conntrack original tuple when
    /// the packet has an entry and travels in the original direction;
    /// otherwise the packet's own destination (at PRE_ROUTING and LOCAL_OUT
    /// before conntrack and NAT have run, it *is* the original one).
    pub fn orig_dst(&self) -> (Addr, Option<u16>) {
        match self.ct {
            Some(c) if !c.reply => (c.dst, Some(c.dport)),
            _ => (self.pkt.daddr, self.pkt.ports().map(|p| p.1)),
        }
    }

    pub fn ctstate(&self) -> CtState {
        self.ct.map_or(CtState::Untracked, |c| c.state)
    }
}

impl Rule {
    pub fn matches(&self, c: &Ctx<'_>) -> bool {
        let p = c.pkt;
        if self.hooks & c.hook.bit() == 0 {
            return false;
        }
        if self.family.is_some_and(|f| f != p.family) || self.proto.is_some_and(|x| x != p.proto) {
            return false;
        }
        if self.saddr.is_some_and(|x| !x.contains(&p.saddr)) || self.daddr.is_some_and(|x| !x.contains(&p.daddr)) {
            return false;
        }
        if self.sport.is_some() || self.dport.is_some() {
            let Some((s, d)) = p.ports() else { return false };
            if self.sport.is_some_and(|r| !r.contains(s)) || self.dport.is_some_and(|r| !r.contains(d)) {
                return false;
            }
        }
        match self.netns {
            NetnsMatch::Any => {}
            NetnsMatch::Host if !c.host => return false,
            NetnsMatch::Inum(n) if n != c.netns => return false,
            _ => {}
        }
        if self.iif.is_some_and(|m| !m.matches(c.iif.as_ref())) || self.oif.is_some_and(|m| !m.matches(c.oif.as_ref())) {
            return false;
        }
        if self.ctstate != 0 && self.ctstate & c.ctstate().bit() == 0 {
            return false;
        }
        if self.orig_daddr.is_some() || self.orig_dport.is_some() {
            let (a, port) = c.orig_dst();
            if self.orig_daddr.is_some_and(|x| !x.contains(&a)) {
                return false;
            }
            if let Some(r) = self.orig_dport {
                if !port.is_some_and(|x| r.contains(x)) {
                    return false;
                }
            }
        }
        true
    }

    /// Evaluation order: priority, then id.
    pub fn order_key(&self) -> (u32, u32) {
        (self.priority, self.id)
    }
}

/// What per-packet context the rules need; the hooks skip the work for the
/// rest (a conntrack lookup, device name copies).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Needs {
    pub ct: bool,
    pub ifnames: bool,
    pub netns: bool,
}

/// Sizes of the index arrays for `rules`.
pub fn index_sizes(rules: &[Rule]) -> (usize, usize) {
    let keyed = rules.iter().filter(|r| r.key().is_some()).count();
    (keyed, rules.len() - keyed)
}

/// Builds the index of `rules`, which must already be in evaluation order
/// (`sort_rules`). `keys` and `wild` must have the lengths `index_sizes`
/// returned.
pub fn build_index(rules: &[Rule], keys: &mut [u64], wild: &mut [u32]) -> Needs {
    let (mut k, mut w) = (0, 0);
    let mut needs = Needs::default();
    for (pos, r) in rules.iter().enumerate() {
        match r.key() {
            Some(key) => {
                keys[k] = (u64::from(key) << 32) | pos as u64;
                k += 1;
            }
            None => {
                wild[w] = pos as u32;
                w += 1;
            }
        }
        needs.ct |= r.ctstate != 0 || r.orig_daddr.is_some() || r.orig_dport.is_some();
        needs.ifnames |= r.iif.is_some() || r.oif.is_some();
        needs.netns |= r.netns != NetnsMatch::Any;
    }
    keys.sort_unstable();
    needs
}

pub fn sort_rules(rules: &mut [Rule]) {
    rules.sort_unstable_by_key(|r| r.order_key());
}

/// A read-only view of an indexed ruleset.
pub struct Table<'a> {
    pub rules: &'a [Rule],
    pub keys: &'a [u64],
    pub wild: &'a [u32],
}

/// Positions of the rules keyed on `key`, ascending.
fn bucket(keys: &[u64], key: u32) -> &[u64] {
    let lo = keys.partition_point(|&e| (e >> 32) < u64::from(key));
    let hi = lo + keys[lo..].partition_point(|&e| (e >> 32) == u64::from(key));
    &keys[lo..hi]
}

impl Table<'_> {
    /// Evaluates the ruleset. `on_log(pos)` is called for each matching
    /// `log` rule; returns the position of the deciding rule, if any.
    pub fn eval(&self, c: &Ctx<'_>, mut on_log: impl FnMut(usize)) -> Option<usize> {
        let dport = c.pkt.ports().map(|p| p.1);
        let (_, odport) = if self.keys.is_empty() { (c.pkt.daddr, None) } else { c.orig_dst() };
        let empty: &[u64] = &[];
        let b1 = match dport {
            Some(p) if !self.keys.is_empty() => bucket(self.keys, KEY_DPORT | u32::from(p)),
            _ => empty,
        };
        let b2 = match odport {
            Some(p) => bucket(self.keys, KEY_ORIG | u32::from(p)),
            None => empty,
        };
        // Three ascending lists of positions, merged in rule order.
        let (mut i, mut j, mut k) = (0, 0, 0);
        loop {
            let a = b1.get(i).map_or(u32::MAX, |&e| e as u32);
            let b = b2.get(j).map_or(u32::MAX, |&e| e as u32);
            let w = self.wild.get(k).copied().unwrap_or(u32::MAX);
            let pos = a.min(b).min(w);
            if pos == u32::MAX {
                return None;
            }
            if a == pos {
                i += 1;
            }
            if b == pos {
                j += 1;
            }
            if w == pos {
                k += 1;
            }
            let r = &self.rules[pos as usize];
            if r.matches(c) {
                match r.action {
                    Action::Log => on_log(pos as usize),
                    _ => return Some(pos as usize),
                }
            }
        }
    }

    /// The same decision by a plain scan: the reference the index is
    /// tested against.
    pub fn eval_linear(&self, c: &Ctx<'_>, mut on_log: impl FnMut(usize)) -> Option<usize> {
        for (pos, r) in self.rules.iter().enumerate() {
            if r.matches(c) {
                match r.action {
                    Action::Log => on_log(pos),
                    _ => return Some(pos),
                }
            }
        }
        None
    }
}
