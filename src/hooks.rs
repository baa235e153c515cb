// SPDX-License-Identifier: GPL-2.0
//! The packet hooks: IPv4 and IPv6 at PRE_ROUTING, LOCAL_IN, FORWARD,
//! LOCAL_OUT and POST_ROUTING with priority NF_IP_PRI_FIRST (before
//! conntrack and NAT), in every network namespace. Each call parses the
//! headers once, traces the packet if asked, and returns the verdict.
//! Runs in softirq context: no sleeping, no allocation, no unbounded printk.

use crate::kernel_ext::net::Net;
use crate::kernel_ext::netfilter::{HookSpec, HookState, PacketHook, PRIORITY_FIRST};
use crate::kernel_ext::skb::SkBuff;
use crate::model::{Family, Hook, Verdict};
use crate::kernel_ext::uapi::VERDICT_DROP;
use crate::packet::{self, Packet};
use crate::rules::{Action, Ctx};
use crate::ruleset::Ruleset;
use crate::State;
use core::sync::atomic::{AtomicUsize, Ordering};

pub(crate) struct DockfwHooks;

const fn spec(family: Family, hook: Hook) -> HookSpec {
    HookSpec { family, hook, priority: PRIORITY_FIRST }
}

/// Namespaces the hooks are currently registered in (init_net included).
pub(crate) static HOOKED_NETNS: AtomicUsize = AtomicUsize::new(0);

impl PacketHook for DockfwHooks {
    const HOOKS: &'static [HookSpec] = &[
        spec(Family::Ipv4, Hook::PreRouting),
        spec(Family::Ipv4, Hook::LocalIn),
        spec(Family::Ipv4, Hook::Forward),
        spec(Family::Ipv4, Hook::LocalOut),
        spec(Family::Ipv4, Hook::PostRouting),
        spec(Family::Ipv6, Hook::PreRouting),
        spec(Family::Ipv6, Hook::LocalIn),
        spec(Family::Ipv6, Hook::Forward),
        spec(Family::Ipv6, Hook::LocalOut),
        spec(Family::Ipv6, Hook::PostRouting),
    ];

    fn hook(skb: &SkBuff, state: &HookState) -> Verdict {
        let (Some(hook), Some(family)) = (state.hook(), state.family()) else {
            return Verdict::Accept;
        };
        crate::STATE
            .read(|st| on_packet(st, skb, state, hook, family))
            .unwrap_or(Verdict::Accept)
    }

    fn net_init(_net: &Net) {
        HOOKED_NETNS.fetch_add(1, Ordering::Relaxed);
    }

    fn net_exit(_net: &Net) {
        HOOKED_NETNS.fetch_sub(1, Ordering::Relaxed);
    }
}

fn on_packet(st: &State, skb: &SkBuff, state: &HookState, hook: Hook, family: Family) -> Verdict {
    st.stats.count(|s| &s.packets);
    let pkt = match packet::parse(skb, skb.network_offset(), family) {
        Ok(p) => p,
        // Not ours to judge: the IP stack drops malformed headers itself.
        Err(_) => {
            st.stats.count(|s| &s.malformed);
            return Verdict::Accept;
        }
    };
    let (verdict, rule) = st.rules.read(|rs| decide(st, rs, skb, state, hook, &pkt));
    if verdict == Verdict::Drop {
        st.stats.count(|s| &s.dropped);
    }
    crate::trace::log(&st.trace_filter, skb, state, hook, &pkt, format_args!("{}", Decision(verdict, rule)));
    crate::tracing::emit(st, skb, state, hook, &pkt, verdict, rule);
    verdict
}

/// ` verdict=accept rule=3` (or `rule=-` when the default policy decided).
struct Decision(Verdict, Option<u32>);

impl core::fmt::Display for Decision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = if self.0 == Verdict::Drop { "drop" } else { "accept" };
        match self.1 {
            Some(id) => write!(f, " verdict={v} rule={id}"),
            None => write!(f, " verdict={v} rule=-"),
        }
    }
}

fn decide(
    st: &State,
    rs: Option<&Ruleset>,
    skb: &SkBuff,
    state: &HookState,
    hook: Hook,
    pkt: &Packet,
) -> (Verdict, Option<u32>) {
    let policy = if st.policy.load(Ordering::Relaxed) == VERDICT_DROP { Verdict::Drop } else { Verdict::Accept };
    let Some(rs) = rs.filter(|rs| rs.len() > 0) else {
        return (policy, None);
    };
    // Only pay for what some rule looks at.
    let ct = if rs.needs.ct { skb.ct_orig() } else { None };
    let (iif, oif) = if rs.needs.ifnames {
        (state.in_dev().map(|d| d.name()), state.out_dev().map(|d| d.name()))
    } else {
        (None, None)
    };
    let (netns, host) = if rs.needs.netns {
        let net = state.net();
        (net.inum(), net.is_init())
    } else {
        (0, false)
    };
    let ctx = Ctx { hook, pkt, ct: ct.as_ref(), iif, oif, netns, host };
    let len = skb.len();
    let found = rs.table().eval(&ctx, |pos| {
        rs.counters(pos).add(len);
        crate::trace::log_rule(rs.rules()[pos].id, skb, state, hook, pkt);
    });
    match found {
        Some(pos) => {
            rs.counters(pos).add(len);
            st.stats.count(|s| &s.matched);
            let r = &rs.rules()[pos];
            let v = if r.action == Action::Drop { Verdict::Drop } else { Verdict::Accept };
            (v, Some(r.id))
        }
        None => (policy, None),
    }
}
