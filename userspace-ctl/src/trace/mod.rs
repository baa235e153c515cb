// SPDX-License-Identifier: GPL-2.0
//! The events of `dockfwctl trace`, the kernel's per-hook reports of the
//! packets its filters match: `event` (the decoded event and its decode from
//! a `DOCKFW_CMD_TRACE_EVENT` datagram), `render` (names of hooks,
//! protocols, conntrack states and verdicts; the text and JSON forms),
//! `group` (events buffered per skb for the text form), `netns` (namespace
//! names from `/run/netns`) and `explain` (`--explain`: per flow, the path
//! through namespaces and hooks, the address rewrites, the deciding rule).
//! Direction: `trace` builds on `nl` (attribute parsing and the datagram's
//! message walk) and the pure `model`; `cmd` uses it. It never uses `docker`
//! or `cmd`: the trace command fills in container names itself. Inside,
//! `render`, `group` and `netns` use `event`, and `explain` uses `event`
//! and `render`.

pub(crate) mod event;
pub(crate) mod explain;
pub(crate) mod group;
pub(crate) mod netns;
pub(crate) mod render;
