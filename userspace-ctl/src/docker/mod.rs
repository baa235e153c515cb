// SPDX-License-Identifier: GPL-2.0
//! The Docker engine, for rules and traces that name containers: `client`
//! (the Engine API over its unix socket: inspect, list, the event stream),
//! `model` (the API's JSON as dockfwctl reads it: containers, their
//! networks and addresses, engine events), `names` (which container has an
//! address or a network namespace, for traces) and `resolve` (a rule's
//! `from-container`, `to-container` and `in-container` turned into the
//! addresses and namespace the kernel matches, or into an inactive rule).
//! Direction: `docker` depends only on the pure files (`model`, `rules`,
//! `rule_syntax`); it needs nothing from `nl` and never uses `trace` or
//! `cmd`, which combine it with the kernel side. Inside, `client`,
//! `names` and `resolve` use `model`, and `names` uses `client`.

pub(crate) mod client;
pub(crate) mod model;
pub(crate) mod names;
pub(crate) mod resolve;
