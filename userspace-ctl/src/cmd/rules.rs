// SPDX-License-Identifier: GPL-2.0
//! Rule commands: add, del, flush, list, save, restore (the staged atomic
//! replace, in batches that keep every error readable), policy.

use super::{caret_report, lookup, nl_fail, open, reply_u32, reply_u8, resolve_strict};
use crate::cli::PolicyArg;
use crate::error::{fail, Exit, Fail};
use crate::docker::resolve;
use crate::nl::attr::{attr_u32, attr_u8, nest_raw, Attr};
use crate::nl::conn::{Conn, NlError};
use crate::nl::rule::{decode_rule, encode_rule, encode_rule_into, rule_text, JsonRule, RuleEntry};
use crate::rule_syntax::{parse_rule, SyntaxError};
use crate::rules::Rule;
use crate::ruleset;
use crate::uapi::*;
use std::io::Read;

/// Parses the words of `dockfwctl add` into a rule.
pub(crate) fn parse_add(words: &[String]) -> Result<Rule, Fail> {
    let line = words.iter().flat_map(|w| w.split_whitespace()).collect::<Vec<_>>().join(" ");
    let toks = ruleset::tokens(&line);
    let rule = parse_rule(toks.iter().map(|t| t.1)).map_err(|e| {
        fail(Exit::Usage, format!("add rule: syntax error: {}\n{}", e.msg, caret_report(&line, &e)))
    })?;
    if rule.id != 0 {
        let at = toks.iter().position(|t| t.1 == "id").unwrap_or(0);
        let e = SyntaxError { token: at, msg: "" };
        return Err(fail(
            Exit::Usage,
            format!(
                "add rule: syntax error: the kernel assigns rule ids; `id` is for restore files\n{}",
                caret_report(&line, &e)
            ),
        ));
    }
    Ok(rule)
}

pub(crate) fn dump_rules(conn: &Conn, what: &str) -> Result<Vec<RuleEntry>, Fail> {
    let msgs = conn.request(DOCKFW_CMD_RULE_GET, vec![], true).map_err(|e| nl_fail(what, e))?;
    let mut out = Vec::new();
    for m in &msgs {
        for a in m.attrs().iter().filter(|a| *a.nla_type().nla_type() == DOCKFW_A_RULE) {
            out.push(decode_rule(a).map_err(|e| fail(Exit::Io, format!("{what}: malformed rule from the kernel: {e}")))?);
        }
    }
    Ok(out)
}

pub(crate) fn phase(p: u32) -> Attr {
    attr_u8(DOCKFW_A_PHASE, p as u8)
}

/// Largest REPLACE append message. neli receives into 32 KiB buffers and
/// an error ACK echoes the whole request, so a request must stay well
/// under that for its error (and extended ACK) to be readable.
pub(crate) const BATCH_BYTES: usize = 28 * 1024;
pub(crate) const BATCH_RULES: usize = 256;
/// nlmsghdr + genlmsghdr + PHASE attribute + RULES nest header.
pub(crate) const APPEND_OVERHEAD: usize = 16 + 4 + 8 + 4;

/// Groups of consecutive rule indices, each fitting one APPEND message.
pub(crate) fn batches(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, APPEND_OVERHEAD);
    for (i, &s) in sizes.iter().enumerate() {
        if i > start && (bytes + s > BATCH_BYTES || i - start >= BATCH_RULES) {
            out.push(start..i);
            start = i;
            bytes = APPEND_OVERHEAD;
        }
        bytes += s;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// The rule of a batch an extended-ACK attribute offset points into.
pub(crate) fn rule_at_offset(sizes: &[usize], batch: std::ops::Range<usize>, offset: u32) -> Option<usize> {
    let mut pos = APPEND_OVERHEAD;
    for i in batch {
        if (pos..pos + sizes[i]).contains(&(offset as usize)) {
            return Some(i);
        }
        pos += sizes[i];
    }
    None
}

/// Loads `rules` atomically: BEGIN, APPEND batches, COMMIT on one socket;
/// ABORT (best effort) if anything fails.
pub(crate) fn replace(conn: &Conn, rules: &[ruleset::LineRule], source: &str) -> Result<(), Fail> {
    replace_rules(conn, rules.iter().map(|l| &l.rule), None, &|i| format!("{source}:{}", rules[i].line)).map_err(|e| match e {
        ReplaceError::Stale(f) | ReplaceError::Fail(f) => f,
    })
}

pub(crate) enum ReplaceError {
    /// The ruleset changed after BEGIN named its generation (EAGAIN):
    /// nothing was replaced; read again and retry.
    Stale(Fail),
    Fail(Fail),
}

/// The replace itself. With `generation`, BEGIN carries it and COMMIT
/// fails (EAGAIN, `ReplaceError::Stale`) if the ruleset moved on since:
/// `watch`'s read-modify-write. `rule_name(i)` names rule `i` in errors.
pub(crate) fn replace_rules<'a>(
    conn: &Conn,
    rules: impl ExactSizeIterator<Item = &'a Rule>,
    generation: Option<u32>,
    rule_name: &dyn Fn(usize) -> String,
) -> Result<(), ReplaceError> {
    let what = "replace ruleset";
    // All rules encoded once into one buffer; `at[i]..at[i + 1]` is rule i.
    let mut wire = Vec::with_capacity(rules.len() * 64);
    let mut at = Vec::with_capacity(rules.len() + 1);
    at.push(0);
    for r in rules {
        encode_rule_into(r, &mut wire);
        at.push(wire.len());
    }
    let sizes: Vec<usize> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let classify = |what: &str, e: NlError| match e {
        NlError::Kernel { errno: libc::EAGAIN, .. } if generation.is_some() => ReplaceError::Stale(nl_fail(what, e)),
        e => ReplaceError::Fail(nl_fail(what, e)),
    };
    let mut begin = vec![phase(DOCKFW_REPLACE_BEGIN)];
    if let Some(g) = generation {
        begin.push(attr_u32(DOCKFW_A_GENERATION, g));
    }
    conn.request(DOCKFW_CMD_REPLACE, begin, false).map_err(|e| classify(what, e))?;
    let result = (|| {
        for b in batches(&sizes) {
            let body = nest_raw(DOCKFW_A_RULES, wire[at[b.start]..at[b.end]].to_vec())
                .map_err(|e| ReplaceError::Fail(fail(Exit::Io, format!("{what}: {e}"))))?;
            if let Err(e) = conn.request(DOCKFW_CMD_REPLACE, vec![phase(DOCKFW_REPLACE_APPEND), body], false) {
                let bad = match &e {
                    NlError::Kernel { offset: Some(o), .. } => rule_at_offset(&sizes, b.clone(), *o),
                    _ => None,
                };
                return Err(match bad {
                    Some(i) => classify(&format!("{what}: {}", rule_name(i)), e),
                    None => classify(what, e),
                });
            }
        }
        conn.request(DOCKFW_CMD_REPLACE, vec![phase(DOCKFW_REPLACE_COMMIT)], false).map_err(|e| classify(what, e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = conn.request(DOCKFW_CMD_REPLACE, vec![phase(DOCKFW_REPLACE_ABORT)], false);
    }
    result
}

pub(crate) fn read_source(file: &str) -> Result<(String, String), Fail> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| fail(Exit::Io, format!("reading standard input: {e}")))?;
        Ok(("<stdin>".into(), s))
    } else {
        let s = std::fs::read_to_string(file).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::PermissionDenied { Exit::Perm } else { Exit::Io };
            fail(code, format!("reading {file}: {e}"))
        })?;
        Ok((file.to_string(), s))
    }
}

/// `dockfwctl add RULE...`: prints the id the kernel assigned.
pub(crate) fn add(rule: &[String]) -> Result<(), Fail> {
    let what = "add rule";
    let r = parse_add(rule)?;
    let r = resolve_strict(r, &lookup([&r], what)?, what, true)?;
    let conn = open(what)?;
    let msgs = conn.request(DOCKFW_CMD_RULE_ADD, vec![encode_rule(&r)], false).map_err(|e| nl_fail(what, e))?;
    match reply_u32(&msgs, DOCKFW_A_RULE_ID) {
        Some(id) => println!("added rule {id}"),
        None => println!("added rule"),
    }
    Ok(())
}

/// `dockfwctl del ID`.
pub(crate) fn del(id: u32) -> Result<(), Fail> {
    let what = format!("delete rule {id}");
    let conn = open(&what)?;
    conn.request(DOCKFW_CMD_RULE_DEL, vec![attr_u32(DOCKFW_A_RULE_ID, id)], false).map_err(|e| nl_fail(&what, e))?;
    Ok(())
}

/// `dockfwctl flush`.
pub(crate) fn flush() -> Result<(), Fail> {
    let what = "flush rules";
    let conn = open(what)?;
    conn.request(DOCKFW_CMD_FLUSH, vec![], false).map_err(|e| nl_fail(what, e))?;
    Ok(())
}

/// `dockfwctl list [--json]`: the rules in evaluation order with counters.
pub(crate) fn list(json: bool) -> Result<(), Fail> {
    let what = "list rules";
    let conn = open(what)?;
    let rules = dump_rules(&conn, what)?;
    if json {
        let v: Vec<JsonRule> = rules.iter().map(JsonRule::new).collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else {
        for e in &rules {
            // Rules naming containers show what they resolve to
            // now, after a `#` (so the text stays a rule).
            let resolved = if resolve::has_refs(&e.rule) {
                format!("  # {}", resolve::resolved_text(&e.rule))
            } else {
                String::new()
            };
            println!("{:<4}  {:>8} {:>10}  {}{resolved}", e.rule.id, e.packets, e.bytes, rule_text(&e.rule, false));
        }
    }
    Ok(())
}

/// `dockfwctl policy`: prints the default policy.
pub(crate) fn policy_get() -> Result<(), Fail> {
    let what = "read policy";
    let conn = open(what)?;
    let msgs = conn.request(DOCKFW_CMD_POLICY_GET, vec![], false).map_err(|e| nl_fail(what, e))?;
    let p = reply_u8(&msgs, DOCKFW_A_POLICY).ok_or_else(|| fail(Exit::Io, format!("{what}: reply without a policy")))?;
    match u32::from(p) {
        DOCKFW_VERDICT_ACCEPT => println!("accept"),
        DOCKFW_VERDICT_DROP => println!("drop"),
        n => println!("unknown ({n})"),
    }
    Ok(())
}

/// `dockfwctl policy accept|drop`.
pub(crate) fn policy_set(p: PolicyArg) -> Result<(), Fail> {
    let what = "set policy";
    let v = match p {
        PolicyArg::Accept => DOCKFW_VERDICT_ACCEPT,
        PolicyArg::Drop => DOCKFW_VERDICT_DROP,
    };
    let conn = open(what)?;
    conn.request(DOCKFW_CMD_POLICY_SET, vec![attr_u8(DOCKFW_A_POLICY, v as u8)], false)
        .map_err(|e| nl_fail(what, e))?;
    Ok(())
}

/// `dockfwctl save`: the ruleset as a restore file.
pub(crate) fn save() -> Result<(), Fail> {
    let what = "save rules";
    let conn = open(what)?;
    let rules = dump_rules(&conn, what)?;
    let mut out = format!("{}\n", ruleset::HEADER);
    for e in &rules {
        out.push_str(&rule_text(&e.rule, true));
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// `dockfwctl restore FILE|-` (alias `replace`): every container resolved,
/// then one atomic replace.
pub(crate) fn restore(file: &str) -> Result<(), Fail> {
    let (name, text) = read_source(file)?;
    let mut rules = ruleset::parse_file(&text)
        .map_err(|e| fail(Exit::Usage, format!("{name}:{}:{}: {}", e.line, e.col, e.msg)))?;
    // Every container is resolved before anything is sent.
    let look = lookup(rules.iter().map(|l| &l.rule), "replace ruleset")?;
    for l in rules.iter_mut().filter(|l| !resolve::names(&l.rule).is_empty()) {
        l.rule = resolve_strict(l.rule, &look, &format!("replace ruleset: {name}:{}", l.line), true)?;
    }
    let conn = open("replace ruleset")?;
    replace(&conn, &rules, &name)?;
    Ok(())
}
