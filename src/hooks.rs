// SPDX-License-Identifier: GPL-2.0
//! The packet hooks: IPv4 and IPv6 at PRE_ROUTING, LOCAL_IN, FORWARD,
//! LOCAL_OUT and POST_ROUTING with priority NF_IP_PRI_FIRST (before
//! conntrack and NAT), in every network namespace. Each call parses the
//! headers once, traces the packet if asked, and returns the verdict.
//! Runs in softirq context: no sleeping, no allocation, no unbounded printk.
//!
//! Hooks on demand: a (family, hook) is registered, in every namespace, only
//! while a rule can match there, or a trace filter can and someone listens
//! on the trace group, the default policy is drop, or the `trace`/`hook_cost`
//! switch is on (`HookRegistry`, one wanted mask
//! per `Reason` below). A writer grows the registered set before it
//! publishes what needs it and shrinks it after it published what no longer
//! does, so a published rule always has its hooks.
//!
//! Fast path: `ACTIVE` says, per (family, hook), whether any rule can match
//! there, whether a trace filter can, and whether the default policy is
//! drop. A registered hook with nothing to do (for the moment between a
//! publication and the unregistration that follows it) returns Accept after
//! one load and a bit test: no RCU, no header parsing, no counters, no
//! conntrack.

use crate::kernel_ext::net::Net;
use crate::kernel_ext::netfilter::{HookRegistry, HookSpec, HookState, PacketHook, Reason, PRIORITY_FIRST};
use crate::kernel_ext::params;
use crate::kernel_ext::skb::SkBuff;
use crate::kernel_ext::uapi::{cycles, jiffies, local_clock_ns};
use crate::model::{Family, Hook, Verdict};
use crate::kernel_ext::uapi::{GROUP_TRACE, VERDICT_DROP};
use crate::packet::{self, Packet};
use crate::rules::{hook_bit, Action, Ctx, KeyPorts, ALL_HOOK_BITS};
use crate::ruleset::Ruleset;
use crate::State;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use kernel::alloc::KBox;
use kernel::error::Result;

pub(crate) struct DockfwHooks;

const fn spec(family: Family, hook: Hook) -> HookSpec {
    HookSpec { family, hook, priority: PRIORITY_FIRST }
}

/// Namespaces followed (init_net included): the pernet `init` has run and
/// the `pre_exit` has not.
pub(crate) static HOOKED_NETNS: AtomicUsize = AtomicUsize::new(0);

/// Why hooks are registered (`HookRegistry` keeps one mask per reason, in
/// `rules::hook_bit` bits).
const RULES: Reason = Reason::new(0);
const POLICY: Reason = Reason::new(1);
const TRACE: Reason = Reason::new(2);
const SWITCHES: Reason = Reason::new(3);

/// Which hooks have work: bits 0..10 (`rules::hook_bit`) some rule can
/// match there, bits 16..26 some trace filter can, `POLICY_DROP` the
/// default policy is drop. Written by the netlink handlers right after they
/// publish a ruleset, a filter list or a policy (each under its own lock,
/// each with an atomic read-modify-write of its own bits only); read by
/// every hook call. A hook whose bits are clear returns Accept at once.
/// Between a publication and the store a hook may take the slow path for
/// nothing, or not yet see a rule being added: never a half-built state.
static ACTIVE: AtomicU32 = AtomicU32::new(0);

const RULE_BITS: u32 = 0x3ff;
const TRACE_SHIFT: u32 = 16;
const POLICY_DROP: u32 = 1 << 31;

fn set_bits(mask: u32, value: u32) {
    let _ = ACTIVE.fetch_update(Ordering::Release, Ordering::Relaxed, |a| Some((a & !mask) | (value & mask)));
}

/// Before a ruleset is published: the hooks it has rules for are registered
/// in every namespace. Fails (no memory) with nothing changed.
pub(crate) fn prepare_rules(st: &State, rs: &Ruleset) -> Result {
    st.hooks.grow(RULES, rs.mask)
}

/// After a ruleset is published: the fast path learns which (family, hook)
/// pairs have rules, and hooks nothing needs any more are unregistered.
pub(crate) fn publish_rules(st: &State, rs: Option<&Ruleset>) {
    let mask = rs.map_or(0, |r| r.mask);
    set_bits(RULE_BITS, u32::from(mask));
    st.hooks.shrink_to(RULES, mask);
}

/// What the trace stream's hooks depend on, under one lock (taken before the
/// trace filter cell's and the registry's): the hooks the installed filters
/// can match at, and whether anyone may be listening on the trace group.
/// The filters' hooks are registered only while someone may listen: filters
/// held by a socket that does not listen cost packets nothing.
pub(crate) struct TraceHooks {
    filters: u16,
    listening: bool,
}

impl TraceHooks {
    pub(crate) const fn new() -> TraceHooks {
        TraceHooks { filters: 0, listening: false }
    }
}

fn trace_has_listeners() -> bool {
    crate::netlink::DockfwFamily::events().has_listeners(GROUP_TRACE)
}

/// Publishes the trace filter list `f` builds from the current one: the
/// hooks it needs are registered first (if anyone may listen), the ones it
/// no longer needs released after, the fast path told which hooks have
/// filters. Fails (no memory) with nothing changed.
pub(crate) fn update_trace<R>(
    st: &State,
    f: impl FnOnce(Option<&crate::tracing::Filters>) -> Result<(Option<KBox<crate::tracing::Filters>>, R)>,
) -> Result<R> {
    let mut th = st.trace_hooks.lock();
    // A `dockfwctl trace` session joins the group, then installs its filter:
    // by now its membership is visible, even if a concurrent `left` of
    // another socket cleared `listening` between its join and now.
    if !th.listening && trace_has_listeners() {
        th.listening = true;
    }
    let listening = th.listening;
    st.trace.update_then(
        |old| {
            let (new, r) = f(old)?;
            if listening {
                st.hooks.grow(TRACE, new.as_ref().map_or(0, |n| n.hook_mask()))?;
            }
            Ok((new, r))
        },
        |published| {
            let mask = published.map_or(0, |f| f.hook_mask());
            th.filters = mask;
            set_bits(RULE_BITS << TRACE_SHIFT, u32::from(mask) << TRACE_SHIFT);
            // A new filter list forgets "nobody listens" (see `trace_listened`).
            TRACE_GEN.fetch_add(1, Ordering::Release);
            st.hooks.shrink_to(TRACE, if listening { mask } else { 0 });
        },
    )
}

/// A socket is joining the trace group (not yet visible as a listener):
/// the installed filters' hooks are registered now, so its first packets
/// are seen. A join cannot be refused here; if the hooks cannot be
/// registered (no memory) the session gets no events until the next filter
/// change retries, and the kernel log says so.
pub(crate) fn trace_joining(st: &State) {
    let mut th = st.trace_hooks.lock();
    th.listening = true;
    if st.hooks.grow(TRACE, th.filters).is_err() {
        // One line per failed join (CAP_NET_ADMIN only), not per packet.
        kernel::pr_warn!("no memory for the trace filters' hooks: trace events are missing\n");
    }
}

/// A socket left the trace group: when nobody listens any more, the
/// filters' hooks are released (the filters stay installed).
pub(crate) fn trace_left(st: &State) {
    let mut th = st.trace_hooks.lock();
    if th.listening && !trace_has_listeners() {
        th.listening = false;
        st.hooks.shrink_to(TRACE, 0);
    }
}

/// Bumped by every publication of trace filters.
static TRACE_GEN: AtomicU32 = AtomicU32::new(0);

/// `(jiffies << 32) | TRACE_GEN` of the last time a hook found nobody on the
/// trace group (only the low 32 bits of jiffies; 0 before any).
static QUIET: AtomicU64 = AtomicU64::new(0);

/// Whether anyone listens on the trace group, asked of netlink at most once
/// per tick and filter generation while the answer is "nobody": with trace
/// filters installed and no listener, every hook call would otherwise ask
/// `genl_has_listeners()` (an RCU read of the group's listener bitmap) only
/// to return Accept. A `dockfwctl trace` session joins the group, then
/// installs its filter; installing bumps `TRACE_GEN`, which invalidates the
/// cached answer at once, so the session's first packets are not missed. A
/// socket joining without installing a filter of its own is seen within a
/// tick (4 ms at HZ=250). A "someone listens" answer is never cached.
fn trace_listened() -> bool {
    let key = quiet_key();
    if QUIET.load(Ordering::Relaxed) == key {
        return false;
    }
    if trace_has_listeners() {
        return true;
    }
    QUIET.store(key, Ordering::Relaxed);
    false
}

#[inline(always)]
fn quiet_key() -> u64 {
    ((jiffies() as u64 & 0xffff_ffff) << 32) | u64::from(TRACE_GEN.load(Ordering::Acquire))
}

/// "Nobody listens" is known for this tick and filter generation.
#[inline(always)]
fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed) == quiet_key()
}

/// Sets the default policy (a `DOCKFW_VERDICT_*`). Drop needs every hook:
/// they are registered first, and released after the policy is accept
/// again. Fails (no memory) with nothing changed. The caller serialises
/// policy changes (genl_mutex).
pub(crate) fn set_policy(st: &State, policy: u8) -> Result {
    let drop = policy == VERDICT_DROP;
    if drop {
        st.hooks.grow(POLICY, ALL_HOOK_BITS)?;
    }
    st.policy.store(policy, Ordering::Relaxed);
    set_bits(POLICY_DROP, if drop { POLICY_DROP } else { 0 });
    if !drop {
        st.hooks.shrink_to(POLICY, 0);
    }
    Ok(())
}

/// The `trace` and `hook_cost` switches (see `dockfw_switches_apply`):
/// either one on needs every hook.
pub(crate) fn apply_switches(trace: bool, hook_cost: bool) -> Result {
    let mask = if trace || hook_cost { ALL_HOOK_BITS } else { 0 };
    crate::STATE.with_sleepable(|st| st.hooks.set(SWITCHES, mask)).unwrap_or(Ok(()))
}

// `HookRegistry` masks are bit i = HOOKS[i]; the reasons' masks are
// `rules::hook_bit` bits: the same numbering.
const _: () = {
    let mut i = 0;
    while i < DockfwHooks::HOOKS.len() {
        let h = &DockfwHooks::HOOKS[i];
        assert!(hook_bit(h.family, h.hook) == 1 << i);
        i += 1;
    }
    assert!(HookRegistry::<DockfwHooks>::ALL == ALL_HOOK_BITS);
};

impl PacketHook for DockfwHooks {
    const HOOKS: &'static [HookSpec] = &[
        spec(Family::Ipv4, Hook::PreRouting),
        spec(Family::Ipv4, Hook::LocalIn),
        spec(Family::Ipv4, Hook::Forward),
        spec(Family::Ipv4, Hook::LocalOut),
        spec(Family::Ipv4, Hook::PostRouting),
        spec(Family::Ipv6, Hook::PreRouting),
        spec(Family::Ipv6, Hook::LocalIn),
        spec(Family::Ipv6, Hook::Forward),
        spec(Family::Ipv6, Hook::LocalOut),
        spec(Family::Ipv6, Hook::PostRouting),
    ];

    /// The fast path, inlined into each hook point's entry function, where
    /// `spec` is a constant: one load of `ACTIVE` and a test against that
    /// hook's bits, then the two parameter flags; with trace filters for
    /// this hook, the cached "nobody listens" (`trace_listened`). Everything
    /// else is out of line in `slow`.
    #[inline(always)]
    fn hook(spec: &'static HookSpec, skb: &SkBuff, state: &HookState) -> Verdict {
        let bit = u32::from(hook_bit(spec.family, spec.hook));
        let active = ACTIVE.load(Ordering::Acquire);
        if active & (bit | POLICY_DROP) == 0
            && !params::trace_on()
            && !params::hook_cost_on()
            && (active & (bit << TRACE_SHIFT) == 0 || quiet())
        {
            return Verdict::Accept;
        }
        slow(spec.hook, spec.family, active, skb, state)
    }

    fn with_registry<R>(f: impl FnOnce(&HookRegistry<Self>) -> R) -> Option<R> {
        // The state is published before the pernet operations and the
        // parameter switches are registered, and unpublished after both are
        // gone: every caller runs inside its life.
        crate::STATE.with_sleepable(|st| f(&st.hooks))
    }

    fn net_init(_net: &Net) {
        HOOKED_NETNS.fetch_add(1, Ordering::Relaxed);
    }

    fn net_exit(_net: &Net) {
        HOOKED_NETNS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A hook call with something to do, or measured (`hook_cost=1`).
#[inline(never)]
fn slow(hook: Hook, family: Family, active: u32, skb: &SkBuff, state: &HookState) -> Verdict {
    if !params::hook_cost_on() {
        return run(hook, family, active, skb, state);
    }
    // hook_cost=1: time the call (the fast path's test is not included).
    let (t0, c0) = (local_clock_ns(), cycles());
    let v = run(hook, family, active, skb, state);
    let (t1, c1) = (local_clock_ns(), cycles());
    if let Some(st) = crate::STATE.get(&state.rcu()) {
        st.stats.add_cost(t1.wrapping_sub(t0), c1.wrapping_sub(c0));
    }
    v
}

#[inline(always)]
fn run(hook: Hook, family: Family, active: u32, skb: &SkBuff, state: &HookState) -> Verdict {
    let bit = u32::from(hook_bit(family, hook));
    let rules = active & (bit | POLICY_DROP) != 0;
    let trace = active & (bit << TRACE_SHIFT) != 0;
    let dmesg = params::trace_on();
    if !rules && !trace && !dmesg {
        return Verdict::Accept;
    }
    // A trace filter but nobody listening: nothing to do either.
    if !rules && !dmesg && !trace_listened() {
        return Verdict::Accept;
    }
    // The hook runs inside netfilter's RCU read-side section (`state.rcu()`):
    // the state and the ruleset are read under it, without one of our own.
    match crate::STATE.get(&state.rcu()) {
        Some(st) => on_packet(st, skb, state, hook, family, rules, trace),
        None => Verdict::Accept,
    }
}

fn on_packet(
    st: &State,
    skb: &SkBuff,
    state: &HookState,
    hook: Hook,
    family: Family,
    rules: bool,
    trace: bool,
) -> Verdict {
    st.stats.count(|s| &s.packets);
    let bytes = skb.packet_bytes();
    let pkt = match packet::parse(&bytes, bytes.network_offset(), family) {
        Ok(p) => p,
        // Not ours to judge: the IP stack drops malformed headers itself.
        Err(_) => {
            st.stats.count(|s| &s.malformed);
            return Verdict::Accept;
        }
    };
    // No rule for this hook and the policy is accept: no ruleset to read.
    let (verdict, rule) =
        if rules { decide(st, st.rules.get(&state.rcu()), skb, state, hook, &pkt) } else { (Verdict::Accept, None) };
    if verdict == Verdict::Drop {
        st.stats.count(|s| &s.dropped);
    }
    crate::trace::log(&st.trace_filter, skb, state, hook, &pkt, format_args!("{}", Decision(verdict, rule)));
    if trace {
        crate::tracing::emit(st, skb, state, hook, &pkt, verdict, rule);
    }
    verdict
}

/// ` verdict=accept rule=3` (or `rule=-` when the default policy decided).
struct Decision(Verdict, Option<u32>);
crate::kernel_ext::compat::kernel_display!(Decision);

impl core::fmt::Display for Decision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = if self.0 == Verdict::Drop { "drop" } else { "accept" };
        match self.1 {
            Some(id) => write!(f, " verdict={v} rule={id}"),
            None => write!(f, " verdict={v} rule=-"),
        }
    }
}

fn decide(
    st: &State,
    rs: Option<&Ruleset>,
    skb: &SkBuff,
    state: &HookState,
    hook: Hook,
    pkt: &Packet,
) -> (Verdict, Option<u32>) {
    let policy = if st.policy.load(Ordering::Relaxed) == VERDICT_DROP { Verdict::Drop } else { Verdict::Accept };
    // Mutation testing only: the drop policy accepts.
    #[cfg(dockfw_mutant = "policy_accept")]
    let policy = { let _ = policy; Verdict::Accept };
    // (An empty ruleset has no keys and no unkeyed rules: `may_match`
    // below turns every packet away.)
    let Some(rs) = rs else {
        return (policy, None);
    };
    // Only pay for what some rule looks at.
    let ct = if rs.needs.ct { skb.ct_orig() } else { None };
    // Mutation testing only (Kbuild DOCKFW_MUTANT, never shipped): rules
    // blind to conntrack's original tuple, so `orig-dport` sees the DNATed port.
    #[cfg(dockfw_mutant = "ignore_orig")]
    let ct: Option<crate::model::CtOrig> = { let _ = ct; None };
    // A packet to a port no rule names (most of them) is decided by one or
    // two bit tests per layer, before its devices and namespace are read.
    if !rs.may_match(KeyPorts::of(pkt, ct.as_ref())) {
        return (policy, None);
    }
    let (iif, oif) = if rs.needs.ifnames {
        (state.in_dev().map(|d| d.name()), state.out_dev().map(|d| d.name()))
    } else {
        (None, None)
    };
    let (netns, host) = if rs.needs.netns {
        let net = state.net();
        (net.inum(), net.is_init())
    } else {
        (0, false)
    };
    let ctx = Ctx { hook, pkt, ct: ct.as_ref(), iif, oif, netns, host };
    let len = skb.len();
    let found = rs.view().eval(&ctx, |pos| {
        rs.counters(pos).add(len);
        crate::trace::log_rule(rs.rule(pos).id, skb, state, hook, pkt);
    });
    // Mutation testing only: every rule but the first is ignored.
    #[cfg(dockfw_mutant = "first_rule_only")]
    let found = found.filter(|&pos| pos == 0);
    match found {
        Some(pos) => {
            rs.counters(pos).add(len);
            st.stats.count(|s| &s.matched);
            let r = rs.rule(pos);
            let v = if r.action == Action::Drop { Verdict::Drop } else { Verdict::Accept };
            (v, Some(r.id))
        }
        None => (policy, None),
    }
}
