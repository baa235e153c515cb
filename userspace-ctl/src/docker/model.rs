// SPDX-License-Identifier: GPL-2.0
//! What dockfwctl reads of the Docker Engine API's JSON: a container
//! (`GET /containers/{id}/json`), the container list (`GET
//! /containers/json`) and an engine event (`GET /events`). Only fields that
//! every engine since API 1.41 (Docker 20.10) returns are read: `Id`,
//! `Name`, `State.Running`, `State.Pid`,
//! `NetworkSettings.Networks.{NET}.{IPAddress,GlobalIPv6Address}`, and for
//! events `Type`, `Action`, `Actor.ID`, `Actor.Attributes`. Pure.

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
