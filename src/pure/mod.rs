// SPDX-License-Identifier: GPL-2.0
//! The pure core of dockfw: plain data types (`model`), header parsing
//! (`packet`), rules and the indexed matcher (`rules`), the dmesg trace's
//! filter (`dmesg_filter`) and the rule language (`rule_syntax`, host tools
//! only: see below). `core` code with no `kernel::` import and no
//! allocation, compiled from this one directory by the module (as
//! `crate::pure`, see src/dockfw_main.rs) and by the host tools (as the crate
//! `dockfw_pure`, src/pure/Cargo.toml: dockfwctl, the host tests, the
//! fuzzers). It is the bottom layer: it imports nothing of the module, and
//! its files name each other as `super::model`, ..., which resolves the same
//! way in both.

// The crate root for the host tools: no `std`, so they check that this code
// builds for the kernel. (Meaningless inside the module, whose crate is
// `no_std` already; src/dockfw_main.rs allows it there.)
#![no_std]

pub mod dmesg_filter;
pub mod model;
pub mod packet;
pub mod rules;
// The rule language is the host tools' (dockfwctl parses and prints rules;
// the module gets them as netlink attributes): the crate's default feature
// `rule-syntax`, which the module's build (no Cargo, no features) leaves out,
// as it always has; compiled in, it would add about 5 KB of unused code to
// dockfw.ko (its trait impls are generated even when nothing calls them).
#[cfg(feature = "rule-syntax")]
pub mod rule_syntax;
