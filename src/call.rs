// SPDX-License-Identifier: GPL-2.0
//! One hook call as the data path sees it: the skb and hook state, the
//! headers parsed once, and what the verdict and both traces may look at,
//! each fetched at most once per call and only if something asks: the
//! conntrack original tuple (`nf_ct_get` plus a tuple copy), the device
//! names, the namespace. The verdict, the dmesg trace and the trace stream
//! all read through one `Call`, so a packet that is judged and traced costs
//! one conntrack lookup, not three.

use crate::kernel_ext::netfilter::HookState;
use crate::kernel_ext::skb::SkBuff;
use crate::pure::model::{CtOrig, Hook};
use crate::pure::packet::Packet;
use crate::pure::rules::{Ctx, Needs};
use core::cell::OnceCell;

pub(crate) struct Call<'a> {
    pub(crate) skb: &'a SkBuff,
    pub(crate) state: &'a HookState,
    pub(crate) hook: Hook,
    pub(crate) pkt: Packet,
    ct: OnceCell<Option<CtOrig>>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(skb: &'a SkBuff, state: &'a HookState, hook: Hook, pkt: Packet) -> Call<'a> {
        Call { skb, state, hook, pkt, ct: OnceCell::new() }
    }

    /// The conntrack entry's original tuple (None: untracked, or no entry
    /// yet, as at PRE_ROUTING before conntrack), looked up on first use.
    pub(crate) fn ct(&self) -> Option<&CtOrig> {
        self.ct.get_or_init(|| self.skb.ct_orig()).as_ref()
    }

    /// The matching context with what `needs` asks for; what it does not
    /// ask for is left empty and never fetched (no device names, namespace
    /// 0, no conntrack). A rule or filter whose `needs` say it does not look
    /// at a field gives the same answer either way.
    pub(crate) fn ctx(&self, needs: Needs) -> Ctx<'_> {
        let net = needs.netns.then(|| self.state.net());
        Ctx {
            hook: self.hook,
            pkt: &self.pkt,
            ct: if needs.ct { self.ct() } else { None },
            iif: if needs.ifnames { self.state.in_dev().map(|d| d.name()) } else { None },
            oif: if needs.ifnames { self.state.out_dev().map(|d| d.name()) } else { None },
            netns: net.map_or(0, |n| n.inum()),
            host: net.is_some_and(|n| n.is_init()),
        }
    }

    /// Everything: what an event or a trace line reports.
    pub(crate) fn full_ctx(&self) -> Ctx<'_> {
        self.ctx(Needs { ct: true, ifnames: true, netns: true })
    }
}
