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
//! Layers, each importing only those below it (no circle):
//! - this crate root: the module's lifecycle, nothing else;
//! - the netlink commands (`netlink`) and the data path (`hooks`, with
//!   `call`, `dmesg_trace`, `trace_stream`), which never import each other;
//! - control state: `state` (the one published `State`) over `demand` (hooks
//!   on demand and the fast-path flags), `ruleset`, `stream_filters`,
//!   `stats`;
//! - `kernel_ext`, the only module allowed `unsafe` (safe wrappers over the
//!   raw bindings; every other module is `deny(unsafe_code)`);
//! - the pure core, `pure` (src/pure/: `model`, `packet`, `rules`,
//!   `dmesg_filter`; and `rule_syntax`, which only the host tools compile):
//!   `core` code with no `kernel::` import, which imports nothing of the
//!   module; the same directory is the crate `dockfw_pure` that dockfwctl,
//!   the host tests and the fuzzers build.

use kernel::prelude::*;

mod kernel_ext;

#[deny(unsafe_code)]
mod netlink;
#[deny(unsafe_code)]
mod hooks;
#[deny(unsafe_code)]
mod call;
#[deny(unsafe_code)]
mod dmesg_trace;
#[deny(unsafe_code)]
mod trace_stream;

#[deny(unsafe_code)]
mod state;
#[deny(unsafe_code)]
mod demand;
#[deny(unsafe_code)]
mod ruleset;
#[deny(unsafe_code)]
mod stream_filters;
#[deny(unsafe_code)]
mod stats;

// The pure core is also the public API of the crate `dockfw_pure`
// (src/pure/Cargo.toml), built from the very same files; in the module its
// `pub` stays crate-local (what the module does not use is dead code here;
// the rule language, host tools only, is not compiled in: src/pure/mod.rs).
// Its `#![no_std]` is for that crate's root; this crate is `no_std` already.
#[deny(unsafe_code)]
#[allow(unreachable_pub, dead_code, unused_attributes)]
mod pure;

use demand::DockfwHooks;
use kernel_ext::genetlink::{Registration, ReleaseNotifier};
use kernel_ext::global::Published;
use kernel_ext::netfilter::PernetHooks;
use kernel_ext::params::Switches;
use state::{State, STATE};

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
    _hooks: PernetHooks<DockfwHooks>,
    _release: ReleaseNotifier<netlink::DockfwFamily>,
    _family: Registration<netlink::DockfwFamily>,
    _state: Published<State>,
}

impl kernel::Module for Dockfw {
    fn init(module: &'static ThisModule) -> Result<Self> {
        kernel_ext::helpers_init();
        let filter = dmesg_trace::filter_from_params()?;
        let state = STATE.publish(KBox::pin_init(State::new(filter)?, GFP_KERNEL)?)?;
        let family = Registration::register(module)?;
        let release = ReleaseNotifier::register()?;
        let hooks = PernetHooks::register()?;
        let switches = Switches::attach(apply_switches)?;
        pr_info!(
            "loaded: following {} namespaces, {} hooks registered, trace ports {:?}\n",
            kernel_ext::netfilter::followed_namespaces(),
            STATE.with_sleepable(|st| st.demand.registered()).unwrap_or(0),
            filter.ports()
        );
        Ok(Dockfw { _switches: switches, _hooks: hooks, _release: release, _family: family, _state: state })
    }
}

/// A write of the `trace` or `hook_cost` switch (see `Switches`): either one
/// on needs every hook registered.
fn apply_switches(trace: bool, hook_cost: bool) -> Result {
    STATE.with_sleepable(|st| st.demand.set_switches(trace, hook_cost)).unwrap_or(Ok(()))
}

impl Drop for Dockfw {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
