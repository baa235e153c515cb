// SPDX-License-Identifier: GPL-2.0
//! `dockfwctl trace`: trace filters from the rule syntax, the session on
//! the "trace" multicast group (text grouped by packet, or JSON lines;
//! `--explain` at the end), ended by a signal, a count, a timeout, or the
//! module's unload.

use super::stats::stats;
use super::{caret_report, lookup, nl_fail, open, resolve_strict};
use crate::docker::names::ContainerNames;
use crate::error::{fail, Exit, Fail};
use crate::nl::attr::{attr_as_u32, attr_u32, nest, Attr};
use crate::nl::conn::{family_removed, find, strerror};
use crate::nl::rule::{rule_attrs, CONTAINER_ATTRS};
use crate::rule_syntax::{parse_rule, SyntaxError};
use crate::rules::{self, Rule};
use crate::signals::{install_stop_handlers, STOP};
use crate::uapi::*;
use crate::ruleset;
use crate::trace::event::{parse_datagram, Event};
use crate::trace::explain;
use crate::trace::group::Grouper;
use crate::trace::netns::{NetnsNames, NETNS_DIR};
use crate::trace::render::{group_text, json_line};
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Keywords of the rule syntax followed by an argument.
pub(crate) const ARG_KEYWORDS: &[&str] =
    &["proto", "saddr", "daddr", "orig-daddr", "sport", "dport", "orig-dport", "iif", "oif", "netns", "ct", "prio", "comment", "id"];

/// Parses a trace filter (rule syntax without an action) into the
/// `DOCKFW_RA_*` attributes of a `DOCKFW_A_MATCH` nest: no verdict,
/// priority, id or comment, and no hook mask when it names all five.
/// Container references are resolved (the kernel's filters take only
/// addresses and namespaces).
pub(crate) fn parse_match(words: &[String], what: &str) -> Result<Vec<Attr>, Fail> {
    let rule = parse_match_rule(words, what)?;
    let rule = resolve_strict(rule, &lookup([&rule], what)?, what, false)?;
    Ok(match_attrs(&rule))
}

/// The attributes of a trace filter: the rule's matches without its
/// action, priority, id, comment, container names and inactive flag.
pub(crate) fn match_attrs(rule: &Rule) -> Vec<Attr> {
    rule_attrs(rule)
        .into_iter()
        .filter(|a| {
            let ty = *a.nla_type().nla_type();
            let rule_only = matches!(ty, DOCKFW_RA_VERDICT | DOCKFW_RA_PRIORITY | DOCKFW_RA_ID | DOCKFW_RA_COMMENT | DOCKFW_RA_INACTIVE)
                || CONTAINER_ATTRS.iter().any(|&(_, t)| t == ty);
            let all_hooks = ty == DOCKFW_RA_HOOKS && rule.hooks == rules::ALL_HOOKS;
            !rule_only && !all_hooks
        })
        .collect()
}

/// A trace filter as a rule (with a dummy action).
pub(crate) fn parse_match_rule(words: &[String], what: &str) -> Result<Rule, Fail> {
    let line = words.iter().flat_map(|w| w.split_whitespace()).collect::<Vec<_>>().join(" ");
    let toks = ruleset::tokens(&line);
    let syntax = |e: SyntaxError, msg: &str| {
        fail(Exit::Usage, format!("{what}: syntax error: {msg}\n{}", caret_report(&line, &e)))
    };
    for (i, &(_, t)) in toks.iter().enumerate() {
        let is_keyword = i == 0 || !ARG_KEYWORDS.contains(&toks[i - 1].1);
        if is_keyword && matches!(t, "prio" | "comment" | "id" | "accept" | "drop" | "log") {
            let e = SyntaxError { token: i, msg: "" };
            return Err(syntax(e, &format!("`{t}` is not allowed in a trace filter (filters have no action, prio, comment or id)")));
        }
    }
    parse_rule(toks.iter().map(|t| t.1).chain(["accept"])).map_err(|e| syntax(e, e.msg))
}

/// The TRACE_SET requests of `dockfwctl trace`, one per filter.
pub(crate) fn trace_requests(matches: &[String], filters: &[String], rule_ids: &[u32]) -> Result<Vec<Vec<Attr>>, Fail> {
    let mut out = Vec::new();
    let as_nest = |attrs: Vec<Attr>| nest(DOCKFW_A_MATCH, &attrs).map_err(|e| fail(Exit::Usage, e));
    if !matches.is_empty() {
        out.push(vec![as_nest(parse_match(matches, "trace")?)?]);
    }
    for f in filters {
        out.push(vec![as_nest(parse_match(std::slice::from_ref(f), "trace filter")?)?]);
    }
    for &id in rule_ids {
        out.push(vec![attr_u32(DOCKFW_A_TRACE_RULE, id)]);
    }
    if out.is_empty() {
        // An empty match: every packet.
        out.push(vec![as_nest(vec![])?]);
    }
    Ok(out)
}

/// Fills in the containers of the event's addresses and namespace.
fn annotate_containers(names: &mut ContainerNames, e: &mut Event) {
    e.saddr_container = e.saddr.as_ref().and_then(|a| names.addr(a));
    e.daddr_container = e.daddr.as_ref().and_then(|a| names.addr(a));
    if !e.netns_init {
        e.netns_container = e.netns.and_then(|n| names.netns(n));
    }
}

/// Prints groups of events; a write error (closed pipe) clears `ok`.
pub(crate) fn write_groups(out: &mut impl Write, gs: Vec<Vec<Event>>, ok: &mut bool) {
    for g in gs {
        if *ok && (out.write_all(group_text(&g).as_bytes()).is_err() || out.flush().is_err()) {
            *ok = false;
        }
    }
}

pub(crate) struct TraceOpts {
    pub(crate) json: bool,
    pub(crate) count: Option<u64>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) explain: bool,
}

/// Events beyond this many are not kept for --explain.
pub(crate) const EXPLAIN_MAX_EVENTS: usize = 200_000;

pub(crate) fn run_trace(requests: Vec<Vec<Attr>>, o: TraceOpts) -> Result<(), Fail> {
    let what = "trace";
    let conn = open(what)?;
    let group = conn.mcast_group(DOCKFW_MCGRP_TRACE).ok_or_else(|| {
        fail(Exit::NoFamily, format!("{what}: the {DOCKFW_GENL_NAME} family has no \"{DOCKFW_MCGRP_TRACE}\" multicast group (module without tracing?)"))
    })?;
    // Join before installing filters so that no event after the "ready"
    // line is missed.
    conn.join(group).map_err(|e| nl_fail(&format!("{what}: joining the {DOCKFW_MCGRP_TRACE} multicast group"), e))?;
    let _ = conn.set_rcvbuf(4 << 20);
    // The controller's announcements too: rmmod removes the family, and a
    // session left listening to a group nobody sends to would wait forever.
    conn.ctrl_notify_group()
        .and_then(|g| conn.join(g))
        .map_err(|e| nl_fail(&format!("{what}: joining the generic netlink controller's notify group"), e))?;
    let n = requests.len();
    // Our filters' ids: the group is shared with every other trace session,
    // whose events we must not show.
    let mut mine: Vec<u32> = Vec::new();
    for r in requests {
        match conn.request(DOCKFW_CMD_TRACE_SET, r, false) {
            Ok(replies) => mine.extend(
                replies.iter().filter_map(|m| find(m, DOCKFW_A_TRACE_ID)).filter_map(|a| attr_as_u32(a)),
            ),
            Err(e) => {
                let _ = conn.request(DOCKFW_CMD_TRACE_CLEAR, vec![], false);
                return Err(nl_fail(&format!("{what}: install filter"), e));
            }
        }
    }
    install_stop_handlers();
    eprintln!("tracing: {n} filter(s); Ctrl-C to stop");
    let _ = std::io::stderr().flush();

    let start = Instant::now();
    let deadline = o.timeout.map(|t| start + t);
    let mut names = NetnsNames::new(NETNS_DIR);
    let mut containers = ContainerNames::from_env();
    let mut grouper = Grouper::default();
    let mut kept: Vec<Event> = Vec::new();
    let (mut events, mut lost, mut malformed) = (0u64, 0u64, 0u64);
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    let family = conn.family_id();
    let mut out_ok = true;
    let mut gone = false;
    'main: while !STOP.load(Ordering::SeqCst) && out_ok {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || o.count.is_some_and(|c| events >= c) {
            break;
        }
        if !o.json {
            write_groups(&mut out, grouper.due(now), &mut out_ok);
        }
        let mut wait = Duration::from_millis(250);
        for t in [deadline, if o.json { None } else { grouper.next_due() }].into_iter().flatten() {
            wait = wait.min(t.saturating_duration_since(now));
        }
        if !conn.wait_readable(wait) {
            continue;
        }
        // Read everything queued.
        loop {
            let len = match conn.recv_raw(&mut buf) {
                Ok(len) => len,
                Err(libc::ENOBUFS) => {
                    lost += 1;
                    continue;
                }
                Err(libc::EAGAIN) | Err(libc::EINTR) => break,
                Err(e) => {
                    eprintln!("dockfwctl: {what}: receive: {}", strerror(e));
                    break 'main;
                }
            };
            if family_removed(&buf[..len], family) {
                gone = true;
                break 'main;
            }
            for r in parse_datagram(&buf[..len], family) {
                let mut e = match r {
                    Ok(e) => e,
                    Err(_) => {
                        malformed += 1;
                        continue;
                    }
                };
                if !mine.is_empty() && !e.trace_ids.iter().any(|id| mine.contains(id)) {
                    continue; // another session's event
                }
                names.annotate(&mut e);
                annotate_containers(&mut containers, &mut e);
                events += 1;
                if o.json {
                    let line = json_line(&e);
                    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                        out_ok = false;
                    }
                } else if let Some(g) = grouper.push(e.clone(), Instant::now()) {
                    write_groups(&mut out, vec![g], &mut out_ok);
                }
                if o.explain && kept.len() < EXPLAIN_MAX_EVENTS {
                    kept.push(e);
                }
                if o.count.is_some_and(|c| events >= c) || !out_ok {
                    break 'main;
                }
            }
        }
    }
    if !o.json {
        write_groups(&mut out, grouper.drain(), &mut out_ok);
    }
    if gone {
        // Nothing to clear and no statistics to read: the module is gone.
        return Err(fail(
            Exit::NoFamily,
            format!("{what}: the {DOCKFW_GENL_NAME} module was unloaded after {events} events, {lost} lost"),
        ));
    }
    // Leave the group first so that the queue cannot overflow while the
    // filters are removed; closing the socket would remove them too.
    let _ = conn.leave(group);
    if conn.request(DOCKFW_CMD_TRACE_CLEAR, vec![], false).is_err() {
        let _ = conn.request(DOCKFW_CMD_TRACE_CLEAR, vec![], false);
    }
    if o.explain && out_ok {
        let flows = explain::explain(&kept);
        let text = if o.json {
            flows.iter().map(|f| serde_json::json!({ "explain": f }).to_string() + "\n").collect::<String>()
        } else if flows.is_empty() {
            "\nno flows traced\n".to_string()
        } else {
            format!("\n{}", explain::render(&flows))
        };
        let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    }
    let kernel_lost = stats(&conn).ok().and_then(|s| s.into_iter().find(|(k, _)| k == "trace_lost")).map(|(_, v)| v);
    let mut summary = format!("{events} events, {lost} lost");
    if let Some(k) = kernel_lost {
        summary.push_str(&format!(" (kernel lost: {k})"));
    }
    if malformed > 0 {
        summary.push_str(&format!(", {malformed} malformed"));
    }
    if kept.len() >= EXPLAIN_MAX_EVENTS && o.explain {
        summary.push_str(&format!(", explain kept the first {EXPLAIN_MAX_EVENTS} events only"));
    }
    eprintln!("{summary}");
    Ok(())
}
