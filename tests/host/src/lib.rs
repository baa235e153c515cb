// SPDX-License-Identifier: GPL-2.0
//! Host tests of the module's pure core (the crate `dockfw_pure`, src/pure:
//! the very same sources that go into dockfw.ko) and of src/ruleset.rs, the
//! module's own file compiled here against kernel-shim.

#![no_std]
extern crate std;

// The pure core under the name the module gives it: src/ruleset.rs, mounted
// below, imports `crate::pure::rules`, which resolves here through this
// alias exactly as it does in dockfw.ko (`mod pure;` in src/dockfw_main.rs).
pub use dockfw_pure as pure;
// Its modules at the root too, for the tests and for reference.rs (shared
// with the fuzzers, whose crate names them at its root the same way).
pub use dockfw_pure::{dmesg_filter, model, packet, rule_syntax, rules};

// The published ruleset (layers, index, per-CPU counters) compiles here too,
// against kernel-shim (the `kernel` crate items it uses) and this stand-in
// for the two CPU queries it makes through the safe layer. It is not pure
// (it uses the kernel crate), so it stays a mount of the module's file.
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
