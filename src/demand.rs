// SPDX-License-Identifier: GPL-2.0
//! Hooks on demand (control state): a (family, hook) is registered, in every
//! namespace, only while a rule can match there, or a trace filter can and
//! someone listens on the trace group, the default policy is drop, or the
//! `trace`/`hook_cost` switch is on (`HookRegistry`, one wanted mask per
//! `Reason` below). A writer grows the registered set before it publishes
//! what needs it and shrinks it after it published what no longer does, so
//! a published rule always has its hooks.
//!
//! Fast-path state: `ACTIVE` says, per (family, hook), whether any rule can
//! match there, whether a trace filter can, and whether the default policy
//! is drop; `quiet` caches "nobody listens on the trace group". The data
//! path (`hooks`) reads both before it does anything else; the writers here
//! keep them in step with what they publish.
//!
//! Lock order: `trace_hooks`, then the trace filter cell's mutex, then the
//! registry's. The ruleset cell's and the policy's writers (netlink,
//! serialised by genl_mutex) take only the registry's.

use crate::kernel_ext::netfilter::{HookRegistry, Reason};
use crate::kernel_ext::rcu::RcuBox;
use crate::kernel_ext::uapi::{jiffies, GROUP_TRACE, VERDICT_DROP};
use crate::pure::rules::ALL_HOOK_BITS;
use crate::ruleset::Ruleset;
use crate::stream_filters::{Filters, EVENTS};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use kernel::prelude::*;
use kernel::sync::Mutex;

/// The module's hook set. What it does per packet (`PacketHook`) is the
/// data path's, in `hooks`; here it is only the registry's type parameter.
pub(crate) struct DockfwHooks;

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

pub(crate) const RULE_BITS: u32 = 0x3ff;
pub(crate) const TRACE_SHIFT: u32 = 16;
pub(crate) const POLICY_DROP: u32 = 1 << 31;

/// `ACTIVE`, as the hooks read it (acquire: what it announces is published).
#[inline(always)]
pub(crate) fn active() -> u32 {
    ACTIVE.load(Ordering::Acquire)
}

fn set_bits(mask: u32, value: u32) {
    let _ = ACTIVE.fetch_update(Ordering::Release, Ordering::Relaxed, |a| Some((a & !mask) | (value & mask)));
}

/// What the trace stream's hooks depend on, under one lock (taken before the
/// trace filter cell's and the registry's): the hooks the installed filters
/// can match at, and whether anyone may be listening on the trace group.
/// The filters' hooks are registered only while someone may listen: filters
/// held by a socket that does not listen cost packets nothing.
struct TraceHooks {
    filters: u16,
    listening: bool,
}

fn trace_has_listeners() -> bool {
    EVENTS.has_listeners(GROUP_TRACE)
}

/// The hook registry and what decides its contents.
#[pin_data]
pub(crate) struct Demand {
    /// The namespaces followed and which hooks are registered in them.
    #[pin]
    hooks: HookRegistry<DockfwHooks>,
    #[pin]
    trace_hooks: Mutex<TraceHooks>,
}

impl Demand {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Demand {
            hooks <- HookRegistry::new(),
            trace_hooks <- kernel::new_mutex!(TraceHooks { filters: 0, listening: false }),
        })
    }

    /// The registry, for the pernet callbacks (`PacketHook::with_registry`).
    pub(crate) fn registry(&self) -> &HookRegistry<DockfwHooks> {
        &self.hooks
    }

    /// Hooks registered, summed over the namespaces.
    pub(crate) fn registered(&self) -> usize {
        self.hooks.registered()
    }

    /// Before a ruleset is published: the hooks it has rules for are
    /// registered in every namespace. Fails (no memory) with nothing changed.
    pub(crate) fn prepare_rules(&self, rs: &Ruleset) -> Result {
        self.hooks.grow(RULES, rs.mask)
    }

    /// After a ruleset is published: the fast path learns which (family,
    /// hook) pairs have rules, and hooks nothing needs any more are
    /// unregistered.
    pub(crate) fn publish_rules(&self, rs: Option<&Ruleset>) {
        let mask = rs.map_or(0, |r| r.mask);
        set_bits(RULE_BITS, u32::from(mask));
        self.hooks.shrink_to(RULES, mask);
    }

    /// Publishes in `cell` the trace filter list `f` builds from the current
    /// one: the hooks it needs are registered first (if anyone may listen),
    /// the ones it no longer needs released after, the fast path told which
    /// hooks have filters. Fails (no memory) with nothing changed.
    pub(crate) fn update_trace<R>(
        &self,
        cell: &RcuBox<Filters>,
        f: impl FnOnce(Option<&Filters>) -> Result<(Option<KBox<Filters>>, R)>,
    ) -> Result<R> {
        let mut th = self.trace_hooks.lock();
        // A `dockfwctl trace` session joins the group, then installs its
        // filter: by now its membership is visible, even if a concurrent
        // `left` of another socket cleared `listening` between its join and
        // now.
        if !th.listening && trace_has_listeners() {
            th.listening = true;
        }
        let listening = th.listening;
        cell.update_then(
            |old| {
                let (new, r) = f(old)?;
                if listening {
                    self.hooks.grow(TRACE, new.as_ref().map_or(0, |n| n.hook_mask()))?;
                }
                Ok((new, r))
            },
            |published| {
                let mask = published.map_or(0, |f| f.hook_mask());
                th.filters = mask;
                set_bits(RULE_BITS << TRACE_SHIFT, u32::from(mask) << TRACE_SHIFT);
                // A new filter list forgets "nobody listens" (see `trace_listened`).
                TRACE_GEN.fetch_add(1, Ordering::Release);
                self.hooks.shrink_to(TRACE, if listening { mask } else { 0 });
            },
        )
    }

    /// A socket is joining the trace group (not yet visible as a listener):
    /// the installed filters' hooks are registered now, so its first packets
    /// are seen. A join cannot be refused here; if the hooks cannot be
    /// registered (no memory) the session gets no events until the next
    /// filter change retries, and the kernel log says so.
    pub(crate) fn trace_joining(&self) {
        let mut th = self.trace_hooks.lock();
        th.listening = true;
        if self.hooks.grow(TRACE, th.filters).is_err() {
            // One line per failed join (CAP_NET_ADMIN only), not per packet.
            kernel::pr_warn!("no memory for the trace filters' hooks: trace events are missing\n");
        }
    }

    /// A socket left the trace group: when nobody listens any more, the
    /// filters' hooks are released (the filters stay installed).
    pub(crate) fn trace_left(&self) {
        let mut th = self.trace_hooks.lock();
        if th.listening && !trace_has_listeners() {
            th.listening = false;
            self.hooks.shrink_to(TRACE, 0);
        }
    }

    /// Sets the default policy (a `DOCKFW_VERDICT_*`) in `cell`. Drop needs
    /// every hook: they are registered first, and released after the policy
    /// is accept again. Fails (no memory) with nothing changed. The caller
    /// serialises policy changes (genl_mutex).
    pub(crate) fn set_policy(&self, cell: &AtomicU8, policy: u8) -> Result {
        let drop = policy == VERDICT_DROP;
        if drop {
            self.hooks.grow(POLICY, ALL_HOOK_BITS)?;
        }
        cell.store(policy, Ordering::Relaxed);
        set_bits(POLICY_DROP, if drop { POLICY_DROP } else { 0 });
        if !drop {
            self.hooks.shrink_to(POLICY, 0);
        }
        Ok(())
    }

    /// The `trace` and `hook_cost` switches (module parameters): either one
    /// on needs every hook.
    pub(crate) fn set_switches(&self, trace: bool, hook_cost: bool) -> Result {
        self.hooks.set(SWITCHES, if trace || hook_cost { ALL_HOOK_BITS } else { 0 })
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
pub(crate) fn trace_listened() -> bool {
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
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed) == quiet_key()
}
