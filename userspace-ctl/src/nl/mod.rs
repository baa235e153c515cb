// SPDX-License-Identifier: GPL-2.0
//! Generic netlink as dockfwctl speaks it to the dockfw family: `attr`
//! (netlink attributes, built for requests and split out of replies),
//! `conn` (the socket: the family and its multicast groups looked up through
//! the generic netlink controller, requests with their ACKs, extended-ACK
//! errors and dumps, raw datagrams from multicast groups and the walk over
//! their messages, the controller's family-removed notice) and `rule` (a
//! rule's `DOCKFW_A_RULE` nest, both ways, and its JSON view).
//! Direction: `nl` is the bottom layer of the tool. `trace` and `cmd` build
//! on it; it uses only the module's pure files (`model`, `rules`,
//! `rule_syntax`) and the generated `uapi` constants, never `trace`,
//! `docker` or `cmd`. Inside, `conn` and `rule` use `attr`.

pub(crate) mod attr;
pub(crate) mod conn;
pub(crate) mod rule;
