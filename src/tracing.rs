// SPDX-License-Identifier: GPL-2.0
//! The netlink trace stream: filters installed by `DOCKFW_CMD_TRACE_SET`,
//! owned by the socket that sent them, and one multicast event per hook a
//! matching packet crosses (group "trace").
//!
//! Cost model: the hooks a filter can match at are registered only while
//! someone may listen on the trace group (`hooks::update_trace`), so with no
//! filter, or with filters and nobody listening, the stream costs packets
//! nothing. Between the last listener leaving and the hooks being released,
//! the hooks answer from a cached "nobody listens" before anything is
//! parsed, and `emit` asks `genl_has_listeners` again. Events are allocated with GFP_ATOMIC and lost
//! (counted) rather than ever delaying a packet.

use crate::kernel_ext::genetlink::{Delivery, Message};
use crate::kernel_ext::netfilter::HookState;
use crate::kernel_ext::skb::SkBuff;
use crate::kernel_ext::uapi::*;
use crate::model::{Addr, Family, Hook, Verdict};
use crate::packet::{Packet, L4};
use crate::rules::{Ctx, Needs, Rule};
use crate::State;
use kernel::prelude::*;

/// At most this many filters in all, and per socket.
pub(crate) const MAX_FILTERS: usize = 256;
pub(crate) const MAX_FILTERS_PER_SOCKET: usize = 16;
/// Filter ids named in one event (the rest still match, unnamed).
const MAX_IDS_PER_EVENT: usize = 32;

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
}

impl Filters {
    pub(crate) fn empty() -> Filters {
        Filters { list: KVec::new(), next_id: 1 }
    }

    /// The (family, hook) pairs some filter can match at (`rules::hook_bit`);
    /// the hooks skip the trace stream at the others.
    pub(crate) fn hook_mask(&self) -> u16 {
        self.list.iter().fold(0, |m, f| m | f.matcher.as_ref().map_or(crate::rules::ALL_HOOK_BITS, |r| r.hook_mask()))
    }

    /// A copy without the filters `drop` selects.
    pub(crate) fn without(&self, drop: impl Fn(&Filter) -> bool) -> Result<KBox<Filters>> {
        let mut list = KVec::with_capacity(self.list.len(), GFP_KERNEL)?;
        for f in self.list.iter().filter(|f| !drop(f)) {
            list.push(*f, GFP_KERNEL)?;
        }
        Ok(KBox::new(Filters { list, next_id: self.next_id }, GFP_KERNEL)?)
    }
}

/// Emits an event for this hook if a filter matches. Softirq context.
pub(crate) fn emit(
    st: &State,
    skb: &SkBuff,
    state: &HookState,
    hook: Hook,
    pkt: &Packet,
    verdict: Verdict,
    rule: Option<u32>,
) {
    st.trace.read(|filters| {
        let Some(filters) = filters.filter(|f| !f.list.is_empty()) else { return };
        // Nobody listening: no conntrack lookup, no name copies, no matching.
        if !crate::netlink::DockfwFamily::events().has_listeners(GROUP_TRACE) {
            return;
        }
        // Match with only the context the filters look at (a filter on
        // ports needs no conntrack lookup and no device names); the event
        // gets the full context once some filter matched.
        let needs = filters.list.iter().filter_map(|f| f.matcher.as_ref()).fold(Needs::default(), |n, m| {
            let x = m.needs();
            Needs { ct: n.ct || x.ct, ifnames: n.ifnames || x.ifnames, netns: n.netns || x.netns }
        });
        let (ind, outd) = (state.in_dev(), state.out_dev());
        let net = state.net();
        let mut ct = if needs.ct { skb.ct_orig() } else { None };
        let ctx = Ctx {
            hook,
            pkt,
            ct: ct.as_ref(),
            iif: if needs.ifnames { ind.map(|d| d.name()) } else { None },
            oif: if needs.ifnames { outd.map(|d| d.name()) } else { None },
            netns: if needs.netns { net.inum() } else { 0 },
            host: needs.netns && net.is_init(),
        };
        // Every matching filter is named in the event, so that each trace
        // session (they share the multicast group) keeps only its own.
        let mut hits = [0u32; MAX_IDS_PER_EVENT];
        let mut n = 0;
        for f in filters.list.iter() {
            if n < hits.len()
                && f.matcher.as_ref().map_or(true, |m| m.matches(&ctx))
                && f.rule.map_or(true, |r| rule == Some(r))
            {
                hits[n] = f.id;
                n += 1;
            }
        }
        if n == 0 {
            return;
        }
        if !needs.ct {
            ct = skb.ct_orig();
        }
        let ctx = Ctx {
            hook,
            pkt,
            ct: ct.as_ref(),
            iif: ind.map(|d| d.name()),
            oif: outd.map(|d| d.name()),
            netns: net.inum(),
            host: net.is_init(),
        };
        let build = |m: &mut Message| -> Result {
            let nest = m.nest_start(A_EVENT)?;
            m.put_u64(EV_TIMESTAMP, now_ns(), EV_PAD)?;
            m.put_u32(EV_SKB_ID, skb.trace_id())?;
            m.put_u8(EV_HOOK, hook.index() as u8)?;
            m.put_u8(EV_FAMILY, if pkt.family == Family::Ipv4 { 2 } else { 10 })?;
            m.put_u32(EV_NETNS, ctx.netns)?;
            if ctx.host {
                m.put_flag(EV_NETNS_INIT)?;
            }
            if let (Some(d), Some(name)) = (ind, ctx.iif.as_ref()) {
                m.put_str(EV_IIFNAME, name.as_bytes())?;
                m.put_u32(EV_IIFINDEX, d.ifindex() as u32)?;
            }
            if let (Some(d), Some(name)) = (outd, ctx.oif.as_ref()) {
                m.put_str(EV_OIFNAME, name.as_bytes())?;
                m.put_u32(EV_OIFINDEX, d.ifindex() as u32)?;
            }
            m.put_u8(EV_PROTO, pkt.proto)?;
            m.put_bytes(EV_SADDR, pkt.saddr.bytes())?;
            m.put_bytes(EV_DADDR, pkt.daddr.bytes())?;
            match pkt.l4 {
                L4::Tcp { sport, dport, flags } => {
                    m.put_u16(EV_SPORT, sport)?;
                    m.put_u16(EV_DPORT, dport)?;
                    m.put_u8(EV_TCP_FLAGS, flags)?;
                }
                L4::Udp { sport, dport } => {
                    m.put_u16(EV_SPORT, sport)?;
                    m.put_u16(EV_DPORT, dport)?;
                }
                L4::Icmp { ty, code, id } => {
                    m.put_u8(EV_ICMP_TYPE, ty)?;
                    m.put_u8(EV_ICMP_CODE, code)?;
                    m.put_u16(EV_ICMP_ID, id)?;
                }
                _ => {}
            }
            m.put_u32(EV_IP_ID, pkt.ip_id)?;
            m.put_u32(EV_LEN, skb.len())?;
            if let Some(c) = &ct {
                m.put_u32(EV_CT_STATE, u32::from(c.state.bit()))?;
                if c.reply {
                    m.put_flag(EV_CT_REPLY)?;
                }
                if c.dnat {
                    m.put_flag(EV_CT_DNAT)?;
                }
                put_addr(m, EV_ORIG_SADDR, &c.src)?;
                put_addr(m, EV_ORIG_DADDR, &c.dst)?;
                m.put_u16(EV_ORIG_SPORT, c.sport)?;
                m.put_u16(EV_ORIG_DPORT, c.dport)?;
            }
            m.put_u8(EV_VERDICT, if verdict == Verdict::Drop { VERDICT_DROP } else { VERDICT_ACCEPT })?;
            if let Some(r) = rule {
                m.put_u32(EV_RULE_ID, r)?;
            }
            for &id in &hits[..n] {
                m.put_u32(EV_TRACE_ID, id)?;
            }
            m.nest_end(nest);
            Ok(())
        };
        match crate::netlink::DockfwFamily::events().multicast(GROUP_TRACE, CMD_TRACE_EVENT, 640, build) {
            Delivery::Sent => st.stats.count(|s| &s.trace_events),
            Delivery::Lost => st.stats.count(|s| &s.trace_lost),
            Delivery::NoListener => {}
        }
    });
}

fn put_addr(m: &mut Message, ty: u32, a: &Addr) -> Result {
    m.put_bytes(ty, a.bytes())
}
