// SPDX-License-Identifier: GPL-2.0
//! The `dockfw` generic netlink family: rule add/del/get/dump, flush,
//! staged atomic replace, stats, default policy. The core has already
//! validated every attribute against the operation's policy generated from
//! include/dockfw.yaml; here what that policy cannot say is checked (an
//! address's length and its prefix, port range bounds, families, counters
//! in a request, an empty hook mask) and every rejection carries an
//! extended-ack message. All commands need CAP_NET_ADMIN (the spec's
//! `admin-perm` on every operation). The family is not netnsok: requests from
//! a non-initial network namespace do not find it (ENOENT), because the
//! rules apply to every namespace of the host.
//!
//! Writers are serialised by the ruleset cell's mutex; a failed request
//! changes nothing (the new set is only published when fully built).

use crate::kernel_ext::genetlink::{
    Attr, Attrs, Dump, Family, FamilySlot, Message, OnRelease, Request, RuleTable,
};
use crate::kernel_ext::uapi::*;
use crate::pure::model::{Addr, Family as AddrFamily};
use crate::pure::rules::{Action, CtrRole, Cursor, IfMatch, NetnsMatch, PortRange, Prefix, Rule};
use crate::ruleset::{Ruleset, MAX_RULES};
use crate::state::{State, STATE};
use crate::stream_filters::{Filter, Filters, EVENTS, MAX_FILTERS, MAX_FILTERS_PER_SOCKET};
use core::sync::atomic::Ordering;
use kernel::c_str;
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::str::CStr;

pub(crate) struct DockfwFamily;

impl Family for DockfwFamily {
    const NAME: &'static CStr = c_str!("dockfw");
    const VERSION: u32 = VERSION;
    const MCGRPS: &'static [&'static CStr] = &[c_str!("trace")];

    fn doit(cmd: u8, req: &Request) -> Result {
        STATE
            .with_sleepable(|st| match cmd {
                CMD_RULE_ADD => rule_add(st, req),
                CMD_RULE_DEL => rule_del(st, req),
                CMD_RULE_GET => rule_get(st, req),
                CMD_FLUSH => change(st, |_, _: &mut ()| Ok(KVVec::new())),
                CMD_REPLACE => replace(st, req),
                CMD_STATS_GET => stats_get(st, req),
                CMD_POLICY_GET => policy_get(st, req),
                CMD_POLICY_SET => policy_set(st, req),
                CMD_TRACE_SET => trace_set(st, req),
                CMD_TRACE_CLEAR => trace_clear(st, req),
                _ => Err(EINVAL),
            })
            .unwrap_or(Err(ENODEV))
    }

    fn slot() -> &'static FamilySlot {
        &EVENTS
    }

    // The trace group's listeners decide whether the trace filters' hooks
    // are registered (`Demand::update_trace`). The family is unregistered
    // before the state goes away, so the state is there for these calls.
    fn joining(group: usize) {
        if group == GROUP_TRACE as usize {
            STATE.with_sleepable(|st| st.demand.trace_joining());
        }
    }

    fn left(group: usize) {
        if group == GROUP_TRACE as usize {
            STATE.with_sleepable(|st| st.demand.trace_left());
        }
    }

    fn dumpit(cmd: u8, dump: &mut Dump<'_>) -> Result<bool> {
        if cmd != CMD_RULE_GET {
            return Err(EINVAL);
        }
        STATE
            .read(|st| st.rules.read(|rs| rs.map_or(Ok(false), |rs| dump_rules(rs, dump))))
            .unwrap_or(Err(ENODEV))
    }
}

fn need<'a>(req: &'a Request, ty: u32, what: &str) -> Result<&'a Attr> {
    match req.attr(ty) {
        Some(a) => Ok(a),
        None => req.fail(EINVAL, what),
    }
}

/// Builds a new ruleset from the current rules with `f` and publishes it.
/// `f` gets the current set and returns the new rule list (ids assigned).
/// A whole new rule list (replace, flush): a full rebuild, O(n log n).
fn change<R: Default>(st: &State, f: impl FnOnce(&Ruleset, &mut R) -> Result<KVVec<Rule>>) -> Result<R> {
    update(st, |old, out: &mut R| {
        let rules = f(old, out)?;
        let next_id = rules.iter().map(|r| r.id.saturating_add(1)).max().unwrap_or(1).max(old.next_id);
        old.next(rules, next_id)
    })
}

/// Publishes the ruleset `f` builds from the current one (add and delete
/// change only the small delta layer: see `ruleset`), with the hooks it
/// needs registered first and the ones it no longer needs released after.
fn update<R: Default>(st: &State, f: impl FnOnce(&Ruleset, &mut R) -> Result<KBox<Ruleset>>) -> Result<R> {
    st.rules.update_then(
        |old| {
            let empty = Ruleset::empty();
            let old = old.unwrap_or(&empty);
            let mut out = R::default();
            let new = f(old, &mut out)?;
            // Its hooks are registered before the set is published.
            st.demand.prepare_rules(&new)?;
            Ok((Some(new), out))
        },
        |rs| st.demand.publish_rules(rs),
    )
}

fn rule_add(st: &State, req: &Request) -> Result {
    let nla = need(req, A_RULE, "missing DOCKFW_A_RULE")?;
    let mut tb = RuleTable::new();
    let a = tb.parse(nla, req)?;
    if a.has(RA_ID) {
        return req.fail(EINVAL, "rule ids are assigned by the kernel on add");
    }
    let mut rule = Rule::default();
    rule_from_attrs(&a, req, &mut rule)?;
    let id = update(st, |old, id: &mut u32| {
        if old.next_id == u32::MAX || old.len() >= MAX_RULES {
            return Err(ENOSPC);
        }
        rule.id = old.next_id;
        *id = rule.id;
        old.with_added(rule, rule.id + 1)
    })
    .map_err(|e| {
        if e == ENOSPC {
            req.set_error_msg("ruleset is full");
        }
        e
    })?;
    let mut m = req.reply(CMD_RULE_ADD, 64)?;
    m.put_u32(A_VERSION, VERSION)?;
    m.put_u32(A_RULE_ID, id)?;
    req.send(m)
}

fn rule_del(st: &State, req: &Request) -> Result {
    let id = need(req, A_RULE_ID, "missing DOCKFW_A_RULE_ID")?.u32().ok_or(EINVAL)?;
    let mut missing = false;
    let r = update(st, |old, _: &mut ()| {
        let Some(pos) = old.position(id) else {
            missing = true;
            return Err(ENOENT);
        };
        old.without(pos)
    });
    if missing {
        req.set_error_msg("no rule with this id");
    }
    r
}

fn rule_get(st: &State, req: &Request) -> Result {
    let id = need(req, A_RULE_ID, "missing DOCKFW_A_RULE_ID (or use a dump)")?.u32().ok_or(EINVAL)?;
    let mut m = req.reply(CMD_RULE_GET, 512)?;
    let found = st.rules.read(|rs| -> Result<bool> {
        let Some(rs) = rs else { return Ok(false) };
        let Some(pos) = rs.position(id) else { return Ok(false) };
        put_rule(&mut m, rs, pos)?;
        Ok(true)
    })?;
    if !found {
        return req.fail(ENOENT, "no rule with this id");
    }
    m.put_u32(A_VERSION, VERSION)?;
    req.send(m)
}

fn dump_rules(rs: &Ruleset, dump: &mut Dump<'_>) -> Result<bool> {
    // The cursor is a place in the evaluation order of the two layers
    // (`rules::Cursor`); a change mid-dump is flagged by the generation.
    let mut at = Cursor::from_u64(*dump.cursor() as u64);
    let mut more = false;
    let view = rs.view();
    let mut order = view.order(at);
    while let Some(pos) = order.next() {
        // No room left for another message: end this part, keeping the
        // cursor before this rule (returning here without storing it
        // restarted the next part at the old cursor: the same rules again,
        // forever).
        let Some(mut m) = dump.start(CMD_RULE_GET) else {
            more = true;
            break;
        };
        if put_rule(&mut m, rs, pos).is_err() {
            m.cancel();
            more = true;
            break;
        }
        m.finish(rs.generation);
        at = order.at;
    }
    *dump.cursor() = at.to_u64() as _;
    Ok(more)
}

fn replace(st: &State, req: &Request) -> Result {
    let phase = need(req, A_PHASE, "missing DOCKFW_A_PHASE")?.u8().ok_or(EINVAL)?;
    let mut staging = st.staging.lock();
    let portid = req.portid();
    match phase {
        REPLACE_BEGIN => {
            staging.rules = KVVec::new();
            staging.owner = Some(portid);
            staging.generation = req.attr(A_GENERATION).and_then(|a| a.u32());
            Ok(())
        }
        REPLACE_ABORT => {
            if staging.owner == Some(portid) {
                staging.owner = None;
                staging.rules = KVVec::new();
            }
            Ok(())
        }
        REPLACE_APPEND | REPLACE_COMMIT if staging.owner != Some(portid) => {
            req.fail(EINVAL, "no replace in progress on this socket (send BEGIN first)")
        }
        REPLACE_APPEND => {
            let list = need(req, A_RULES, "APPEND needs DOCKFW_A_RULES")?;
            let n = list.nested_iter().count();
            if staging.rules.len() + n > MAX_RULES {
                return req.fail(ENOSPC, "staged ruleset too large");
            }
            staging.rules.reserve(n, GFP_KERNEL)?;
            // Each rule is parsed in place, in its slot of the staged set:
            // a restore stages 100 000 rules, and every copy of a rule
            // counts. A bad rule rejects the whole batch: the staged set is
            // cut back to what it was before it.
            let before = staging.rules.len();
            let r = (|| {
                for nla in list.nested_iter() {
                    let mut tb = RuleTable::new();
                    let a = tb.parse(nla, req)?;
                    staging.rules.push(Rule::default(), GFP_KERNEL)?;
                    let last = staging.rules.len() - 1;
                    let slot = &mut staging.rules[last];
                    rule_from_attrs(&a, req, slot)?;
                    slot.id = a.get(RA_ID).and_then(|x| x.u32()).unwrap_or(0);
                }
                Ok(())
            })();
            if r.is_err() {
                crate::kernel_ext::compat::truncate(&mut staging.rules, before);
            }
            r
        }
        REPLACE_COMMIT => {
            let staged = core::mem::replace(&mut staging.rules, KVVec::new());
            staging.owner = None;
            let expected = staging.generation.take();
            let mut dup = false;
            let mut stale = false;
            let r = change(st, |old, _: &mut ()| {
                // Checked under the writers' lock: nothing can publish
                // between this comparison and our own publication.
                if expected.is_some_and(|g| g != old.generation) {
                    stale = true;
                    return Err(EAGAIN);
                }
                let mut v = staged;
                // Explicit ids must be unique; rules without one get fresh ids.
                let mut ids: KVVec<u32> = KVVec::with_capacity(v.len(), GFP_KERNEL)?;
                for r in v.iter().filter(|r| r.id != 0) {
                    ids.push(r.id, GFP_KERNEL)?;
                }
                ids.sort_unstable();
                if ids.windows(2).any(|w| w[0] == w[1]) {
                    dup = true;
                    return Err(EINVAL);
                }
                let mut next = ids.last().map_or(old.next_id, |&m| m.saturating_add(1).max(old.next_id));
                for r in v.iter_mut().filter(|r| r.id == 0) {
                    r.id = next;
                    next = next.checked_add(1).ok_or(ENOSPC)?;
                }
                Ok(v)
            });
            if dup {
                req.set_error_msg("duplicate rule id in the replacement set");
            }
            if stale {
                req.set_error_msg("ruleset changed since BEGIN (DOCKFW_A_GENERATION): read it again and retry");
            }
            r
        }
        _ => req.fail(EINVAL, "unknown replace phase"),
    }
}

fn stats_get(st: &State, req: &Request) -> Result {
    let (rules, gen) = st.rules.read(|rs| rs.map_or((0, 0), |rs| (rs.len() as u32, rs.generation)));
    let s = st.stats.sum();
    let mut m = req.reply(CMD_STATS_GET, 256)?;
    m.put_u32(A_VERSION, VERSION)?;
    let n = m.nest_start(A_STATS)?;
    m.put_u32(STATS_RULES, rules)?;
    m.put_u32(STATS_HOOKED_NETNS, crate::kernel_ext::netfilter::followed_namespaces() as u32)?;
    m.put_u32(STATS_GENERATION, gen)?;
    m.put_u64(STATS_PACKETS, s.packets, STATS_PAD)?;
    m.put_u64(STATS_MATCHED, s.matched, STATS_PAD)?;
    m.put_u64(STATS_DROPPED, s.dropped, STATS_PAD)?;
    m.put_u64(STATS_MALFORMED, s.malformed, STATS_PAD)?;
    m.put_u32(STATS_TRACE_FILTERS, st.stream_filters.read(|f| f.map_or(0, |f| f.list.len() as u32)))?;
    m.put_u64(STATS_TRACE_EVENTS, s.trace_events, STATS_PAD)?;
    m.put_u64(STATS_TRACE_LOST, s.trace_lost, STATS_PAD)?;
    m.put_u64(STATS_HOOK_CALLS, s.hook_calls, STATS_PAD)?;
    m.put_u64(STATS_HOOK_NS, s.hook_ns, STATS_PAD)?;
    m.put_u64(STATS_HOOK_CYCLES, s.hook_cycles, STATS_PAD)?;
    m.put_u32(STATS_HOOKS_REGISTERED, st.demand.registered() as u32)?;
    m.nest_end(n);
    req.send(m)
}

fn policy_get(st: &State, req: &Request) -> Result {
    let mut m = req.reply(CMD_POLICY_GET, 64)?;
    m.put_u32(A_VERSION, VERSION)?;
    m.put_u8(A_POLICY, st.policy.load(Ordering::Relaxed))?;
    req.send(m)
}

fn policy_set(st: &State, req: &Request) -> Result {
    // The policy table already limits the value to accept or drop.
    let p = need(req, A_POLICY, "missing DOCKFW_A_POLICY")?.u8().ok_or(EINVAL)?;
    st.demand.set_policy(&st.policy, p).or_else(|e| req.fail(e, "cannot register the hooks a drop policy needs"))
}

// --- trace filters -------------------------------------------------------------

fn trace_set(st: &State, req: &Request) -> Result {
    let rule = req.attr(A_TRACE_RULE).and_then(|a| a.u32());
    let matcher = match req.attr(A_MATCH) {
        None if rule.is_none() => return req.fail(EINVAL, "a trace filter needs DOCKFW_A_MATCH or DOCKFW_A_TRACE_RULE"),
        None => None,
        Some(nla) => {
            let mut tb = RuleTable::new();
            let a = tb.parse(nla, req)?;
            if a.has(RA_VERDICT) || a.has(RA_ID) || a.has(RA_PRIORITY) || a.has(RA_COMMENT) {
                return req.fail(EINVAL, "a match takes no verdict, id, priority or comment");
            }
            // A trace filter lives as long as its socket, which resolves
            // names itself; nothing would ever re-resolve a name here.
            if [RA_SRC_CONTAINER, RA_DST_CONTAINER, RA_NETNS_CONTAINER, RA_INACTIVE].iter().any(|&t| a.has(t)) {
                return req.fail(EINVAL, "a trace filter takes addresses, not container names (resolve them first)");
            }
            let mut m = Rule::default();
            match_from_attrs(&a, req, &mut m)?;
            Some(m)
        }
    };
    let owner = req.portid();
    let mut limit = None;
    let id = st.demand.update_trace(&st.stream_filters, |old| {
        let empty = Filters::empty();
        let old = old.unwrap_or(&empty);
        if old.list.len() >= MAX_FILTERS {
            limit = Some("too many trace filters");
            return Err(ENOSPC);
        }
        if old.list.iter().filter(|f| f.owner == owner).count() >= MAX_FILTERS_PER_SOCKET {
            limit = Some("too many trace filters on this socket");
            return Err(ENOSPC);
        }
        let mut new = old.without(|_| false)?;
        let id = new.next_id;
        new.next_id = id.checked_add(1).ok_or(ENOSPC)?;
        new.add(Filter { id, owner, matcher, rule })?;
        Ok((Some(new), id))
    });
    if let Some(msg) = limit {
        req.set_error_msg(msg);
    }
    let id = id?;
    let mut m = req.reply(CMD_TRACE_SET, 64)?;
    m.put_u32(A_VERSION, VERSION)?;
    m.put_u32(A_TRACE_ID, id)?;
    req.send(m)
}

fn trace_clear(st: &State, req: &Request) -> Result {
    let owner = req.portid();
    let one = req.attr(A_TRACE_ID).and_then(|a| a.u32());
    let mut missing = false;
    let r = st.demand.update_trace(&st.stream_filters, |old| {
        let empty = Filters::empty();
        let old = old.unwrap_or(&empty);
        let mine = |f: &Filter| f.owner == owner && one.map_or(true, |id| f.id == id);
        if one.is_some() && !old.list.iter().any(mine) {
            missing = true;
            return Err(ENOENT);
        }
        Ok((Some(old.without(mine)?), ()))
    });
    if missing {
        req.set_error_msg("no trace filter with this id on this socket");
    }
    r
}

/// Closing a socket drops its trace filters and any replace it was staging.
impl OnRelease for DockfwFamily {
    fn on_release(portid: u32) {
        STATE.with_sleepable(|st| {
            let has = st.stream_filters.read(|f| f.is_some_and(|f| f.list.iter().any(|x| x.owner == portid)));
            if has {
                let _ = st.demand.update_trace(&st.stream_filters, |old| {
                    let empty = Filters::empty();
                    Ok((Some(old.unwrap_or(&empty).without(|f| f.owner == portid)?), ()))
                });
            }
            let mut staging = st.staging.lock();
            if staging.owner == Some(portid) {
                staging.owner = None;
                staging.rules = KVVec::new();
            }
        });
    }
}

// --- rule <-> attributes -------------------------------------------------------

fn addr_of(a: Option<&Attr>) -> Option<Option<Addr>> {
    let a = a?;
    let b = a.bytes();
    Some(match b.len() {
        4 => Some(Addr::V4([b[0], b[1], b[2], b[3]])),
        16 => {
            let mut x = [0u8; 16];
            x.copy_from_slice(b);
            Some(Addr::V6(x))
        }
        _ => None,
    })
}

fn prefix(a: &Attrs<'_>, req: &Request, addr: u32, len: u32, what: &str) -> Result<Option<Prefix>> {
    let plen = a.get(len).and_then(|x| x.u8());
    match addr_of(a.get(addr)) {
        None if plen.is_some() => req.fail(EINVAL, "prefix length without an address"),
        None => Ok(None),
        Some(None) => req.fail(EINVAL, what),
        Some(Some(ad)) => {
            let p = Prefix { addr: ad, len: plen.unwrap_or(0) };
            let p = Prefix { len: plen.unwrap_or(p.max_len()), ..p };
            if p.len > p.max_len() {
                return req.fail(EINVAL, "prefix length longer than the address");
            }
            Ok(Some(p))
        }
    }
}

fn range(a: &Attrs<'_>, req: &Request, min: u32, max: u32) -> Result<Option<PortRange>> {
    match (a.get(min).and_then(|x| x.u16()), a.get(max).and_then(|x| x.u16())) {
        (None, None) => Ok(None),
        (None, Some(_)) => req.fail(EINVAL, "port range maximum without a minimum"),
        (Some(lo), hi) => {
            let hi = hi.unwrap_or(lo);
            if lo > hi {
                return req.fail(EINVAL, "port range minimum above maximum");
            }
            Ok(Some(PortRange { min: lo, max: hi }))
        }
    }
}

fn ifmatch(a: &Attrs<'_>, req: &Request, ty: u32) -> Result<Option<IfMatch>> {
    match a.get(ty) {
        None => Ok(None),
        Some(x) => match x.str().and_then(IfMatch::parse) {
            Some(m) => Ok(Some(m)),
            None => req.fail(EINVAL, "bad interface name"),
        },
    }
}

/// Fills `r` (a default rule) from the attributes: written in place, not
/// returned, so that a rule is not copied on its way to the staged set.
fn rule_from_attrs(a: &Attrs<'_>, req: &Request, r: &mut Rule) -> Result {
    r.action = match a.get(RA_VERDICT).and_then(|x| x.u8()) {
        Some(VERDICT_ACCEPT) => Action::Accept,
        Some(VERDICT_DROP) => Action::Drop,
        Some(VERDICT_LOG) => Action::Log,
        _ => return req.fail(EINVAL, "rule needs a verdict (DOCKFW_RA_VERDICT)"),
    };
    match_from_attrs(a, req, r)
}

/// The match part of a rule (everything but the verdict), into `r`.
fn match_from_attrs(a: &Attrs<'_>, req: &Request, r: &mut Rule) -> Result {
    if let Some(p) = a.get(RA_PRIORITY).and_then(|x| x.u32()) {
        r.priority = p;
    }
    if let Some(h) = a.get(RA_HOOKS).and_then(|x| x.u32()) {
        // The policy (the `hook` flags enum's mask) refuses unknown bits,
        // not an empty mask, which would match nothing anywhere.
        if h == 0 {
            return req.fail(EINVAL, "hooks: the mask names no hook");
        }
        r.hooks = h as u8;
    }
    // The rule attribute set serves replies too, so its policy accepts
    // the counters; a request carrying them is a confused client.
    if a.has(RA_PACKETS) || a.has(RA_BYTES) {
        return req.fail(EINVAL, "counters are reply-only");
    }
    r.family = match a.get(RA_FAMILY).and_then(|x| x.u8()) {
        None => None,
        Some(2) => Some(AddrFamily::Ipv4),
        Some(10) => Some(AddrFamily::Ipv6),
        Some(_) => return req.fail(EINVAL, "family must be NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10)"),
    };
    r.proto = a.get(RA_PROTO).and_then(|x| x.u8());
    r.saddr = prefix(a, req, RA_SADDR, RA_SPREFIX, "source address must be 4 or 16 bytes")?;
    r.daddr = prefix(a, req, RA_DADDR, RA_DPREFIX, "destination address must be 4 or 16 bytes")?;
    r.orig_daddr = prefix(a, req, RA_ORIG_DADDR, RA_ORIG_DPREFIX, "original destination must be 4 or 16 bytes")?;
    r.sport = range(a, req, RA_SPORT_MIN, RA_SPORT_MAX)?;
    r.dport = range(a, req, RA_DPORT_MIN, RA_DPORT_MAX)?;
    r.orig_dport = range(a, req, RA_ORIG_DPORT_MIN, RA_ORIG_DPORT_MAX)?;
    r.iif = ifmatch(a, req, RA_IIFNAME)?;
    r.oif = ifmatch(a, req, RA_OIFNAME)?;
    r.netns = match (a.get(RA_NETNS).and_then(|x| x.u32()), a.has(RA_NETNS_HOST)) {
        (Some(_), true) => return req.fail(EINVAL, "netns: give an inode number or host, not both"),
        (Some(n), false) => NetnsMatch::Inum(n),
        (None, true) => NetnsMatch::Host,
        (None, false) => NetnsMatch::Any,
    };
    if let Some(c) = a.get(RA_CTSTATE).and_then(|x| x.u32()) {
        r.ctstate = c as u8;
    }
    if let Some(c) = a.get(RA_COMMENT) {
        if let Err(m) = r.set_comment(c.str().unwrap_or("\u{1}")) {
            return req.fail(EINVAL, m);
        }
    }
    for (role, ty) in [(CtrRole::Src, RA_SRC_CONTAINER), (CtrRole::Dst, RA_DST_CONTAINER), (CtrRole::Netns, RA_NETNS_CONTAINER)] {
        if let Some(c) = a.get(ty) {
            if let Err(m) = r.set_container(role, c.str().unwrap_or("")) {
                return req.fail(EINVAL, m);
            }
        }
    }
    r.inactive = a.has(RA_INACTIVE);
    if let Err(m) = r.validate() {
        return req.fail(EINVAL, m);
    }
    Ok(())
}

fn put_prefix(m: &mut Message, p: &Option<Prefix>, addr: u32, len: u32) -> Result {
    if let Some(p) = p {
        m.put_bytes(addr, p.addr.bytes())?;
        m.put_u8(len, p.len)?;
    }
    Ok(())
}

fn put_range(m: &mut Message, r: &Option<PortRange>, min: u32, max: u32) -> Result {
    if let Some(r) = r {
        m.put_u16(min, r.min)?;
        m.put_u16(max, r.max)?;
    }
    Ok(())
}

fn put_if(m: &mut Message, i: &Option<IfMatch>, ty: u32) -> Result {
    if let Some(i) = i {
        let mut buf = [0u8; 17];
        let n = i.name.as_bytes().len();
        buf[..n].copy_from_slice(i.name.as_bytes());
        let n = if i.wildcard {
            buf[n] = b'+';
            n + 1
        } else {
            n
        };
        m.put_str(ty, &buf[..n])?;
    }
    Ok(())
}

fn put_rule(m: &mut Message, rs: &Ruleset, pos: usize) -> Result {
    let r = &rs.rules()[pos];
    let n = m.nest_start(A_RULE)?;
    m.put_u32(RA_ID, r.id)?;
    m.put_u32(RA_PRIORITY, r.priority)?;
    m.put_u8(
        RA_VERDICT,
        match r.action {
            Action::Accept => VERDICT_ACCEPT,
            Action::Drop => VERDICT_DROP,
            Action::Log => VERDICT_LOG,
        },
    )?;
    m.put_u32(RA_HOOKS, u32::from(r.hooks))?;
    if let Some(f) = r.family {
        m.put_u8(RA_FAMILY, if f == AddrFamily::Ipv4 { 2 } else { 10 })?;
    }
    if let Some(p) = r.proto {
        m.put_u8(RA_PROTO, p)?;
    }
    put_prefix(m, &r.saddr, RA_SADDR, RA_SPREFIX)?;
    put_prefix(m, &r.daddr, RA_DADDR, RA_DPREFIX)?;
    put_range(m, &r.sport, RA_SPORT_MIN, RA_SPORT_MAX)?;
    put_range(m, &r.dport, RA_DPORT_MIN, RA_DPORT_MAX)?;
    put_if(m, &r.iif, RA_IIFNAME)?;
    put_if(m, &r.oif, RA_OIFNAME)?;
    match r.netns {
        NetnsMatch::Any => {}
        NetnsMatch::Host => m.put_flag(RA_NETNS_HOST)?,
        NetnsMatch::Inum(x) => m.put_u32(RA_NETNS, x)?,
    }
    if r.ctstate != 0 {
        m.put_u32(RA_CTSTATE, u32::from(r.ctstate))?;
    }
    put_prefix(m, &r.orig_daddr, RA_ORIG_DADDR, RA_ORIG_DPREFIX)?;
    put_range(m, &r.orig_dport, RA_ORIG_DPORT_MIN, RA_ORIG_DPORT_MAX)?;
    if !r.comment().is_empty() {
        m.put_str(RA_COMMENT, r.comment().as_bytes())?;
    }
    for (role, ty) in [(CtrRole::Src, RA_SRC_CONTAINER), (CtrRole::Dst, RA_DST_CONTAINER), (CtrRole::Netns, RA_NETNS_CONTAINER)] {
        if let Some(c) = r.container(role) {
            m.put_str(ty, c.as_bytes())?;
        }
    }
    if r.inactive {
        m.put_flag(RA_INACTIVE)?;
    }
    let (p, b) = rs.counters(pos).sum();
    m.put_u64(RA_PACKETS, p, RA_PAD)?;
    m.put_u64(RA_BYTES, b, RA_PAD)?;
    m.nest_end(n);
    Ok(())
}
