// SPDX-License-Identifier: GPL-2.0
//! `dockfwctl stats` (the module's counters over netlink) and `status`
//! (the module parameters from sysfs, and the container engine: its
//! version and firewall backend from its API, with what that backend
//! changes about dockfw's rules).

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

/// `dockfwctl status [--json]`: fails (exit 3) when the module is not
/// loaded; an engine that does not answer is reported, not an error (a
/// host may run no engine).
pub(crate) fn status(json: bool) -> Result<(), Fail> {
    use crate::docker::client::Client;
    use crate::docker::model::engine_warnings;
    let read = |p: &str| std::fs::read_to_string(format!("{PARAMS}/{p}")).map(|s| s.trim().to_string());
    let n = read("hooked_netns")
        .map_err(|e| fail(Exit::NoFamily, format!("reading {PARAMS}/hooked_netns: {e} (is dockfw.ko loaded?)")))?;
    let params: Vec<(&str, String)> = ["trace", "trace_ports", "trace_addr", "trace_icmp"]
        .into_iter()
        .map(|p| (p, read(p).unwrap_or_else(|_| "?".into())))
        .collect();
    let engine = Client::from_env().and_then(|mut c| {
        c.set_timeout(std::time::Duration::from_secs(5));
        c.engine()
    });
    let warnings = engine.as_ref().map(engine_warnings).unwrap_or_default();
    if json {
        let mut m = serde_json::Map::new();
        m.insert("module".into(), "loaded".into());
        m.insert("hooked_netns".into(), n.parse::<u64>().map_or(n.clone().into(), Into::into));
        for (p, v) in &params {
            m.insert((*p).into(), v.clone().into());
        }
        m.insert(
            "engine".into(),
            match &engine {
                Ok(e) => serde_json::json!({
                    "product": e.product, "version": e.version, "api_version": e.api_version,
                    "firewall_backend": e.firewall, "firewall_backend_reported": e.firewall_reported,
                }),
                Err(err) => serde_json::json!({ "error": err.to_string() }),
            },
        );
        m.insert("warnings".into(), warnings.clone().into());
        println!("{}", serde_json::to_string_pretty(&m).expect("JSON"));
    } else {
        println!("module: loaded");
        println!("hooked_netns: {n}");
        for (p, v) in &params {
            println!("{p}: {v}");
        }
        match &engine {
            Ok(e) => println!(
                "engine: {} {} (API {}), firewall backend {}{}",
                e.product,
                e.version,
                e.api_version,
                e.firewall,
                if e.firewall_reported { "" } else { " (not reported: the only one before API 1.49)" }
            ),
            Err(err) => println!("engine: none reachable ({err})"),
        }
        for w in &warnings {
            println!("warning: {w}");
        }
    }
    Ok(())
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
