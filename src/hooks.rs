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
use crate::packet;
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
    let pkt = match packet::parse(skb, skb.network_offset(), family) {
        Ok(p) => p,
        // Not ours to judge: the IP stack drops malformed headers itself.
        Err(_) => return Verdict::Accept,
    };
    crate::trace::log(&st.trace_filter, skb, state, hook, &pkt, format_args!(""));
    Verdict::Accept
}
