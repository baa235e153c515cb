// SPDX-License-Identifier: GPL-2.0
//! dockfw: container-aware netfilter tracing and filtering.
//!
//! Follows every network namespace, present and future, and registers IPv4
//! and IPv6 hooks there, first in priority, at the inet hook points its
//! rules, trace filters, policy or switches need (on demand: a hook point
//! nothing needs costs nothing), so that the path of a packet through
//! Docker's DNAT, the bridge and each container's namespace can be seen (the
//! nftrace experiment) and filtered in the terms the user meant (the
//! published host port, the pre-DNAT destination).
//!
//! Module layout: `kernel_ext` is the only place with `unsafe` (safe wrappers
//! over raw bindings); `model`, `packet` and `trace_filter` are pure `core`
//! code shared with the host tests; `hooks` and `trace` are the business
//! logic on top.

use kernel::prelude::*;

mod hooks;
mod kernel_ext;
mod netlink;
mod ruleset;
mod stats;
mod trace;
mod tracing;

// The pure modules are also the public API of the host test crate, which
// compiles the very same files; in the module their `pub` stays crate-local.
#[allow(unreachable_pub, dead_code)]
mod model;
#[allow(unreachable_pub, dead_code)]
mod packet;
#[allow(unreachable_pub, dead_code)]
mod trace_filter;
#[allow(unreachable_pub, dead_code)]
mod rules;

use core::sync::atomic::AtomicU8;
use kernel::sync::Mutex;
use kernel_ext::genetlink::{Registration, ReleaseNotifier};
use kernel_ext::global::{Global, Published};
use kernel_ext::netfilter::{HookRegistry, PernetHooks};
use kernel_ext::params::Switches;
use kernel_ext::rcu::RcuBox;
use ruleset::Ruleset;

// The module! keys of the two kernel crate generations (see `dockfw_kapi`
// in Kbuild): 6.12 takes one `author`, 7.x a list of `authors`.
#[cfg(dockfw_kapi = "6.12")]
module! {
    type: Dockfw,
    name: "dockfw",
    author: "dockfw developers",
    description: "Container-aware netfilter tracing and filtering",
    license: "GPL",
}
#[cfg(not(dockfw_kapi = "6.12"))]
module! {
    type: Dockfw,
    name: "dockfw",
    authors: ["dockfw developers"],
    description: "Container-aware netfilter tracing and filtering",
    license: "GPL",
}

/// Module-wide state, reached by the hooks and the netlink handlers
/// through `STATE`.
#[pin_data]
pub(crate) struct State {
    /// Which packets the dmesg trace prints (from the module parameters).
    pub(crate) trace_filter: trace_filter::TraceFilter,
    /// The ruleset: read by the hooks under RCU, replaced whole by writers.
    #[pin]
    pub(crate) rules: RcuBox<Ruleset>,
    /// A replace being staged by one netlink socket (`DOCKFW_CMD_REPLACE`).
    #[pin]
    pub(crate) staging: Mutex<Staging>,
    /// Trace-stream filters, owned by the netlink sockets that set them.
    #[pin]
    pub(crate) trace: RcuBox<tracing::Filters>,
    /// Which hooks the trace stream wants (see `hooks::update_trace`).
    #[pin]
    pub(crate) trace_hooks: Mutex<hooks::TraceHooks>,
    /// Default verdict when no rule decides (a `DOCKFW_VERDICT_*`).
    pub(crate) policy: AtomicU8,
    /// The namespaces followed and which hooks are registered in them.
    #[pin]
    pub(crate) hooks: HookRegistry<hooks::DockfwHooks>,
    pub(crate) stats: stats::Stats,
}

/// Rules sent with REPLACE/APPEND, published by COMMIT.
pub(crate) struct Staging {
    /// Netlink port id of the socket that sent BEGIN.
    pub(crate) owner: Option<u32>,
    pub(crate) rules: kernel::alloc::KVVec<rules::Rule>,
    /// DOCKFW_A_GENERATION given with BEGIN: COMMIT only applies on top of
    /// that generation (a read-modify-write by `dockfwctl watch`).
    pub(crate) generation: Option<u32>,
}

/// The published module state; `None` to readers before init and after exit.
pub(crate) static STATE: Global<State> = Global::new();

/// Number of namespaces followed, for the C parameter `hooked_netns`
/// (read-only in /sys/module/dockfw/parameters).
#[no_mangle]
pub extern "C" fn dockfw_hooked_netns() -> usize {
    hooks::HOOKED_NETNS.load(core::sync::atomic::Ordering::Relaxed)
}

/// A write of the `trace` or `hook_cost` parameter (or their values at
/// module init), from the C parameter setter under the module's parameter
/// lock, only while the `params::Switches` guard lives (inside the life of
/// the module state). Returns 0 or -errno; on error the C side keeps the
/// parameter's old value.
#[no_mangle]
pub extern "C" fn dockfw_switches_apply(trace: bool, hook_cost: bool) -> core::ffi::c_int {
    match hooks::apply_switches(trace, hook_cost) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Lifecycle. Init order: C helpers, module state (published, with an
/// empty ruleset and a hook registry that follows no namespace yet), the
/// netlink family (requests may arrive from then on; events may be
/// multicast; a rule added now only records the hooks it wants), the
/// socket-release notifier (drops a closed socket's trace filters), the
/// pernet operations (every namespace joins the registry and gets the hooks
/// wanted so far: packets arrive from then on), then the `trace` and
/// `hook_cost` switches (their values at load time applied, later writes
/// register or release hooks). Fields drop in declaration order, so exit is
/// the reverse: the switches are detached (a write only stores the value),
/// the pernet operations are unregistered (each namespace's hooks with
/// them: no hook runs after the grace period below), then the notifier,
/// then the family (its event slot is cleared with a grace period, then
/// running requests and dumps are waited for), then the state is
/// unpublished and freed after an RCU grace period.
struct Dockfw {
    _switches: Switches,
    _hooks: PernetHooks<hooks::DockfwHooks>,
    _release: ReleaseNotifier<netlink::DockfwFamily>,
    _family: Registration<netlink::DockfwFamily>,
    _state: Published<State>,
}

impl kernel::Module for Dockfw {
    fn init(module: &'static ThisModule) -> Result<Self> {
        kernel_ext::helpers_init();
        let filter = trace::filter_from_params()?;
        let empty = KBox::new(Ruleset::empty(), GFP_KERNEL)?;
        let stats = stats::Stats::new()?;
        let no_filters = KBox::new(tracing::Filters::empty(), GFP_KERNEL)?;
        let state = STATE.publish(KBox::pin_init(
            pin_init!(State {
                trace_filter: filter,
                rules <- RcuBox::new(Some(empty)),
                staging <- kernel::new_mutex!(Staging { owner: None, rules: kernel::alloc::KVVec::new(), generation: None }),
                trace <- RcuBox::new(Some(no_filters)),
                trace_hooks <- kernel::new_mutex!(hooks::TraceHooks::new()),
                policy: AtomicU8::new(kernel_ext::uapi::VERDICT_ACCEPT),
                hooks <- HookRegistry::new(),
                stats,
            }),
            GFP_KERNEL,
        )?)?;
        let family = Registration::register(module)?;
        let release = ReleaseNotifier::register()?;
        let hooks = PernetHooks::register()?;
        let switches = Switches::attach()?;
        pr_info!(
            "loaded: following {} namespaces, {} hooks registered, trace ports {:?}\n",
            dockfw_hooked_netns(),
            STATE.with_sleepable(|st| st.hooks.registered()).unwrap_or(0),
            filter.ports()
        );
        Ok(Dockfw { _switches: switches, _hooks: hooks, _release: release, _family: family, _state: state })
    }
}

impl Drop for Dockfw {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
