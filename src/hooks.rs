// SPDX-License-Identifier: GPL-2.0
//! The data path: IPv4 and IPv6 hooks at PRE_ROUTING, LOCAL_IN, FORWARD,
//! LOCAL_OUT and POST_ROUTING with priority NF_IP_PRI_FIRST (before
//! conntrack and NAT), in every network namespace where `demand` has them
//! registered. Each call parses the headers once into a `Call`, decides the
//! verdict from the ruleset, traces the packet (dmesg, trace stream) if
//! asked, and returns the verdict. Runs in softirq context: no sleeping, no
//! allocation, no unbounded printk.
//!
//! Fast path: `demand::active()` says, per (family, hook), whether any rule
//! can match there, whether a trace filter can, and whether the default
//! policy is drop. A registered hook with nothing to do (for the moment
//! between a publication and the unregistration that follows it) returns
//! Accept after one load and a bit test: no RCU, no header parsing, no
//! counters, no conntrack.

use crate::call::Call;
use crate::demand::{self, DockfwHooks, POLICY_DROP, TRACE_SHIFT};
use crate::kernel_ext::netfilter::{HookRegistry, HookSpec, HookState, PacketHook, PRIORITY_FIRST};
use crate::kernel_ext::params;
use crate::kernel_ext::skb::SkBuff;
use crate::kernel_ext::uapi::{cycles, local_clock_ns, VERDICT_DROP};
use crate::pure::model::{Family, Hook, Verdict};
use crate::pure::packet;
use crate::pure::rules::{hook_bit, Action, KeyPorts, ALL_HOOK_BITS};
use crate::ruleset::Ruleset;
use crate::state::{State, STATE};
use core::sync::atomic::Ordering;

const fn spec(family: Family, hook: Hook) -> HookSpec {
    HookSpec { family, hook, priority: PRIORITY_FIRST }
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
        let active = demand::active();
        if active & (bit | POLICY_DROP) == 0
            && !params::trace_on()
            && !params::hook_cost_on()
            && (active & (bit << TRACE_SHIFT) == 0 || demand::quiet())
        {
            return Verdict::Accept;
        }
        slow(spec.hook, spec.family, active, skb, state)
    }

    fn with_registry<R>(f: impl FnOnce(&HookRegistry<Self>) -> R) -> Option<R> {
        // The state is published before the pernet operations and the
        // parameter switches are registered, and unpublished after both are
        // gone: every caller runs inside its life.
        STATE.with_sleepable(|st| f(st.demand.registry()))
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
    if let Some(st) = STATE.get(&state.rcu()) {
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
    if !rules && !dmesg && !demand::trace_listened() {
        return Verdict::Accept;
    }
    // The hook runs inside netfilter's RCU read-side section (`state.rcu()`):
    // the state and the ruleset are read under it, without one of our own.
    match STATE.get(&state.rcu()) {
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
    let call = Call::new(skb, state, hook, pkt);
    // No rule for this hook and the policy is accept: no ruleset to read.
    let (verdict, rule) = if rules { decide(st, st.rules.get(&state.rcu()), &call) } else { (Verdict::Accept, None) };
    if verdict == Verdict::Drop {
        st.stats.count(|s| &s.dropped);
    }
    crate::dmesg_trace::log(&st.dmesg_filter, &call, format_args!("{}", Decision(verdict, rule)));
    if trace {
        crate::trace_stream::emit(st, &call, verdict, rule);
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

fn decide(st: &State, rs: Option<&Ruleset>, call: &Call<'_>) -> (Verdict, Option<u32>) {
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
    #[allow(unused_mut)]
    let mut needs = rs.needs;
    // Mutation testing only (Kbuild DOCKFW_MUTANT, never shipped): rules
    // blind to conntrack's original tuple, so `orig-dport` sees the DNATed port.
    #[cfg(dockfw_mutant = "ignore_orig")]
    {
        needs.ct = false;
    }
    let ct = if needs.ct { call.ct() } else { None };
    // A packet to a port no rule names (most of them) is decided by one or
    // two bit tests per layer, before its devices and namespace are read.
    if !rs.may_match(KeyPorts::of(&call.pkt, ct)) {
        return (policy, None);
    }
    let ctx = call.ctx(needs);
    let len = call.skb.len();
    let found = rs.view().eval(&ctx, |pos| {
        rs.counters(pos).add(len);
        crate::dmesg_trace::log_rule(rs.rule(pos).id, call);
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
