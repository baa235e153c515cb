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
#[path = "../../../src/dmesg_filter.rs"]
pub mod dmesg_filter;
#[path = "../../../src/rules.rs"]
pub mod rules;
#[path = "../../../src/rule_syntax.rs"]
pub mod rule_syntax;
// The published ruleset (layers, index, per-CPU counters) compiles here too,
// against kernel-shim (the `kernel` crate items it uses) and this stand-in
// for the two CPU queries it makes through the safe layer.
#[path = "../../../src/ruleset.rs"]
#[allow(dead_code)]
pub mod ruleset;

pub mod kernel_ext {
    pub mod uapi {
        use core::cell::Cell;

        /// CPUs the host tests pretend to have.
        pub const HOST_CPUS: usize = 4;

        std::thread_local! {
            static CPU: Cell<usize> = const { Cell::new(0) };
        }

        /// The CPU the calling thread's next counter updates land on.
        pub fn set_cpu(c: usize) {
            CPU.with(|x| x.set(c));
        }

        pub fn cpu_id() -> usize {
            CPU.with(|x| x.get())
        }

        pub fn nr_cpu_ids() -> usize {
            HOST_CPUS
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod ruleset_tests;
