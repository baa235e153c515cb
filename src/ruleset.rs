// SPDX-License-Identifier: GPL-2.0
//! The published ruleset: rules in evaluation order, their index, and their
//! packet/byte counters. A `Ruleset` is immutable once published (read by
//! the hooks under RCU); every change builds a new one from the old and
//! replaces it whole (see `kernel_ext::rcu::RcuBox`).
//!
//! It is kept in two layers (`rules::Layered`): a large indexed base, shared
//! (`Arc`) between generations, plus a small indexed delta of recent adds
//! and a sorted list of deleted base positions. Adding or deleting one rule
//! copies only the delta and the dead list (at most `DELTA_MAX` entries);
//! past that bound both are merged into a new base, so a single update
//! costs about the same with 10 rules or 100 000 (amortised).
//!
//! Counters are per CPU, in chunks of `CHUNK` rules (one allocation per 64
//! rules, not one per rule); a rule's `CounterRef` is shared between the old
//! and the new set when the rule survives an update, so counts carry over.

use crate::kernel_ext::uapi::{cpu_id, nr_cpu_ids};
use crate::pure::rules::{
    build_index, filter_words, hook_mask, index_sizes, should_merge, Cursor, Layered, Needs, Order, Rule, Table, KeyPorts,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Upper bound on the number of rules.
pub(crate) const MAX_RULES: usize = 1 << 20;

/// Rules per counter chunk.
const CHUNK: usize = 64;

struct Cell {
    packets: AtomicU64,
    bytes: AtomicU64,
}

/// Packet and byte counters of `CHUNK` rules on every CPU: CPU `c` uses
/// `cells[c * CHUNK..(c + 1) * CHUNK]` (1 KiB apart, so CPUs do not share
/// cache lines).
struct Chunk {
    cells: KVec<Cell>,
}

impl Chunk {
    fn new() -> Result<Arc<Chunk>> {
        let n = nr_cpu_ids().max(1) * CHUNK;
        let mut cells = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            cells.push(Cell { packets: AtomicU64::new(0), bytes: AtomicU64::new(0) }, GFP_KERNEL)?;
        }
        Ok(Arc::new(Chunk { cells }, GFP_KERNEL)?)
    }
}

/// One rule's counters: a slot in a chunk.
#[derive(Clone)]
pub(crate) struct Counters {
    chunk: Arc<Chunk>,
    idx: u32,
}

impl Counters {
    /// Counts one packet. Atomic because LOCAL_OUT may run preemptible and
    /// migrate; uncontended since each CPU has its own cells.
    pub(crate) fn add(&self, bytes: u32) {
        // Mutation testing only (Kbuild DOCKFW_MUTANT, never shipped).
        if cfg!(dockfw_mutant = "count_nothing") {
            return;
        }
        let i = self.idx as usize;
        // cpu_id() < nr_cpu_ids, so the cell exists; `get` keeps the hot
        // path free of panics anyway.
        let Some(c) = self.chunk.cells.get(cpu_id() * CHUNK + i).or(self.chunk.cells.get(i)) else { return };
        c.packets.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    pub(crate) fn sum(&self) -> (u64, u64) {
        let i = self.idx as usize;
        self.chunk.cells.iter().skip(i).step_by(CHUNK).fold((0, 0), |(p, b), c| {
            (p + c.packets.load(Ordering::Relaxed), b + c.bytes.load(Ordering::Relaxed))
        })
    }
}

/// Hands out counter slots from the current chunk. Slots are never reused
/// (a chunk is freed when no rule uses it any more), so a new rule always
/// starts from zero; a slot taken by a build that is not published is
/// handed out again by the next one (no packet can have counted in it).
#[derive(Clone, Default)]
struct CounterAlloc {
    open: Option<Arc<Chunk>>,
    next: u32,
}

impl CounterAlloc {
    fn alloc(&mut self) -> Result<Counters> {
        let chunk = match &self.open {
            Some(c) if (self.next as usize) < CHUNK => c.clone(),
            _ => {
                let c = Chunk::new()?;
                self.open = Some(c.clone());
                self.next = 0;
                c
            }
        };
        let idx = self.next;
        self.next += 1;
        Ok(Counters { chunk, idx })
    }
}

/// One immutable layer: rules in evaluation order, their counters, the port
/// index, and an id -> position index.
struct Layer {
    rules: KVVec<Rule>,
    counters: KVVec<Counters>,
    keys: KVVec<u64>,
    wild: KVVec<u32>,
    filter: KVVec<u64>,
    by_id: KVVec<(u32, u32)>,
    needs: Needs,
    mask: u16,
}

impl Layer {
    fn empty() -> Layer {
        Layer {
            rules: KVVec::new(),
            counters: KVVec::new(),
            keys: KVVec::new(),
            wild: KVVec::new(),
            filter: KVVec::new(),
            by_id: KVVec::new(),
            needs: Needs::default(),
            mask: 0,
        }
    }

    #[inline]
    fn table(&self) -> Table<'_> {
        Table { rules: &self.rules, keys: &self.keys, wild: &self.wild, filter: &self.filter }
    }

    fn position(&self, id: u32) -> Option<usize> {
        self.by_id.binary_search_by_key(&id, |&(i, _)| i).ok().map(|k| self.by_id[k].1 as usize)
    }

    /// Indexes `rules`, already in evaluation order, with their counters.
    fn build_sorted(rules: KVVec<Rule>, counters: KVVec<Counters>) -> Result<Layer> {
        let (nk, nw) = index_sizes(&rules);
        let mut keys = KVVec::from_elem(0u64, nk, GFP_KERNEL)?;
        let mut wild = KVVec::from_elem(0u32, nw, GFP_KERNEL)?;
        let mut filter = KVVec::from_elem(0u64, filter_words(nk), GFP_KERNEL)?;
        let needs = build_index(&rules, &mut keys, &mut wild, &mut filter);
        let mut by_id = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        for (p, r) in rules.iter().enumerate() {
            by_id.push((r.id, p as u32), GFP_KERNEL)?;
        }
        by_id.sort_unstable();
        let mask = hook_mask(&rules);
        Ok(Layer { rules, counters, keys, wild, filter, by_id, needs, mask })
    }

    /// Sorts `rules` (any order, unique ids) into evaluation order and
    /// indexes them; `counter(rule)` gives each rule its counters.
    fn build(rules: KVVec<Rule>, mut counter: impl FnMut(&Rule) -> Result<Counters>) -> Result<Layer> {
        let mut order: KVVec<(u32, u32, u32)> = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        for (i, r) in rules.iter().enumerate() {
            order.push((r.priority, r.id, i as u32), GFP_KERNEL)?;
        }
        order.sort_unstable();
        let mut counters = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        // A saved ruleset restores in evaluation order already: then the
        // staged vector becomes the layer as it is, without a copy.
        if order.iter().enumerate().all(|(p, &(_, _, i))| i as usize == p) {
            for r in rules.iter() {
                counters.push(counter(r)?, GFP_KERNEL)?;
            }
            return Layer::build_sorted(rules, counters);
        }
        let mut sorted = KVVec::with_capacity(rules.len(), GFP_KERNEL)?;
        for &(_, _, i) in order.iter() {
            let r = &rules[i as usize];
            sorted.push(*r, GFP_KERNEL)?;
            counters.push(counter(r)?, GFP_KERNEL)?;
        }
        Layer::build_sorted(sorted, counters)
    }
}

/// `rs.rules()[pos]`: the rule at a position of the evaluation order.
impl core::ops::Index<usize> for Ruleset {
    type Output = Rule;

    fn index(&self, pos: usize) -> &Rule {
        self.rule(pos)
    }
}

pub(crate) struct Ruleset {
    /// `None`: no base yet (the empty set).
    base: Option<Arc<Layer>>,
    delta: Layer,
    /// Deleted base positions, sorted.
    dead: KVVec<u32>,
    alloc: CounterAlloc,
    pub(crate) needs: Needs,
    /// The (family, hook) pairs some rule can match at (`rules::hook_bit`).
    pub(crate) mask: u16,
    /// Bumped by every change; dumps use it to detect a change mid-dump.
    pub(crate) generation: u32,
    /// The id the next added rule gets.
    pub(crate) next_id: u32,
}

impl Ruleset {
    pub(crate) fn empty() -> Ruleset {
        Ruleset {
            base: None,
            delta: Layer::empty(),
            dead: KVVec::new(),
            alloc: CounterAlloc::default(),
            needs: Needs::default(),
            mask: 0,
            generation: 0,
            next_id: 1,
        }
    }

    fn base_table(&self) -> Table<'_> {
        match &self.base {
            Some(b) => b.table(),
            None => Table { rules: &[], keys: &[], wild: &[], filter: &[] },
        }
    }

    fn base_len(&self) -> usize {
        self.base.as_ref().map_or(0, |b| b.rules.len())
    }

    /// See `Layered::may_match`; without building the whole view.
    #[inline]
    pub(crate) fn may_match(&self, ports: KeyPorts) -> bool {
        self.base.as_ref().is_some_and(|b| b.table().may_match(ports)) || self.delta.table().may_match(ports)
    }

    /// The two layers as the pure evaluator sees them.
    pub(crate) fn view(&self) -> Layered<'_> {
        Layered { base: self.base_table(), dead: &self.dead, delta: self.delta.table() }
    }

    pub(crate) fn len(&self) -> usize {
        self.base_len() - self.dead.len() + self.delta.rules.len()
    }

    pub(crate) fn rule(&self, pos: usize) -> &Rule {
        let nb = self.base_len();
        match &self.base {
            Some(b) if pos < nb => &b.rules[pos],
            _ => &self.delta.rules[pos - nb],
        }
    }

    /// Indexable by position (`rs.rules()[pos]`).
    pub(crate) fn rules(&self) -> &Ruleset {
        self
    }

    pub(crate) fn counters(&self, pos: usize) -> &Counters {
        let nb = self.base_len();
        match &self.base {
            Some(b) if pos < nb => &b.counters[pos],
            _ => &self.delta.counters[pos - nb],
        }
    }

    /// Positions of the live rules in evaluation order, from `at`.
    pub(crate) fn order(&self, at: Cursor) -> impl Iterator<Item = usize> + '_ {
        // The view borrows `self`; rebuilt per call, it is three slices.
        OrderOwned { view: self.view(), at, done: false }
    }

    /// The position of the live rule with this id.
    pub(crate) fn position(&self, id: u32) -> Option<usize> {
        if let Some(p) = self.base.as_ref().and_then(|b| b.position(id)) {
            if self.dead.binary_search(&(p as u32)).is_err() {
                return Some(p);
            }
        }
        self.delta.position(id).map(|q| self.base_len() + q)
    }

    fn with_layers(&self, base: Option<Arc<Layer>>, delta: Layer, dead: KVVec<u32>, alloc: CounterAlloc, next_id: u32) -> Result<KBox<Ruleset>> {
        let (bn, bm) = base.as_ref().map_or((Needs::default(), 0), |b| (b.needs, b.mask));
        let needs = Needs {
            ct: bn.ct || delta.needs.ct,
            ifnames: bn.ifnames || delta.needs.ifnames,
            netns: bn.netns || delta.needs.netns,
        };
        let mask = bm | delta.mask;
        Ok(KBox::new(
            Ruleset { base, delta, dead, alloc, needs, mask, generation: self.generation.wrapping_add(1), next_id },
            GFP_KERNEL,
        )?)
    }

    /// Builds the next generation from `rules` (ids already assigned and
    /// unique), sorted into evaluation order and indexed as one base.
    /// Counters of ids that exist in `self` carry over.
    pub(crate) fn next(&self, rules: KVVec<Rule>, next_id: u32) -> Result<KBox<Ruleset>> {
        if rules.len() > MAX_RULES {
            return Err(ENOSPC);
        }
        let mut alloc = self.alloc.clone();
        let base = Layer::build(rules, |r| match self.position(r.id) {
            Some(p) => Ok(self.counters(p).clone()),
            None => alloc.alloc(),
        })?;
        let base = if base.rules.is_empty() { None } else { Some(Arc::new(base, GFP_KERNEL)?) };
        self.with_layers(base, Layer::empty(), KVVec::new(), alloc, next_id)
    }

    /// Merges the live rules, minus the one at `skip`, plus `extra`, into
    /// one new base (linear: the layers are already in order).
    fn merged(&self, extra: Option<(Rule, Counters)>, skip: Option<usize>, alloc: CounterAlloc, next_id: u32) -> Result<KBox<Ruleset>> {
        let n = self.len() + usize::from(extra.is_some());
        let mut rules = KVVec::with_capacity(n, GFP_KERNEL)?;
        let mut counters = KVVec::with_capacity(n, GFP_KERNEL)?;
        let mut extra = extra;
        for p in self.order(Cursor::default()) {
            if skip == Some(p) {
                continue;
            }
            let r = self.rule(p);
            if extra.as_ref().is_some_and(|(e, _)| e.order_key() < r.order_key()) {
                if let Some((e, c)) = extra.take() {
                    rules.push(e, GFP_KERNEL)?;
                    counters.push(c, GFP_KERNEL)?;
                }
            }
            rules.push(*r, GFP_KERNEL)?;
            counters.push(self.counters(p).clone(), GFP_KERNEL)?;
        }
        if let Some((e, c)) = extra {
            rules.push(e, GFP_KERNEL)?;
            counters.push(c, GFP_KERNEL)?;
        }
        let base = Layer::build_sorted(rules, counters)?;
        let base = if base.rules.is_empty() { None } else { Some(Arc::new(base, GFP_KERNEL)?) };
        self.with_layers(base, Layer::empty(), KVVec::new(), alloc, next_id)
    }

    fn copy_dead(&self) -> Result<KVVec<u32>> {
        let mut d = KVVec::with_capacity(self.dead.len(), GFP_KERNEL)?;
        d.extend_from_slice(&self.dead, GFP_KERNEL)?;
        Ok(d)
    }

    /// The next generation with `rule` (its id assigned) added: O(delta),
    /// or a merge into a new base when the delta is full.
    pub(crate) fn with_added(&self, rule: Rule, next_id: u32) -> Result<KBox<Ruleset>> {
        if self.len() >= MAX_RULES {
            return Err(ENOSPC);
        }
        let mut alloc = self.alloc.clone();
        let counters = alloc.alloc()?;
        if should_merge(self.dead.len(), self.delta.rules.len() + 1) {
            return self.merged(Some((rule, counters)), None, alloc, next_id);
        }
        let mut rules = KVVec::with_capacity(self.delta.rules.len() + 1, GFP_KERNEL)?;
        rules.extend_from_slice(&self.delta.rules, GFP_KERNEL)?;
        rules.push(rule, GFP_KERNEL)?;
        let mut new = Some(counters);
        let delta = Layer::build(rules, |r| match self.delta.position(r.id) {
            Some(q) => Ok(self.delta.counters[q].clone()),
            None => new.take().ok_or(EINVAL),
        })?;
        self.with_layers(self.base.clone(), delta, self.copy_dead()?, alloc, next_id)
    }

    /// The next generation without the rule at `pos` (from `position`):
    /// O(delta), or a merge into a new base when the layers are full.
    pub(crate) fn without(&self, pos: usize) -> Result<KBox<Ruleset>> {
        let nb = self.base_len();
        let in_base = pos < nb;
        let (ndead, ndelta) = (self.dead.len() + usize::from(in_base), self.delta.rules.len() - usize::from(!in_base));
        if should_merge(ndead, ndelta) {
            return self.merged(None, Some(pos), self.alloc.clone(), self.next_id);
        }
        let mut dead = KVVec::with_capacity(ndead, GFP_KERNEL)?;
        let mut rules = KVVec::with_capacity(ndelta, GFP_KERNEL)?;
        let mut counters = KVVec::with_capacity(ndelta, GFP_KERNEL)?;
        if in_base {
            let i = self.dead.partition_point(|&d| (d as usize) < pos);
            dead.extend_from_slice(&self.dead[..i], GFP_KERNEL)?;
            dead.push(pos as u32, GFP_KERNEL)?;
            dead.extend_from_slice(&self.dead[i..], GFP_KERNEL)?;
        } else {
            dead.extend_from_slice(&self.dead, GFP_KERNEL)?;
        }
        // The delta minus the deleted rule (or the same delta, rebuilt: it is
        // small, and a layer is immutable).
        for (q, r) in self.delta.rules.iter().enumerate() {
            if nb + q != pos {
                rules.push(*r, GFP_KERNEL)?;
                counters.push(self.delta.counters[q].clone(), GFP_KERNEL)?;
            }
        }
        let delta = Layer::build_sorted(rules, counters)?;
        self.with_layers(self.base.clone(), delta, dead, self.alloc.clone(), self.next_id)
    }
}

/// `Ruleset::order`: an `Order` that owns its view.
struct OrderOwned<'a> {
    view: Layered<'a>,
    at: Cursor,
    done: bool,
}

impl Iterator for OrderOwned<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.done {
            return None;
        }
        let mut o: Order<'_, '_> = self.view.order(self.at);
        let r = o.next();
        self.at = o.at;
        self.done = r.is_none();
        r
    }
}
