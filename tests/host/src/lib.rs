// SPDX-License-Identifier: GPL-2.0
//! Host build of the module's pure files: the very same sources that go into
//! dockfw.ko, mounted at the crate root under the same module names so their
//! `crate::` paths resolve identically.

#![no_std]
extern crate std;

#[path = "../../../src/model.rs"]
pub mod model;
#[path = "../../../src/packet.rs"]
pub mod packet;
#[path = "../../../src/trace_filter.rs"]
pub mod trace_filter;
#[path = "../../../src/rules.rs"]
pub mod rules;
#[path = "../../../src/rule_syntax.rs"]
pub mod rule_syntax;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod reference;
