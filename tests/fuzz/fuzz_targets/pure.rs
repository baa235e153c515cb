// SPDX-License-Identifier: GPL-2.0
// The module's pure core (the crate `dockfw_pure`, src/pure) named at the
// root, as tests/host does, so reference.rs's `crate::model`, ... resolve.
#[allow(unused_imports)]
use dockfw_pure::{model, packet, rule_syntax, rules};
