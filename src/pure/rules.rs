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

use super::model::{Addr, CtOrig, CtState, Family, Hook, IfName};
use super::packet::{Packet, IPPROTO_TCP, IPPROTO_UDP};

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
    /// Containers this rule was written against (`from-container`,
    /// `to-container`, `in-container`), by name. The kernel never resolves
    /// them: dockfwctl (and `dockfwctl watch`) put the container's current
    /// address or namespace into `saddr`/`daddr`/`netns`, and keep the
    /// name here so that `list` shows what the user meant and `watch`
    /// knows which rules to rewrite when a container moves.
    pub containers: [CtrName; 3],
    /// A rule naming a container that is not running: it matches nothing
    /// until `watch` resolves it again. Never left pointing at the address
    /// the container had, which Docker may hand to another container.
    pub inactive: bool,
}

/// Where a rule refers to a container.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CtrRole {
    /// `from-container`: the source address is the container's.
    Src = 0,
    /// `to-container`: the destination address is the container's.
    Dst = 1,
    /// `in-container`: the hook runs in the container's network namespace.
    Netns = 2,
}

impl CtrRole {
    pub const ALL: [CtrRole; 3] = [CtrRole::Src, CtrRole::Dst, CtrRole::Netns];

    pub fn keyword(self) -> &'static str {
        match self {
            CtrRole::Src => "from-container",
            CtrRole::Dst => "to-container",
            CtrRole::Netns => "in-container",
        }
    }
}

/// A container name or id, optionally `@NETWORK`; empty = none.
pub const CTR_NAME_MAX: usize = 63;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CtrName([u8; CTR_NAME_MAX + 1]);

impl Default for CtrName {
    fn default() -> CtrName {
        CtrName([0; CTR_NAME_MAX + 1])
    }
}

impl CtrName {
    /// Docker's own name rule (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), for the
    /// container and for the optional network after `@`.
    pub fn new(s: &str) -> Option<CtrName> {
        fn word(w: &str) -> bool {
            let b = w.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        }
        let ok = match s.split_once('@') {
            Some((c, n)) => word(c) && word(n),
            None => word(s),
        };
        if !ok || s.len() > CTR_NAME_MAX {
            return None;
        }
        let mut n = CtrName::default();
        n.0[..s.len()].copy_from_slice(s.as_bytes());
        Some(n)
    }

    pub fn as_str(&self) -> &str {
        let n = self.0.iter().position(|&c| c == 0).unwrap_or(CTR_NAME_MAX);
        core::str::from_utf8(&self.0[..n]).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }
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
            containers: [CtrName::default(); 3],
            inactive: false,
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

    /// The container named in `role`, if any.
    pub fn container(&self, role: CtrRole) -> Option<&str> {
        let n = &self.containers[role as usize];
        (!n.is_empty()).then(|| n.as_str())
    }

    pub fn set_container(&mut self, role: CtrRole, name: &str) -> Result<(), Invalid> {
        // A full container id (64 hex digits, as `docker inspect` prints it)
        // is kept as its 12-digit short form, which the engine resolves the
        // same way (`docker ps` shows ids so).
        let name = match name.split_once('@') {
            // `get`, not indexing: no panic path (6.12's objtool does not know
            // `str::slice_error_fail` never returns and warns on the fall-through).
            None if name.len() == 64 && name.bytes().all(|c| c.is_ascii_hexdigit()) => name.get(..12).unwrap_or(name),
            _ => name,
        };
        self.containers[role as usize] = CtrName::new(name).ok_or(
            "container must be a Docker name or id ([A-Za-z0-9][A-Za-z0-9_.-]*), optionally @NETWORK, at most 63 characters",
        )?;
        Ok(())
    }

    /// Checks the rule's internal consistency, including that every
    /// container reference is resolved (or the rule is inactive). Netlink
    /// input goes through this, so a rule the kernel holds is always valid.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.validate_shape()?;
        for role in CtrRole::ALL {
            if self.container(role).is_none() || self.inactive {
                continue;
            }
            let resolved = match role {
                CtrRole::Src => self.saddr.is_some_and(|p| p.len == p.max_len()),
                CtrRole::Dst => self.daddr.is_some_and(|p| p.len == p.max_len()),
                CtrRole::Netns => matches!(self.netns, NetnsMatch::Inum(_)),
            };
            if !resolved {
                return Err("a rule naming a container needs its resolved address or namespace, or the inactive flag (dockfwctl resolves names)");
            }
        }
        Ok(())
    }

    /// What the rule syntax can check on its own: everything but the
    /// resolution of container names, which needs the Docker engine.
    pub fn validate_shape(&self) -> Result<(), Invalid> {
        if self.inactive && self.containers.iter().all(|c| c.is_empty()) {
            return Err("only a rule naming a container can be inactive");
        }
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

/// The destination before any DNAT: the conntrack original tuple when the
/// packet has an entry and travels in the original direction; otherwise the
/// packet's own destination (at PRE_ROUTING and LOCAL_OUT before conntrack
/// and NAT have run, it *is* the original one). A tuple of a protocol
/// without ports (ICMP, GRE...) has no original port, as the packet has
/// none: `orig-dport` never matches it, like `dport`.
#[inline]
pub fn orig_dst(pkt: &Packet, ct: Option<&CtOrig>) -> (Addr, Option<u16>) {
    match ct {
        Some(c) if !c.reply => (c.dst, tuple_has_ports(c.proto).then_some(c.dport)),
        _ => (pkt.daddr, pkt.ports().map(|p| p.1)),
    }
}

/// The protocols whose ports rules look at: those of `Packet::ports` (the
/// kernel side fills a tuple's ports for SCTP, DCCP and UDP-Lite too, but
/// `dport` never sees theirs, so `orig-dport` does not either).
#[inline]
pub fn tuple_has_ports(proto: u8) -> bool {
    matches!(proto, IPPROTO_TCP | IPPROTO_UDP)
}

/// What the index keys a packet on: its destination port and its original
/// destination port (`orig_dst`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyPorts {
    pub dport: Option<u16>,
    pub orig_dport: Option<u16>,
}

impl KeyPorts {
    #[inline]
    pub fn of(pkt: &Packet, ct: Option<&CtOrig>) -> KeyPorts {
        KeyPorts { dport: pkt.ports().map(|p| p.1), orig_dport: orig_dst(pkt, ct).1 }
    }
}

impl Ctx<'_> {
    /// See `orig_dst`.
    pub fn orig_dst(&self) -> (Addr, Option<u16>) {
        orig_dst(self.pkt, self.ct)
    }

    pub fn key_ports(&self) -> KeyPorts {
        KeyPorts::of(self.pkt, self.ct)
    }

    pub fn ctstate(&self) -> CtState {
        self.ct.map_or(CtState::Untracked, |c| c.state)
    }
}

impl Rule {
    pub fn matches(&self, c: &Ctx<'_>) -> bool {
        let p = c.pkt;
        if self.inactive || self.hooks & c.hook.bit() == 0 {
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

/// Words of the key filter for `nk` keyed rules (see `Table::filter`): about
/// eight bits per key, a power of two, at most one bit per possible key
/// (2 kinds x 65 536 ports = 2^17 bits), where the filter is exact.
pub fn filter_words(nk: usize) -> usize {
    if nk == 0 {
        return 0;
    }
    (nk * 8).div_ceil(64).next_power_of_two().min(FILTER_MAX_WORDS)
}

const FILTER_MAX_WORDS: usize = (1 << 17) / 64;

/// The filter bit of `key` in a filter of `words` words (a power of two):
/// the key's kind and port as one 17-bit number, masked to the filter's
/// size. Distinct ports share a bit only in a filter smaller than the key
/// space; a shared bit costs a binary search, never a wrong answer.
#[inline]
fn filter_bit(key: u32, words: usize) -> usize {
    let k = ((key >> 16).wrapping_sub(1) << 16) | (key & 0xffff);
    k as usize & (words * 64).wrapping_sub(1)
}

/// Builds the index of `rules`, which must already be in evaluation order
/// (`sort_rules`). `keys` and `wild` must have the lengths `index_sizes`
/// returned, `filter` the length `filter_words` returns for `keys`, zeroed.
pub fn build_index(rules: &[Rule], keys: &mut [u64], wild: &mut [u32], filter: &mut [u64]) -> Needs {
    let (mut k, mut w) = (0, 0);
    let mut needs = Needs::default();
    for (pos, r) in rules.iter().enumerate() {
        match r.key() {
            Some(key) => {
                keys[k] = (u64::from(key) << 32) | pos as u64;
                k += 1;
                let b = filter_bit(key, filter.len());
                filter[b / 64] |= 1 << (b % 64);
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
///
/// `keys` holds `(key << 32) | position` of every rule with an exact
/// destination port (or original destination port), sorted, so a key's
/// rules are one contiguous run found by binary search; `wild` the
/// positions of the other rules, ascending. `filter` is a bitmap of the keys
/// present (`filter_bit`): most packets are to a port no rule names, and
/// for them one bit test replaces the binary search.
pub struct Table<'a> {
    pub rules: &'a [Rule],
    pub keys: &'a [u64],
    pub wild: &'a [u32],
    pub filter: &'a [u64],
}

/// Positions of the rules keyed on `key`, ascending.
fn bucket(keys: &[u64], key: u32) -> &[u64] {
    let lo = keys.partition_point(|&e| (e >> 32) < u64::from(key));
    let hi = lo + keys[lo..].partition_point(|&e| (e >> 32) == u64::from(key));
    &keys[lo..hi]
}

impl<'a> Table<'a> {
    /// The positions of the rules that can match the packet in `c`, in rule
    /// order: those keyed on its destination port or original destination
    /// port, merged with the unkeyed ones.
    pub fn candidates(&self, c: &Ctx<'_>) -> Candidates<'a> {
        let empty: &[u64] = &[];
        if self.keys.is_empty() {
            return Candidates { b1: empty, b2: empty, wild: self.wild, i: 0, j: 0, k: 0 };
        }
        let find = |key: u32| if self.may_have(key) { bucket(self.keys, key) } else { empty };
        let ports = c.key_ports();
        let b1 = ports.dport.map_or(empty, |p| find(KEY_DPORT | u32::from(p)));
        let b2 = ports.orig_dport.map_or(empty, |p| find(KEY_ORIG | u32::from(p)));
        Candidates { b1, b2, wild: self.wild, i: 0, j: 0, k: 0 }
    }

    /// Whether rules keyed on `key` may exist: false only if none does
    /// (the filter's bit is clear); true may still find an empty bucket. A
    /// table built without a filter (none is empty when keys exist) answers
    /// true rather than miss one.
    #[inline]
    fn may_have(&self, key: u32) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        let b = filter_bit(key, self.filter.len());
        self.filter.is_empty() || self.filter.get(b / 64).is_some_and(|w| w & (1 << (b % 64)) != 0)
    }

    /// Whether any rule of the table may match a packet keyed on `ports`:
    /// false means `eval` returns `None` and no `log` rule matches, so the
    /// caller can skip building the rest of the packet's context. Most
    /// packets go to a port no rule names: for them this is one or two bit
    /// tests. Any rule without an exact port key (`wild`) makes it true.
    #[inline]
    pub fn may_match(&self, ports: KeyPorts) -> bool {
        !self.wild.is_empty()
            || ports.dport.is_some_and(|p| self.may_have(KEY_DPORT | u32::from(p)))
            || ports.orig_dport.is_some_and(|p| self.may_have(KEY_ORIG | u32::from(p)))
    }

    /// Evaluates the ruleset. `on_log(pos)` is called for each matching
    /// `log` rule; returns the position of the deciding rule, if any.
    pub fn eval(&self, c: &Ctx<'_>, mut on_log: impl FnMut(usize)) -> Option<usize> {
        for pos in self.candidates(c) {
            let r = &self.rules[pos];
            if r.matches(c) {
                match r.action {
                    Action::Log => on_log(pos),
                    _ => return Some(pos),
                }
            }
        }
        None
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

/// The candidate positions of one packet in one `Table` (see
/// `Table::candidates`): three ascending lists merged.
pub struct Candidates<'a> {
    b1: &'a [u64],
    b2: &'a [u64],
    wild: &'a [u32],
    i: usize,
    j: usize,
    k: usize,
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let a = self.b1.get(self.i).map_or(u32::MAX, |&e| e as u32);
        let b = self.b2.get(self.j).map_or(u32::MAX, |&e| e as u32);
        let w = self.wild.get(self.k).copied().unwrap_or(u32::MAX);
        let pos = a.min(b).min(w);
        if pos == u32::MAX {
            return None;
        }
        self.i += usize::from(a == pos);
        self.j += usize::from(b == pos);
        self.k += usize::from(w == pos);
        Some(pos as usize)
    }
}

// --- which hooks have work -----------------------------------------------------

/// The bit of one (family, hook) in a hook-work mask: IPv4 hooks are bits
/// 0..5, IPv6 hooks bits 5..10.
pub const fn hook_bit(family: Family, hook: Hook) -> u16 {
    let f = match family {
        Family::Ipv4 => 0,
        Family::Ipv6 => 5,
    };
    1 << (f + hook.index())
}

/// Every (family, hook) bit.
pub const ALL_HOOK_BITS: u16 = (1 << 10) - 1;

impl Rule {
    /// The (family, hook) pairs this rule can match at (`hook_bit`s): a
    /// hook whose bit no rule has can skip the rules altogether.
    pub fn hook_mask(&self) -> u16 {
        // An address prefix only matches addresses of its own family.
        let fam = self.family.or_else(|| {
            [self.saddr, self.daddr, self.orig_daddr].into_iter().flatten().next().map(|p| p.addr.family())
        });
        let mut m = 0;
        for f in [Family::Ipv4, Family::Ipv6] {
            if fam.is_some_and(|x| x != f) {
                continue;
            }
            for h in Hook::ALL {
                if self.hooks & h.bit() != 0 {
                    m |= hook_bit(f, h);
                }
            }
        }
        m
    }
}

impl Rule {
    /// What per-packet context this rule looks at (see `Needs`).
    pub fn needs(&self) -> Needs {
        Needs {
            ct: self.ctstate != 0 || self.orig_daddr.is_some() || self.orig_dport.is_some(),
            ifnames: self.iif.is_some() || self.oif.is_some(),
            netns: self.netns != NetnsMatch::Any,
        }
    }
}

/// The union of the rules' `hook_mask`s.
pub fn hook_mask(rules: &[Rule]) -> u16 {
    rules.iter().fold(0, |m, r| m | r.hook_mask())
}

// --- a ruleset in two layers ---------------------------------------------------

/// A ruleset kept as a large indexed `base`, minus the base positions in
/// `dead` (sorted: deleted rules), plus a small indexed `delta` (rules added
/// since the base was built). Both tables are in (priority, id) order; the
/// ruleset's order interleaves them. An add or delete rebuilds only the
/// delta and the dead list (O(delta)); when they grow past `DELTA_MAX` they
/// are merged into a new base (O(n), amortised over `DELTA_MAX` updates).
///
/// Positions: base position `p` is `p`; delta position `q` is
/// `base.rules.len() + q`.
pub struct Layered<'a> {
    pub base: Table<'a>,
    pub dead: &'a [u32],
    pub delta: Table<'a>,
}

impl Layered<'_> {
    /// See `Table::may_match`: either layer may hold a matching rule.
    #[inline]
    pub fn may_match(&self, ports: KeyPorts) -> bool {
        self.base.may_match(ports) || self.delta.may_match(ports)
    }
}

/// Merge the delta and the dead list into the base when together they
/// exceed this many entries.
pub const DELTA_MAX: usize = 256;

/// Whether a ruleset with these layer sizes should be merged into one base.
pub fn should_merge(dead: usize, delta: usize) -> bool {
    dead + delta > DELTA_MAX
}

impl<'a> Layered<'a> {
    /// Number of live rules.
    pub fn len(&self) -> usize {
        self.base.rules.len() - self.dead.len() + self.delta.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rule at a (global) position.
    pub fn rule(&self, pos: usize) -> &'a Rule {
        let nb = self.base.rules.len();
        if pos < nb {
            &self.base.rules[pos]
        } else {
            &self.delta.rules[pos - nb]
        }
    }

    fn is_dead(&self, base_pos: usize) -> bool {
        self.dead.binary_search(&(base_pos as u32)).is_ok()
    }

    /// Evaluates both layers in rule order: like `Table::eval` (positions
    /// are global positions).
    pub fn eval(&self, c: &Ctx<'_>, mut on_log: impl FnMut(usize)) -> Option<usize> {
        // After a restore or a merge there is no delta and nothing deleted,
        // which is most of the time: the base alone decides.
        if self.delta.rules.is_empty() && self.dead.is_empty() {
            return self.base.eval(c, on_log);
        }
        let nb = self.base.rules.len();
        let (mut a, mut b) = (self.base.candidates(c), self.delta.candidates(c));
        let (mut x, mut y) = (a.next(), b.next());
        loop {
            let pos = match (x, y) {
                (None, None) => return None,
                (Some(p), Some(q)) if self.base.rules[p].order_key() < self.delta.rules[q].order_key() => {
                    x = a.next();
                    p
                }
                (Some(p), None) => {
                    x = a.next();
                    p
                }
                (_, Some(q)) => {
                    y = b.next();
                    nb + q
                }
            };
            let r = self.rule(pos);
            if r.matches(c) && (pos >= nb || !self.is_dead(pos)) {
                match r.action {
                    Action::Log => on_log(pos),
                    _ => return Some(pos),
                }
            }
        }
    }

    /// The same decision by a plain scan in `order`: the reference.
    pub fn eval_linear(&self, c: &Ctx<'_>, mut on_log: impl FnMut(usize)) -> Option<usize> {
        for pos in self.order(Cursor::default()) {
            let r = self.rule(pos);
            if r.matches(c) {
                match r.action {
                    Action::Log => on_log(pos),
                    _ => return Some(pos),
                }
            }
        }
        None
    }

    /// The live rules' positions in evaluation order, from `at` (dumps keep
    /// a `Cursor` between parts; a merge into a new base walks this).
    pub fn order(&self, at: Cursor) -> Order<'_, 'a> {
        Order { l: self, at }
    }
}

/// A place in the evaluation order of a `Layered`: how many base and delta
/// entries have been walked past.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Cursor {
    pub base: u32,
    pub delta: u32,
}

impl Cursor {
    /// As one integer (a netlink dump's saved state).
    pub fn to_u64(self) -> u64 {
        u64::from(self.base) | (u64::from(self.delta) << 32)
    }

    pub fn from_u64(v: u64) -> Cursor {
        Cursor { base: v as u32, delta: (v >> 32) as u32 }
    }
}

/// See `Layered::order`.
pub struct Order<'l, 'a> {
    l: &'l Layered<'a>,
    pub at: Cursor,
}

impl Iterator for Order<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let (base, delta) = (self.l.base.rules, self.l.delta.rules);
        loop {
            let (bi, di) = (self.at.base as usize, self.at.delta as usize);
            let take_base = match (base.get(bi), delta.get(di)) {
                (None, None) => return None,
                (Some(b), Some(d)) => b.order_key() < d.order_key(),
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if take_base {
                self.at.base += 1;
                if !self.l.is_dead(bi) {
                    return Some(bi);
                }
            } else {
                self.at.delta += 1;
                return Some(base.len() + di);
            }
        }
    }
}
