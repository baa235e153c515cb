// SPDX-License-Identifier: GPL-2.0
//! The commands, one module per family (`rules`: add, del, flush, list,
//! save, restore, policy; `trace`; `stats`: stats and status; `watch`), and
//! what they share: opening the family, mapping netlink errors to exit
//! codes, caret reports under a rule's bad token, resolving container
//! references through the engine.

pub(crate) mod rules;
pub(crate) mod stats;
pub(crate) mod trace;
pub(crate) mod watch;

use crate::docker::client::{Client, DockerError};
use crate::docker::resolve;
use crate::error::{fail, Exit, Fail};
use crate::nl::conn::{find, Conn, Msg, NlError};
use crate::rule_syntax::SyntaxError;
use crate::rules::Rule;
use crate::ruleset;
use neli::attr::Attribute;

pub(crate) fn nl_fail(what: &str, e: NlError) -> Fail {
    let code = match &e {
        NlError::NoFamily(_) => Exit::NoFamily,
        NlError::Kernel { errno, .. } if matches!(*errno, libc::EPERM | libc::EACCES) => Exit::Perm,
        NlError::Kernel { .. } => Exit::Kernel,
        NlError::Io(_) => Exit::Io,
    };
    fail(code, format!("{what}: {e}"))
}

pub(crate) fn open(what: &str) -> Result<Conn, Fail> {
    Conn::open().map_err(|e| nl_fail(what, e))
}

/// The rule, a caret line under the token a syntax error names.
pub(crate) fn caret_report(line: &str, e: &SyntaxError) -> String {
    let toks = ruleset::tokens(line);
    let (off, len) = ruleset::error_span(line, &toks, e);
    let col = line.get(..off).map_or(off, |s| s.chars().count());
    let width = toks.get(e.token).map_or(len, |t| t.1.chars().count()).max(1);
    format!("  {line}\n  {}{}", " ".repeat(col), "^".repeat(width))
}

/// Asks the Docker engine about every container the rules name (nothing,
/// and no engine needed, when they name none).
pub(crate) fn lookup<'a>(rules: impl IntoIterator<Item = &'a Rule>, what: &str) -> Result<resolve::Lookup, Fail> {
    let mut names: Vec<String> = Vec::new();
    for r in rules {
        for n in resolve::names(r) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let mut out = resolve::Lookup::new();
    if names.is_empty() {
        return Ok(out);
    }
    let docker = |e: DockerError| fail(Exit::Docker, format!("{what}: {e}"));
    let client = Client::from_env().map_err(docker)?;
    for n in names {
        let c = client.inspect(&n).map_err(docker)?;
        out.insert(n, c);
    }
    Ok(out)
}

/// Resolves a rule's container references for add, restore and trace:
/// an error (exit 6) for what cannot be resolved; a stopped container
/// makes the rule inactive, with a warning (or an error for a trace
/// filter, `inactive_ok` false: there would be nothing to trace).
pub(crate) fn resolve_strict(rule: Rule, look: &resolve::Lookup, what: &str, inactive_ok: bool) -> Result<Rule, Fail> {
    match resolve::resolve(&rule, look, true) {
        Ok(resolve::Outcome::Active(r)) => Ok(r),
        Ok(resolve::Outcome::Inactive(r, why)) if inactive_ok => {
            eprintln!("dockfwctl: warning: {what}: {why}: the rule is inactive (matches nothing) until `dockfwctl watch` sees the container start");
            Ok(r)
        }
        Ok(resolve::Outcome::Inactive(_, why)) => Err(fail(Exit::Docker, format!("{what}: {why}: nothing to trace"))),
        Err(m) => Err(fail(Exit::Docker, format!("{what}: {m}"))),
    }
}

pub(crate) fn reply_u32(msgs: &[Msg], ty: u16) -> Option<u32> {
    msgs.iter().find_map(|m| find(m, ty)).and_then(|a| a.payload().as_ref().try_into().ok()).map(u32::from_ne_bytes)
}

pub(crate) fn reply_u8(msgs: &[Msg], ty: u16) -> Option<u8> {
    msgs.iter().find_map(|m| find(m, ty)).and_then(|a| a.payload().as_ref().first().copied())
}
