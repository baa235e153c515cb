// SPDX-License-Identifier: GPL-2.0
//! The published ruleset: rules in evaluation order, their index, and their
//! packet/byte counters. A `Ruleset` is immutable once published (read by
//! the hooks under RCU); every change builds a new one from the old and
//! replaces it whole (see `kernel_ext::rcu::RcuBox`). Counters are shared
//! (`Arc`) between the old and the new set for rules that survive, so an
//! update does not reset them; they are per CPU so that the hot path only
//! touches its own cache lines.

use crate::kernel_ext::uapi::{cpu_id, nr_cpu_ids};
use crate::rules::{build_index, index_sizes, Needs, Rule, Table};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Upper bound on the number of rules (about 150 MB of rules and index).
pub(crate) const MAX_RULES: usize = 1 << 20;

#[repr(align(64))]
struct Slot {
    packets: AtomicU64,
    bytes: AtomicU64,
}

/// Per-CPU packet and byte counters of one rule.
pub(crate) struct Counters {
    slots: KVec<Slot>,
}

impl Counters {
    pub(crate) fn new() -> Result<Arc<Counters>> {
        let n = nr_cpu_ids().max(1);
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(Slot { packets: AtomicU64::new(0), bytes: AtomicU64::new(0) }, GFP_KERNEL)?;
        }
        Ok(Arc::new(Counters { slots }, GFP_KERNEL)?)
    }

    /// Counts one packet. Atomic because LOCAL_OUT may run preemptible and
    /// migrate; uncontended since each CPU has its own slot.
    pub(crate) fn add(&self, bytes: u32) {
        // cpu_id() < nr_cpu_ids, the slot count; `get` keeps the hot path
        // free of panics anyway.
        let Some(s) = self.slots.get(cpu_id()).or(self.slots.first()) else { return };
        s.packets.fetch_add(1, Ordering::Relaxed);
        s.bytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    pub(crate) fn sum(&self) -> (u64, u64) {
        self.slots.iter().fold((0, 0), |(p, b), s| {
            (p + s.packets.load(Ordering::Relaxed), b + s.bytes.load(Ordering::Relaxed))
        })
    }
}

pub(crate) struct Ruleset {
    // kvmalloc-backed: 100 000 rules are ~19 MB, far past kmalloc's 4 MiB.
    rules: KVVec<Rule>,
    counters: KVVec<Arc<Counters>>,
    keys: KVVec<u64>,
    wild: KVVec<u32>,
    pub(crate) needs: Needs,
    /// Bumped by every change; dumps use it to detect a change mid-dump.
    pub(crate) generation: u32,
    /// The id the next added rule gets.
    pub(crate) next_id: u32,
}

impl Ruleset {
    pub(crate) fn empty() -> Ruleset {
        Ruleset {
            rules: KVVec::new(),
            counters: KVVec::new(),
            keys: KVVec::new(),
            wild: KVVec::new(),
            needs: Needs::default(),
            generation: 0,
            next_id: 1,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub(crate) fn counters(&self, pos: usize) -> &Counters {
        &self.counters[pos]
    }

    pub(crate) fn table(&self) -> Table<'_> {
        Table { rules: &self.rules, keys: &self.keys, wild: &self.wild }
    }

    pub(crate) fn position(&self, id: u32) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// Builds the next generation from `rules` (ids already assigned and
    /// unique), sorted into evaluation order and indexed. Counters of ids
    /// that exist in `self` carry over.
    pub(crate) fn next(&self, rules: &[Rule], next_id: u32) -> Result<KBox<Ruleset>> {
        if rules.len() > MAX_RULES {
            return Err(ENOSPC);
        }
        // Sort a permutation so that rules and counters move together.
        let mut order: KVVec<(u32, u32, u32)> = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        for (i, r) in rules.iter().enumerate() {
            order.push((r.priority, r.id, i as u32), GFP_KERNEL)?;
        }
        order.sort_unstable();
        // The old set's (id, position) pairs, sorted: carrying counters over
        // by id costs O(n log n), not a scan per rule.
        let mut old: KVVec<(u32, u32)> = KVVec::with_capacity(self.rules.len(), GFP_KERNEL)?;
        for (p, r) in self.rules.iter().enumerate() {
            old.push((r.id, p as u32), GFP_KERNEL)?;
        }
        old.sort_unstable();
        let mut sorted = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        let mut counters = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        for &(_, id, i) in order.iter() {
            sorted.push(rules[i as usize], GFP_KERNEL)?;
            let c = match old.binary_search_by_key(&id, |&(i, _)| i) {
                Ok(k) => self.counters[old[k].1 as usize].clone(),
                Err(_) => Counters::new()?,
            };
            counters.push(c, GFP_KERNEL)?;
        }
        let (nk, nw) = index_sizes(&sorted);
        let mut keys = KVVec::from_elem(0u64, nk, GFP_KERNEL)?;
        let mut wild = KVVec::from_elem(0u32, nw, GFP_KERNEL)?;
        let needs = build_index(&sorted, &mut keys, &mut wild);
        Ok(KBox::new(
            Ruleset {
                rules: sorted,
                counters,
                keys,
                wild,
                needs,
                generation: self.generation.wrapping_add(1),
                next_id,
            },
            GFP_KERNEL,
        )?)
    }
}
