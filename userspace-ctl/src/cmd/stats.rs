// SPDX-License-Identifier: GPL-2.0
//! `dockfwctl stats` (the module's counters over netlink) and `status`
//! (the module parameters from sysfs).

use super::nl_fail;
use crate::error::{fail, Exit, Fail};
use crate::nl::attr::parse_attrs;
use crate::nl::conn::{find, Conn};
use crate::uapi::*;
use neli::attr::Attribute;

/// `DOCKFW_A_STATS` as (name, value) pairs, names from the header's enum.
pub(crate) fn stats(conn: &Conn) -> Result<Vec<(String, u64)>, Fail> {
    let what = "read statistics";
    let msgs = conn.request(DOCKFW_CMD_STATS_GET, vec![], false).map_err(|e| nl_fail(what, e))?;
    let nest = msgs
        .iter()
        .find_map(|m| find(m, DOCKFW_A_STATS))
        .ok_or_else(|| fail(Exit::Io, format!("{what}: reply without statistics")))?;
    decode_stats(nest.payload().as_ref()).map_err(|e| fail(Exit::Io, format!("{what}: {e}")))
}

/// The `DOCKFW_STATS_*` attributes of a `DOCKFW_A_STATS` payload as
/// (name, value), names from the header's enum in lower case
/// (`trace_lost`), u32 and u64 alike; PAD and unknown attributes skipped.
pub(crate) fn decode_stats(payload: &[u8]) -> Result<Vec<(String, u64)>, String> {
    let mut out = Vec::new();
    for (ty, b) in parse_attrs(payload)? {
        let Some((name, _)) = ENUM_DOCKFW_STATS_ATTR.iter().find(|(_, v)| *v == ty) else { continue };
        if ty == DOCKFW_STATS_UNSPEC || ty == DOCKFW_STATS_PAD || name.starts_with("__") {
            continue;
        }
        let v = match b.len() {
            4 => u64::from(u32::from_ne_bytes(b.try_into().unwrap())),
            8 => u64::from_ne_bytes(b.try_into().unwrap()),
            n => return Err(format!("{name} has {n} bytes")),
        };
        let key = name.strip_prefix("DOCKFW_STATS_").unwrap_or(name).to_lowercase();
        out.push((key, v));
    }
    Ok(out)
}

pub(crate) const PARAMS: &str = "/sys/module/dockfw/parameters";

pub(crate) fn status() -> Result<(), Fail> {
    let read = |p: &str| std::fs::read_to_string(format!("{PARAMS}/{p}")).map(|s| s.trim().to_string());
    match read("hooked_netns") {
        Ok(n) => {
            println!("module: loaded");
            println!("hooked_netns: {n}");
            for p in ["trace", "trace_ports", "trace_addr", "trace_icmp"] {
                println!("{p}: {}", read(p).unwrap_or_else(|_| "?".into()));
            }
            Ok(())
        }
        Err(e) => Err(fail(Exit::NoFamily, format!("reading {PARAMS}/hooked_netns: {e} (is dockfw.ko loaded?)"))),
    }
}

/// `dockfwctl stats [--json]`.
pub(crate) fn show(json: bool) -> Result<(), Fail> {
    let conn = super::open("read statistics")?;
    let s = stats(&conn)?;
    if json {
        let m: serde_json::Map<String, serde_json::Value> = s.into_iter().map(|(k, v)| (k, v.into())).collect();
        println!("{}", serde_json::to_string_pretty(&m).expect("JSON"));
    } else {
        for (k, v) in s {
            println!("{k}: {v}");
        }
    }
    Ok(())
}
