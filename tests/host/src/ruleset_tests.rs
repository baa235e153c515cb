// SPDX-License-Identifier: GPL-2.0
//! Tests of src/ruleset.rs itself (compiled here against kernel-shim): the
//! per-CPU packet/byte counters and how they survive every kind of update,
//! generations and ids, and updates whose allocations fail.

use crate::kernel_ext::uapi::{set_cpu, HOST_CPUS};
use crate::reference::Rng;
use crate::model::{Family, Hook};
use crate::rules::*;
use crate::ruleset::Ruleset;
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVVec};
use kernel::prelude::ENOMEM;
use std::collections::BTreeMap;
use std::vec::Vec;

fn rule(id: u32, prio: u32, port: u16) -> Rule {
    Rule { id, priority: prio, dport: Some(PortRange { min: port, max: port }), action: Action::Accept, ..Default::default() }
}

fn replace(rs: &Ruleset, rules: &[Rule], next_id: u32) -> Ruleset {
    let mut v = KVVec::new();
    for r in rules {
        v.push(*r, GFP_KERNEL).unwrap();
    }
    KBox::into_inner(rs.next(v, next_id).unwrap())
}

/// Every live rule's (packets, bytes), by id.
fn counts(rs: &Ruleset) -> BTreeMap<u32, (u64, u64)> {
    rs.order(Cursor::default()).map(|p| (rs.rule(p).id, rs.counters(p).sum())).collect()
}

#[test]
fn counters_sum_every_cpu_and_survive_add_del_merge_and_replace() {
    // The model: what each live id has counted. Counting goes to random
    // CPUs; every update is checked to keep the survivors' counts and to
    // start new rules (also ids seen before) at zero.
    let mut g = Rng::seeded(0xc0c0);
    let mut rs = Ruleset::empty();
    let mut model: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    let mut next_id = 1u32;
    let mut reused = 0;
    for step in 0..3000 {
        match g.below(10) {
            0..=4 => {
                // A deleted id may come back (as a replace would bring it):
                // a fresh rule with it counts from zero.
                let id = if g.chance(8) && next_id > 1 { 1 + g.below(u64::from(next_id - 1)) as u32 } else { next_id };
                if model.contains_key(&id) {
                    continue;
                }
                reused += u32::from(id != next_id);
                let r = rule(id, g.below(3) as u32 * 10, 80);
                next_id = next_id.max(id + 1);
                rs = KBox::into_inner(rs.with_added(r, next_id).unwrap());
                model.insert(id, (0, 0));
            }
            5..=7 if !model.is_empty() => {
                let id = *model.keys().nth(g.below(model.len() as u64) as usize).unwrap();
                let p = rs.position(id).expect("a live id has a position");
                rs = KBox::into_inner(rs.without(p).unwrap());
                model.remove(&id);
                assert_eq!(rs.position(id), None, "step {step}: rule {id} still there after its delete");
            }
            8 if step % 50 == 0 => {
                // A replace keeping every other live rule (ids carried over
                // keep their counts) plus two new ones.
                let mut keep: Vec<Rule> = rs.order(Cursor::default()).map(|p| *rs.rule(p)).filter(|r| r.id % 2 == 0).collect();
                model.retain(|id, _| id % 2 == 0);
                for _ in 0..2 {
                    keep.push(rule(next_id, 5, 443));
                    model.insert(next_id, (0, 0));
                    next_id += 1;
                }
                rs = replace(&rs, &keep, next_id);
            }
            _ => {
                // Count some packets on random CPUs into random live rules.
                for _ in 0..20 {
                    if model.is_empty() {
                        break;
                    }
                    let id = *model.keys().nth(g.below(model.len() as u64) as usize).unwrap();
                    let bytes = 40 + g.below(1400) as u32;
                    set_cpu(g.below(HOST_CPUS as u64) as usize);
                    rs.counters(rs.position(id).unwrap()).add(bytes);
                    let m = model.get_mut(&id).unwrap();
                    m.0 += 1;
                    m.1 += u64::from(bytes);
                }
            }
        }
        assert_eq!(counts(&rs), model, "step {step}: counters differ from the model");
        assert_eq!(rs.len(), model.len());
    }
    set_cpu(0);
    assert!(reused > 10, "only {reused} deleted ids came back: the fresh-counter property is barely tested");
    assert!(model.values().map(|c| c.0).sum::<u64>() > 1000, "too little was counted to prove anything");
}

#[test]
fn a_rule_counts_alike_on_every_cpu_and_rules_do_not_share_cells() {
    // 130 rules: three counter chunks (64 rules each), on each CPU.
    let rules: Vec<Rule> = (1..=130).map(|id| rule(id, 0, 80)).collect();
    let rs = replace(&Ruleset::empty(), &rules, 131);
    for (k, p) in rs.order(Cursor::default()).enumerate() {
        for c in 0..HOST_CPUS {
            set_cpu(c);
            for _ in 0..=k % 3 {
                rs.counters(p).add(100 + c as u32);
            }
        }
    }
    set_cpu(0);
    for (k, p) in rs.order(Cursor::default()).enumerate() {
        let n = (k % 3 + 1) as u64;
        let bytes: u64 = (0..HOST_CPUS as u64).map(|c| n * (100 + c)).sum();
        assert_eq!(rs.counters(p).sum(), (n * HOST_CPUS as u64, bytes), "rule at {k}");
    }
}

#[test]
fn generation_and_next_id_advance_with_every_published_change() {
    let rs = Ruleset::empty();
    assert_eq!((rs.generation, rs.next_id, rs.len()), (0, 1, 0));
    let a = KBox::into_inner(rs.with_added(rule(1, 0, 80), 2).unwrap());
    assert_eq!((a.generation, a.next_id), (1, 2));
    let b = KBox::into_inner(a.with_added(rule(2, 0, 22), 3).unwrap());
    let c = KBox::into_inner(b.without(b.position(1).unwrap()).unwrap());
    assert_eq!((c.generation, c.next_id, c.len()), (3, 3, 1));
    let d = replace(&c, &[], 3);
    assert_eq!((d.generation, d.next_id, d.len()), (4, 3, 0));
    // The mask and needs follow the rules: none left, nothing to hook.
    assert_eq!(d.mask, 0);
    assert_eq!(b.mask, ALL_HOOK_BITS);
}

#[test]
fn an_update_whose_allocation_fails_returns_enomem_and_leaves_the_set_alone() {
    // Every allocation of every kind of update is made to fail in turn;
    // each time the update says ENOMEM (never a panic) and the published
    // set still decides and counts as before.
    let rules: Vec<Rule> = (1..=100).map(|id| rule(id, (id % 3) * 10, [80, 443, 22][id as usize % 3])).collect();
    let rs = replace(&Ruleset::empty(), &rules, 101);
    // A delta and a dead base position, so that add and del take their
    // short paths, and a full delta makes them merge.
    let rs = KBox::into_inner(rs.with_added(rule(101, 0, 8080), 102).unwrap());
    let rs = KBox::into_inner(rs.without(rs.position(7).unwrap()).unwrap());
    let before = counts(&rs);
    let order: Vec<u32> = rs.order(Cursor::default()).map(|p| rs.rule(p).id).collect();
    type Update<'a> = (&'a str, &'a dyn Fn(&Ruleset) -> kernel::error::Result<KBox<Ruleset>>);
    let updates: [Update<'_>; 4] = [
        ("add", &|rs| rs.with_added(rule(200, 0, 53), 201)),
        ("del from the base", &|rs| rs.without(rs.position(50).unwrap())),
        ("del from the delta", &|rs| rs.without(rs.position(101).unwrap())),
        ("replace", &|rs| {
            let mut v = KVVec::new();
            for r in &rules[..60] {
                v.push(*r, GFP_KERNEL)?;
            }
            rs.next(v, 101)
        }),
    ];
    for (name, update) in updates {
        let mut failed = 0;
        for n in 0.. {
            kernel::fail_allocations_after(Some(n));
            let r = update(&rs);
            kernel::fail_allocations_after(None);
            match r {
                Err(e) => {
                    assert_eq!(e, ENOMEM, "{name}, allocation {n}");
                    failed += 1;
                }
                Ok(_) => break,
            }
            assert!(n < 10_000, "{name}: never succeeded");
        }
        assert!(failed > 0, "{name}: no allocation to fail");
        assert_eq!(counts(&rs), before, "{name}");
        let now: Vec<u32> = rs.order(Cursor::default()).map(|p| rs.rule(p).id).collect();
        assert_eq!(now, order, "{name}");
    }
}

#[test]
fn the_prefilter_sees_both_layers() {
    // `Ruleset::may_match` (what the hook asks before it builds a context)
    // must say yes for a port named in the base or only in the delta, and no
    // for a port no rule names: otherwise a packet is decided by the policy
    // alone (or every packet pays for a full evaluation).
    let at = |p: u16| KeyPorts { dport: Some(p), orig_dport: Some(p) };
    let empty = Ruleset::empty();
    assert!(!empty.may_match(at(80)), "the empty set");
    let base: Vec<Rule> = (1..=20).map(|id| rule(id, 0, if id % 2 == 0 { 80 } else { 443 })).collect();
    let rs = replace(&Ruleset::empty(), &base, 21);
    let rs = KBox::into_inner(rs.with_added(rule(21, 0, 8080), 22).unwrap());
    assert!(!rs.view().delta.rules.is_empty(), "rule 21 must sit in the delta for this test");
    assert!(rs.may_match(at(80)) && rs.may_match(at(443)), "ports of the base");
    assert!(rs.may_match(at(8080)), "a port only the delta names");
    assert!(!rs.may_match(at(9999)), "a port nobody names");
    assert!(!rs.may_match(KeyPorts { dport: None, orig_dport: None }), "a packet without ports");
    // Deleting the only 8080 rule: no longer a candidate.
    let rs = KBox::into_inner(rs.without(rs.position(21).unwrap()).unwrap());
    assert!(!rs.may_match(at(8080)));
}

#[test]
fn counters_come_in_chunks_of_many_rules() {
    // One counter chunk (an Arc and its per-CPU cells) serves 64 rules: a
    // replace with 640 rules makes about ten of them, plus the layer's own
    // vectors, not one per rule.
    let rules: Vec<Rule> = (1..=640).map(|id| rule(id, 0, 80)).collect();
    let before = kernel::allocations();
    let rs = replace(&Ruleset::empty(), &rules, 641);
    let used = kernel::allocations() - before;
    assert_eq!(rs.len(), 640);
    assert!(used < 60, "{used} allocations for 640 rules' counters: chunks are not shared");
    // And adding one more rule to a set whose chunk has room takes no new
    // chunk: the few vectors of a delta only.
    let before = kernel::allocations();
    let rs = KBox::into_inner(rs.with_added(rule(641, 0, 80), 642).unwrap());
    assert!(kernel::allocations() - before < 12, "one add made {} allocations", kernel::allocations() - before);
    assert_eq!(rs.len(), 641);
}

#[test]
fn what_the_hooks_must_look_at_is_the_union_of_both_layers() {
    // The base needs conntrack (orig-dport) and hooks FORWARD; the delta
    // needs device names and hooks FORWARD too: the published set must need
    // both and keep FORWARD in its mask (an intersection or an exclusive-or
    // of the layers would drop one).
    let mut orig = rule(1, 0, 80);
    orig.dport = None;
    orig.orig_dport = Some(PortRange { min: 8081, max: 8081 });
    orig.hooks = 1 << Hook::Forward.index();
    let rs = replace(&Ruleset::empty(), &[orig], 2);
    assert!(rs.needs.ct && !rs.needs.ifnames && !rs.needs.netns);
    let mut named = rule(2, 0, 80);
    named.hooks = 1 << Hook::Forward.index();
    named.iif = IfMatch::parse("veth-ext");
    let both = KBox::into_inner(rs.with_added(named, 3).unwrap());
    assert!(!both.view().delta.rules.is_empty(), "rule 2 must sit in the delta");
    assert!(both.needs.ct, "the base's conntrack need was lost");
    assert!(both.needs.ifnames, "the delta's device-name need was lost");
    let fwd = hook_bit(Family::Ipv4, Hook::Forward) | hook_bit(Family::Ipv6, Hook::Forward);
    assert_eq!(both.mask & fwd, fwd, "mask {:#x}", both.mask);
    assert_eq!(both.mask, rs.mask | hook_mask(&[named]));
    // A namespace-scoped rule in the delta: the union needs the namespace.
    assert!(!both.needs.netns);
    let mut scoped = rule(3, 0, 80);
    scoped.netns = NetnsMatch::Inum(4026532000);
    let all = KBox::into_inner(both.with_added(scoped, 4).unwrap());
    assert!(all.needs.netns && all.needs.ct && all.needs.ifnames, "needs {:?}", (all.needs.ct, all.needs.ifnames, all.needs.netns));
}
