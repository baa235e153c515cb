// SPDX-License-Identifier: GPL-2.0
// The module's pure files, mounted under their own names (see tests/host).
#[path = "../../../src/model.rs"]
#[allow(dead_code)]
pub mod model;
#[path = "../../../src/packet.rs"]
#[allow(dead_code)]
pub mod packet;
#[path = "../../../src/rules.rs"]
#[allow(dead_code)]
pub mod rules;
#[path = "../../../src/rule_syntax.rs"]
#[allow(dead_code)]
pub mod rule_syntax;
