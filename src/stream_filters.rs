// SPDX-License-Identifier: GPL-2.0
//! Control state of the netlink trace stream: the filters installed by
//! `DOCKFW_CMD_TRACE_SET`, each owned by the socket that sent it (dropped
//! when that socket closes), published whole under RCU like the ruleset,
//! and the family's sending end for the "trace" multicast group. The data
//! path that matches packets against them and multicasts events is
//! `trace_stream`.

use crate::kernel_ext::genetlink::FamilySlot;
use crate::pure::rules::{Needs, Rule};
use kernel::prelude::*;

/// At most this many filters in all, and per socket.
pub(crate) const MAX_FILTERS: usize = 256;
pub(crate) const MAX_FILTERS_PER_SOCKET: usize = 16;

/// Where the family multicasts: set while the family is registered (the
/// family's `slot()`), read by the data path to send events and by the
/// on-demand registration to ask whether anyone listens.
pub(crate) static EVENTS: FamilySlot = FamilySlot::new();

#[derive(Clone, Copy)]
pub(crate) struct Filter {
    pub(crate) id: u32,
    /// Netlink port id of the socket that installed it.
    pub(crate) owner: u32,
    /// The match (a rule whose action is ignored); `None`: any packet.
    pub(crate) matcher: Option<Rule>,
    /// Only packets this rule decided.
    pub(crate) rule: Option<u32>,
}

pub(crate) struct Filters {
    pub(crate) list: KVec<Filter>,
    pub(crate) next_id: u32,
    /// What the filters' matches look at, together (`Rule::needs` of each):
    /// computed when the list is built, so the data path does not fold it
    /// per packet. Kept in step by `add` and `without`, the only writers of
    /// `list` besides `empty`.
    needs: Needs,
}

impl Filters {
    pub(crate) fn empty() -> Filters {
        Filters { list: KVec::new(), next_id: 1, needs: Needs::default() }
    }

    /// Appends `f` (the caller has checked the limits).
    pub(crate) fn add(&mut self, f: Filter) -> Result {
        self.needs = union(self.needs, &f);
        self.list.push(f, GFP_KERNEL)?;
        Ok(())
    }

    /// What some filter's match looks at: the context the data path must
    /// build to match a packet against all of them.
    pub(crate) fn needs(&self) -> Needs {
        self.needs
    }

    /// The (family, hook) pairs some filter can match at (`rules::hook_bit`);
    /// the hooks skip the trace stream at the others.
    pub(crate) fn hook_mask(&self) -> u16 {
        self.list.iter().fold(0, |m, f| m | f.matcher.as_ref().map_or(crate::pure::rules::ALL_HOOK_BITS, |r| r.hook_mask()))
    }

    /// A copy without the filters `drop` selects.
    pub(crate) fn without(&self, drop: impl Fn(&Filter) -> bool) -> Result<KBox<Filters>> {
        let mut list = KVec::with_capacity(self.list.len(), GFP_KERNEL)?;
        let mut needs = Needs::default();
        for f in self.list.iter().filter(|f| !drop(f)) {
            needs = union(needs, f);
            list.push(*f, GFP_KERNEL)?;
        }
        Ok(KBox::new(Filters { list, next_id: self.next_id, needs }, GFP_KERNEL)?)
    }
}

fn union(n: Needs, f: &Filter) -> Needs {
    let x = f.matcher.as_ref().map_or(Needs::default(), |m| m.needs());
    Needs { ct: n.ct || x.ct, ifnames: n.ifnames || x.ifnames, netns: n.netns || x.netns }
}
