// SPDX-License-Identifier: GPL-2.0
//! The netlink trace stream's data path: one multicast event (group
//! "trace") per hook a packet crosses when one of the installed filters
//! (`stream_filters`) matches it, naming every filter that did, so that
//! each session keeps only its own.
//!
//! Cost model: the hooks a filter can match at are registered only while
//! someone may listen on the trace group (`demand::Demand::update_trace`),
//! so with no filter, or with filters and nobody listening, the stream costs
//! packets nothing. Between the last listener leaving and the hooks being
//! released, the hooks answer from a cached "nobody listens" before
//! anything is parsed, and `emit` asks `genl_has_listeners` again. Events
//! are allocated with GFP_ATOMIC and lost (counted) rather than ever
//! delaying a packet.

use crate::call::Call;
use crate::kernel_ext::genetlink::{Delivery, Message};
use crate::kernel_ext::uapi::*;
use crate::pure::model::{Addr, Family, Verdict};
use crate::pure::packet::L4;
use crate::state::State;
use crate::stream_filters::EVENTS;
use kernel::prelude::*;

/// Filter ids named in one event (the rest still match, unnamed).
const MAX_IDS_PER_EVENT: usize = 32;

/// Emits an event for this hook if a filter matches. Softirq context.
pub(crate) fn emit(st: &State, call: &Call<'_>, verdict: Verdict, rule: Option<u32>) {
    st.stream_filters.read(|filters| {
        let Some(filters) = filters.filter(|f| !f.list.is_empty()) else { return };
        // Nobody listening: no conntrack lookup, no name copies, no matching.
        if !EVENTS.has_listeners(GROUP_TRACE) {
            return;
        }
        // Match with only the context the filters look at (a filter on
        // ports needs no conntrack lookup and no device names); the event
        // gets the full context once some filter matched.
        let ctx = call.ctx(filters.needs());
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
        let ctx = call.full_ctx();
        let (skb, pkt, hook, ct) = (call.skb, &call.pkt, call.hook, ctx.ct);
        let (ind, outd) = (call.state.in_dev(), call.state.out_dev());
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
            if let Some(c) = ct {
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
        match EVENTS.multicast(GROUP_TRACE, CMD_TRACE_EVENT, 640, build) {
            Delivery::Sent => st.stats.count(|s| &s.trace_events),
            Delivery::Lost => st.stats.count(|s| &s.trace_lost),
            Delivery::NoListener => {}
        }
    });
}

fn put_addr(m: &mut Message, ty: u32, a: &Addr) -> Result {
    m.put_bytes(ty, a.bytes())
}
