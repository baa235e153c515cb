// SPDX-License-Identifier: GPL-2.0
//! The module's control state, one value published for the module's life:
//! the ruleset and the staged replace, the trace stream's filters, the
//! default policy, the hooks on demand, the dmesg trace's filter, and the
//! statistics. The netlink commands change it; the data path reads it
//! under RCU; the crate root creates it first and frees it last.

use crate::demand::Demand;
use crate::pure::dmesg_filter::TraceFilter;
use crate::kernel_ext::global::Global;
use crate::kernel_ext::rcu::RcuBox;
use crate::pure::rules::Rule;
use crate::ruleset::Ruleset;
use crate::stats::Stats;
use crate::stream_filters::Filters;
use core::sync::atomic::AtomicU8;
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::sync::Mutex;

/// Module-wide state, reached by the hooks and the netlink handlers
/// through `STATE`.
#[pin_data]
pub(crate) struct State {
    /// Which packets the dmesg trace prints (from the module parameters).
    pub(crate) dmesg_filter: TraceFilter,
    /// The ruleset: read by the hooks under RCU, replaced whole by writers.
    #[pin]
    pub(crate) rules: RcuBox<Ruleset>,
    /// A replace being staged by one netlink socket (`DOCKFW_CMD_REPLACE`).
    #[pin]
    pub(crate) staging: Mutex<Staging>,
    /// Trace-stream filters, owned by the netlink sockets that set them.
    #[pin]
    pub(crate) stream_filters: RcuBox<Filters>,
    /// Default verdict when no rule decides (a `DOCKFW_VERDICT_*`).
    pub(crate) policy: AtomicU8,
    /// Which hooks are registered, and why.
    #[pin]
    pub(crate) demand: Demand,
    pub(crate) stats: Stats,
}

/// Rules sent with REPLACE/APPEND, published by COMMIT.
pub(crate) struct Staging {
    /// Netlink port id of the socket that sent BEGIN.
    pub(crate) owner: Option<u32>,
    pub(crate) rules: KVVec<Rule>,
    /// DOCKFW_A_GENERATION given with BEGIN: COMMIT only applies on top of
    /// that generation (a read-modify-write by `dockfwctl watch`).
    pub(crate) generation: Option<u32>,
}

impl State {
    /// An empty ruleset, no filters, accept policy, no hooks wanted yet.
    pub(crate) fn new(dmesg_filter: TraceFilter) -> Result<impl PinInit<State>> {
        let empty = KBox::new(Ruleset::empty(), GFP_KERNEL)?;
        let stats = Stats::new()?;
        let no_filters = KBox::new(Filters::empty(), GFP_KERNEL)?;
        Ok(pin_init!(State {
            dmesg_filter,
            rules <- RcuBox::new(Some(empty)),
            staging <- kernel::new_mutex!(Staging { owner: None, rules: KVVec::new(), generation: None }),
            stream_filters <- RcuBox::new(Some(no_filters)),
            policy: AtomicU8::new(crate::kernel_ext::uapi::VERDICT_ACCEPT),
            demand <- Demand::new(),
            stats,
        }))
    }
}

/// The published module state; `None` to readers before init and after exit.
pub(crate) static STATE: Global<State> = Global::new();
