// SPDX-License-Identifier: GPL-2.0
//! Module-wide packet statistics, per CPU so the hooks never share a cache
//! line, summed on request (`dockfwctl stats`).

use crate::kernel_ext::uapi::{cpu_id, nr_cpu_ids};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

#[repr(align(64))]
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) packets: AtomicU64,
    pub(crate) matched: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) trace_events: AtomicU64,
    pub(crate) trace_lost: AtomicU64,
    /// hook_cost=1: hook calls timed, and their total ns and cycles.
    pub(crate) hook_calls: AtomicU64,
    pub(crate) hook_ns: AtomicU64,
    pub(crate) hook_cycles: AtomicU64,
}

pub(crate) struct Stats {
    slots: KVec<Slot>,
}

#[derive(Default)]
pub(crate) struct Sum {
    pub(crate) packets: u64,
    pub(crate) matched: u64,
    pub(crate) dropped: u64,
    pub(crate) malformed: u64,
    pub(crate) trace_events: u64,
    pub(crate) trace_lost: u64,
    pub(crate) hook_calls: u64,
    pub(crate) hook_ns: u64,
    pub(crate) hook_cycles: u64,
}

impl Stats {
    pub(crate) fn new() -> Result<Stats> {
        let n = nr_cpu_ids().max(1);
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(Slot::default(), GFP_KERNEL)?;
        }
        Ok(Stats { slots })
    }

    /// Counts one event in this CPU's slot (atomics: LOCAL_OUT may migrate
    /// between CPUs). `which` picks the counter.
    pub(crate) fn count(&self, which: fn(&Slot) -> &AtomicU64) {
        if let Some(s) = self.slots.get(cpu_id()).or(self.slots.first()) {
            which(s).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds one timed hook call (hook_cost=1).
    pub(crate) fn add_cost(&self, ns: u64, cycles: u64) {
        if let Some(s) = self.slots.get(cpu_id()).or(self.slots.first()) {
            s.hook_calls.fetch_add(1, Ordering::Relaxed);
            s.hook_ns.fetch_add(ns, Ordering::Relaxed);
            s.hook_cycles.fetch_add(cycles, Ordering::Relaxed);
        }
    }

    pub(crate) fn sum(&self) -> Sum {
        let mut s = Sum::default();
        for x in self.slots.iter() {
            s.packets += x.packets.load(Ordering::Relaxed);
            s.matched += x.matched.load(Ordering::Relaxed);
            s.dropped += x.dropped.load(Ordering::Relaxed);
            s.malformed += x.malformed.load(Ordering::Relaxed);
            s.trace_events += x.trace_events.load(Ordering::Relaxed);
            s.trace_lost += x.trace_lost.load(Ordering::Relaxed);
            s.hook_calls += x.hook_calls.load(Ordering::Relaxed);
            s.hook_ns += x.hook_ns.load(Ordering::Relaxed);
            s.hook_cycles += x.hook_cycles.load(Ordering::Relaxed);
        }
        s
    }
}
