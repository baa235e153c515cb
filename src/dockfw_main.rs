// SPDX-License-Identifier: GPL-2.0
//! dockfw: container-aware netfilter tracing and filtering.
//!
//! Registers IPv4 and IPv6 hooks at every inet hook point, first in priority,
//! in every network namespace, present and future, so that the path of a
//! packet through Docker's DNAT, the bridge and each container's namespace
//! can be seen (the nftrace experiment) and filtered in the terms the user
//! meant (the published host port, the pre-DNAT destination).
//!
//! Module layout: `kernel_ext` is the only place with `unsafe` (safe wrappers
//! over raw bindings); `model`, `packet` and `trace_filter` are pure `core`
//! code shared with the host tests; `hooks` and `trace` are the business
//! logic on top.

use kernel::prelude::*;

mod hooks;
mod kernel_ext;
mod trace;

// The pure modules are also the public API of the host test crate, which
// compiles the very same files; in the module their `pub` stays crate-local.
#[allow(unreachable_pub, dead_code)]
mod model;
#[allow(unreachable_pub, dead_code)]
mod packet;
#[allow(unreachable_pub, dead_code)]
mod trace_filter;

use kernel_ext::global::{Global, Published};
use kernel_ext::netfilter::PernetHooks;

module! {
    type: Dockfw,
    name: "dockfw",
    author: "dockfw developers",
    description: "Container-aware netfilter tracing and filtering",
    license: "GPL",
}

/// Module-wide state, reached by the hooks through `STATE`.
pub(crate) struct State {
    /// Which packets the dmesg trace prints (from the module parameters).
    pub(crate) trace_filter: trace_filter::TraceFilter,
}

/// The published module state; `None` to readers before init and after exit.
pub(crate) static STATE: Global<State> = Global::new();

/// Number of namespaces the hooks are registered in, for the C parameter
/// `hooked_netns` (read-only in /sys/module/dockfw/parameters).
#[no_mangle]
pub extern "C" fn dockfw_hooked_netns() -> usize {
    hooks::HOOKED_NETNS.load(core::sync::atomic::Ordering::Relaxed)
}

/// Lifecycle. Init order: C helpers, module state (published), then the
/// pernet hooks (the only source of packets). Fields drop in declaration
/// order, so exit runs the reverse: hooks are unregistered in every namespace
/// first (no hook can run after that), then the state is unpublished and
/// freed after an RCU grace period.
struct Dockfw {
    _hooks: PernetHooks<hooks::DockfwHooks>,
    _state: Published<State>,
}

impl kernel::Module for Dockfw {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        kernel_ext::helpers_init();
        let filter = trace::filter_from_params()?;
        let state = STATE.publish(KBox::pin(State { trace_filter: filter }, GFP_KERNEL)?)?;
        let hooks = PernetHooks::register()?;
        pr_info!(
            "loaded: hooks in {} namespaces, trace ports {:?}\n",
            dockfw_hooked_netns(),
            filter.ports()
        );
        Ok(Dockfw { _hooks: hooks, _state: state })
    }
}

impl Drop for Dockfw {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
