// SPDX-License-Identifier: GPL-2.0
//! What dockfwctl reads of the Docker Engine API's JSON: a container
//! (`GET /containers/{id}/json`), the container list (`GET
//! /containers/json`) and an engine event (`GET /events`). Only fields that
//! every engine since API 1.41 (Docker 20.10) returns are read: `Id`,
//! `Name`, `State.Running`, `State.Pid`,
//! `NetworkSettings.Networks.{NET}.{IPAddress,GlobalIPv6Address}`, and for
//! events `Type`, `Action`, `Actor.ID`, `Actor.Attributes`; and for
//! `dockfwctl status` the engine's version and firewall backend (`GET
//! /version`, `GET /info`). Pure.

use crate::model::{parse_addr, Addr};
use serde_json::Value;

/// One network a container is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    pub ipv4: Option<Addr>,
    pub ipv6: Option<Addr>,
}

/// What dockfwctl needs of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    /// Without Docker's leading `/`.
    pub name: String,
    pub running: bool,
    /// The init process in the host's PID namespace (0 when not running).
    pub pid: u32,
    /// Inode of its network namespace (`/proc/PID/ns/net`), when running
    /// and readable from here.
    pub netns: Option<u32>,
    /// Sorted by name. A stopped container keeps its networks, without
    /// addresses.
    pub networks: Vec<Network>,
}

fn ip(v: &Value) -> Option<Addr> {
    v.as_str().filter(|s| !s.is_empty()).and_then(parse_addr)
}

fn networks(ns: &Value) -> Vec<Network> {
    let mut out: Vec<Network> = ns
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, n)| Network { name: name.clone(), ipv4: ip(&n["IPAddress"]), ipv6: ip(&n["GlobalIPv6Address"]) })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A container from `GET /containers/{id}/json` (netns not filled in).
pub fn container_from_inspect(v: &Value) -> Result<Container, String> {
    let id = v["Id"].as_str().ok_or("no Id")?.to_string();
    let name = v["Name"].as_str().ok_or("no Name")?.trim_start_matches('/').to_string();
    let running = v["State"]["Running"].as_bool().ok_or("no State.Running")?;
    let pid = if running { v["State"]["Pid"].as_u64().and_then(|p| u32::try_from(p).ok()).unwrap_or(0) } else { 0 };
    Ok(Container { id, name, running, pid, netns: None, networks: networks(&v["NetworkSettings"]["Networks"]) })
}

/// Container ids (and names) from `GET /containers/json`.
pub fn ids_from_list(v: &Value) -> Result<Vec<(String, String)>, String> {
    let arr = v.as_array().ok_or("not an array")?;
    Ok(arr
        .iter()
        .filter_map(|c| {
            let id = c["Id"].as_str()?.to_string();
            let name = c["Names"].as_array().and_then(|n| n.first()).and_then(Value::as_str).unwrap_or("");
            Some((id, name.trim_start_matches('/').to_string()))
        })
        .collect())
}

/// An engine event, as `GET /events` streams them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `container`, `network`, ...
    pub kind: String,
    /// `start`, `die`, `connect`, ...
    pub action: String,
    /// The container's id (container events) or the network's (network
    /// events).
    pub actor: String,
    /// Attributes.name: the container's name (for a rename, the new one),
    /// or the network's.
    pub name: Option<String>,
    /// Network events: Attributes.container, the container's id.
    pub container: Option<String>,
}

pub fn event_from_json(v: &Value) -> Event {
    let s = |x: &Value| x.as_str().map(String::from);
    let attrs = &v["Actor"]["Attributes"];
    Event {
        kind: s(&v["Type"]).unwrap_or_default(),
        action: s(&v["Action"]).or_else(|| s(&v["status"])).unwrap_or_default(),
        actor: s(&v["Actor"]["ID"]).or_else(|| s(&v["id"])).unwrap_or_default(),
        name: s(&attrs["name"]),
        container: s(&attrs["container"]),
    }
}

/// What `dockfwctl status` reports of the engine behind the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    /// "docker", or "podman" (its Docker-compatible API names itself in
    /// `Components`).
    pub product: String,
    pub version: String,
    pub api_version: String,
    /// The firewall backend: `Info.FirewallBackend.Driver` (API 1.49+,
    /// Docker 28: "iptables", "nftables", "iptables+firewalld", ...);
    /// engines before it only have iptables.
    pub firewall: String,
    /// Whether the engine reported `firewall` itself.
    pub firewall_reported: bool,
}

/// An `EngineInfo` from `GET /version` and `GET /info`.
pub fn engine_from(version: &Value, info: &Value) -> Result<EngineInfo, String> {
    let v = version.get("Version").and_then(Value::as_str).ok_or("/version has no Version")?;
    let api = version.get("ApiVersion").and_then(Value::as_str).unwrap_or("?");
    let podman = version
        .get("Components")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c.get("Name").and_then(Value::as_str).is_some_and(|n| n.contains("Podman"))));
    let reported = info.pointer("/FirewallBackend/Driver").and_then(Value::as_str);
    Ok(EngineInfo {
        product: if podman { "podman" } else { "docker" }.into(),
        version: v.into(),
        api_version: api.into(),
        firewall: reported.unwrap_or("iptables").into(),
        firewall_reported: reported.is_some(),
    })
}

/// Where a dockfw rule means something different on this engine than the
/// README's examples say (they assume Docker with iptables and its
/// DOCKER-USER chain), one sentence each.
pub fn engine_warnings(e: &EngineInfo) -> Vec<String> {
    let mut w = Vec::new();
    if e.firewall.starts_with("nftables") {
        w.push(format!(
            "{} {} uses the nftables firewall backend: there is no DOCKER-USER chain (rules put there are ignored); \
             a dockfw drop is final, but a dockfw accept only means dockfw let the packet pass: the engine's own \
             drops still apply",
            e.product, e.version
        ));
    }
    w
}

#[cfg(test)]
mod engine_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn engine_version_backend_and_warnings() {
        // Docker 20.10 (API 1.41): no FirewallBackend in /info.
        let e = engine_from(
            &json!({"Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "Components": [{"Name": "Engine"}]}),
            &json!({"ServerVersion": "20.10.24+dfsg1"}),
        )
        .unwrap();
        assert_eq!((e.product.as_str(), e.version.as_str(), e.firewall.as_str(), e.firewall_reported), ("docker", "20.10.24+dfsg1", "iptables", false));
        assert!(engine_warnings(&e).is_empty());
        // Docker 28.5 started with DOCKER_FIREWALL_BACKEND=nftables.
        let e = engine_from(
            &json!({"Version": "28.5.2+dfsg4", "ApiVersion": "1.51"}),
            &json!({"FirewallBackend": {"Driver": "nftables"}}),
        )
        .unwrap();
        assert_eq!((e.firewall.as_str(), e.firewall_reported, e.api_version.as_str()), ("nftables", true, "1.51"));
        let w = engine_warnings(&e);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("no DOCKER-USER") && w[0].contains("28.5.2"), "{w:?}");
        // iptables reported by a 28.x engine: no warning.
        let e = engine_from(&json!({"Version": "28.5.2", "ApiVersion": "1.51"}), &json!({"FirewallBackend": {"Driver": "iptables"}})).unwrap();
        assert!(engine_warnings(&e).is_empty());
        // Podman's Docker-compatible API names itself in Components.
        let e = engine_from(&json!({"Version": "5.4.2", "ApiVersion": "1.41", "Components": [{"Name": "Podman Engine"}]}), &json!({})).unwrap();
        assert_eq!(e.product, "podman");
        // A /version without Version is an error, not a guess.
        assert!(engine_from(&json!({}), &json!({})).is_err());
    }
}
