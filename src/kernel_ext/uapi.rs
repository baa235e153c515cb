// SPDX-License-Identifier: GPL-2.0
//! The uAPI constants of the dockfw family (include/uapi/linux/dockfw.h,
//! generated from include/dockfw.yaml), as bindgen reads them, under short
//! names for the business code.

use super::bindings as b;

pub(crate) const VERSION: u32 = b::DOCKFW_GENL_VERSION;

pub(crate) const CMD_RULE_ADD: u8 = b::dockfw_cmd_DOCKFW_CMD_RULE_ADD as u8;
pub(crate) const CMD_RULE_DEL: u8 = b::dockfw_cmd_DOCKFW_CMD_RULE_DEL as u8;
pub(crate) const CMD_RULE_GET: u8 = b::dockfw_cmd_DOCKFW_CMD_RULE_GET as u8;
pub(crate) const CMD_FLUSH: u8 = b::dockfw_cmd_DOCKFW_CMD_FLUSH as u8;
pub(crate) const CMD_REPLACE: u8 = b::dockfw_cmd_DOCKFW_CMD_REPLACE as u8;
pub(crate) const CMD_STATS_GET: u8 = b::dockfw_cmd_DOCKFW_CMD_STATS_GET as u8;
pub(crate) const CMD_POLICY_GET: u8 = b::dockfw_cmd_DOCKFW_CMD_POLICY_GET as u8;
pub(crate) const CMD_POLICY_SET: u8 = b::dockfw_cmd_DOCKFW_CMD_POLICY_SET as u8;
pub(crate) const CMD_TRACE_SET: u8 = b::dockfw_cmd_DOCKFW_CMD_TRACE_SET as u8;
pub(crate) const CMD_TRACE_CLEAR: u8 = b::dockfw_cmd_DOCKFW_CMD_TRACE_CLEAR as u8;
pub(crate) const CMD_TRACE_EVENT: u8 = b::dockfw_cmd_DOCKFW_CMD_TRACE_EVENT as u8;

pub(crate) const A_VERSION: u32 = b::dockfw_attr_DOCKFW_A_VERSION;
pub(crate) const A_RULE: u32 = b::dockfw_attr_DOCKFW_A_RULE;
pub(crate) const A_RULE_ID: u32 = b::dockfw_attr_DOCKFW_A_RULE_ID;
pub(crate) const A_POLICY: u32 = b::dockfw_attr_DOCKFW_A_POLICY;
pub(crate) const A_PHASE: u32 = b::dockfw_attr_DOCKFW_A_PHASE;
pub(crate) const A_STATS: u32 = b::dockfw_attr_DOCKFW_A_STATS;
pub(crate) const A_RULES: u32 = b::dockfw_attr_DOCKFW_A_RULES;
pub(crate) const A_MATCH: u32 = b::dockfw_attr_DOCKFW_A_MATCH;
pub(crate) const A_TRACE_RULE: u32 = b::dockfw_attr_DOCKFW_A_TRACE_RULE;
pub(crate) const A_TRACE_ID: u32 = b::dockfw_attr_DOCKFW_A_TRACE_ID;
pub(crate) const A_EVENT: u32 = b::dockfw_attr_DOCKFW_A_EVENT;
pub(crate) const A_GENERATION: u32 = b::dockfw_attr_DOCKFW_A_GENERATION;

pub(crate) const RA_ID: u32 = b::dockfw_rule_attr_DOCKFW_RA_ID;
pub(crate) const RA_PRIORITY: u32 = b::dockfw_rule_attr_DOCKFW_RA_PRIORITY;
pub(crate) const RA_VERDICT: u32 = b::dockfw_rule_attr_DOCKFW_RA_VERDICT;
pub(crate) const RA_HOOKS: u32 = b::dockfw_rule_attr_DOCKFW_RA_HOOKS;
pub(crate) const RA_FAMILY: u32 = b::dockfw_rule_attr_DOCKFW_RA_FAMILY;
pub(crate) const RA_PROTO: u32 = b::dockfw_rule_attr_DOCKFW_RA_PROTO;
pub(crate) const RA_SADDR: u32 = b::dockfw_rule_attr_DOCKFW_RA_SADDR;
pub(crate) const RA_SPREFIX: u32 = b::dockfw_rule_attr_DOCKFW_RA_SPREFIX;
pub(crate) const RA_DADDR: u32 = b::dockfw_rule_attr_DOCKFW_RA_DADDR;
pub(crate) const RA_DPREFIX: u32 = b::dockfw_rule_attr_DOCKFW_RA_DPREFIX;
pub(crate) const RA_SPORT_MIN: u32 = b::dockfw_rule_attr_DOCKFW_RA_SPORT_MIN;
pub(crate) const RA_SPORT_MAX: u32 = b::dockfw_rule_attr_DOCKFW_RA_SPORT_MAX;
pub(crate) const RA_DPORT_MIN: u32 = b::dockfw_rule_attr_DOCKFW_RA_DPORT_MIN;
pub(crate) const RA_DPORT_MAX: u32 = b::dockfw_rule_attr_DOCKFW_RA_DPORT_MAX;
pub(crate) const RA_IIFNAME: u32 = b::dockfw_rule_attr_DOCKFW_RA_IIFNAME;
pub(crate) const RA_OIFNAME: u32 = b::dockfw_rule_attr_DOCKFW_RA_OIFNAME;
pub(crate) const RA_NETNS: u32 = b::dockfw_rule_attr_DOCKFW_RA_NETNS;
pub(crate) const RA_NETNS_HOST: u32 = b::dockfw_rule_attr_DOCKFW_RA_NETNS_HOST;
pub(crate) const RA_CTSTATE: u32 = b::dockfw_rule_attr_DOCKFW_RA_CTSTATE;
pub(crate) const RA_ORIG_DADDR: u32 = b::dockfw_rule_attr_DOCKFW_RA_ORIG_DADDR;
pub(crate) const RA_ORIG_DPREFIX: u32 = b::dockfw_rule_attr_DOCKFW_RA_ORIG_DPREFIX;
pub(crate) const RA_ORIG_DPORT_MIN: u32 = b::dockfw_rule_attr_DOCKFW_RA_ORIG_DPORT_MIN;
pub(crate) const RA_ORIG_DPORT_MAX: u32 = b::dockfw_rule_attr_DOCKFW_RA_ORIG_DPORT_MAX;
pub(crate) const RA_COMMENT: u32 = b::dockfw_rule_attr_DOCKFW_RA_COMMENT;
pub(crate) const RA_PACKETS: u32 = b::dockfw_rule_attr_DOCKFW_RA_PACKETS;
pub(crate) const RA_BYTES: u32 = b::dockfw_rule_attr_DOCKFW_RA_BYTES;
pub(crate) const RA_PAD: u32 = b::dockfw_rule_attr_DOCKFW_RA_PAD;
pub(crate) const RA_SRC_CONTAINER: u32 = b::dockfw_rule_attr_DOCKFW_RA_SRC_CONTAINER;
pub(crate) const RA_DST_CONTAINER: u32 = b::dockfw_rule_attr_DOCKFW_RA_DST_CONTAINER;
pub(crate) const RA_NETNS_CONTAINER: u32 = b::dockfw_rule_attr_DOCKFW_RA_NETNS_CONTAINER;
pub(crate) const RA_INACTIVE: u32 = b::dockfw_rule_attr_DOCKFW_RA_INACTIVE;

pub(crate) const VERDICT_ACCEPT: u8 = b::dockfw_verdict_DOCKFW_VERDICT_ACCEPT as u8;
pub(crate) const VERDICT_DROP: u8 = b::dockfw_verdict_DOCKFW_VERDICT_DROP as u8;
pub(crate) const VERDICT_LOG: u8 = b::dockfw_verdict_DOCKFW_VERDICT_LOG as u8;

pub(crate) const REPLACE_BEGIN: u8 = b::dockfw_replace_phase_DOCKFW_REPLACE_BEGIN as u8;
pub(crate) const REPLACE_APPEND: u8 = b::dockfw_replace_phase_DOCKFW_REPLACE_APPEND as u8;
pub(crate) const REPLACE_COMMIT: u8 = b::dockfw_replace_phase_DOCKFW_REPLACE_COMMIT as u8;
pub(crate) const REPLACE_ABORT: u8 = b::dockfw_replace_phase_DOCKFW_REPLACE_ABORT as u8;

pub(crate) const STATS_RULES: u32 = b::dockfw_stats_attr_DOCKFW_STATS_RULES;
pub(crate) const STATS_HOOKED_NETNS: u32 = b::dockfw_stats_attr_DOCKFW_STATS_HOOKED_NETNS;
pub(crate) const STATS_GENERATION: u32 = b::dockfw_stats_attr_DOCKFW_STATS_GENERATION;
pub(crate) const STATS_PACKETS: u32 = b::dockfw_stats_attr_DOCKFW_STATS_PACKETS;
pub(crate) const STATS_MATCHED: u32 = b::dockfw_stats_attr_DOCKFW_STATS_MATCHED;
pub(crate) const STATS_DROPPED: u32 = b::dockfw_stats_attr_DOCKFW_STATS_DROPPED;
pub(crate) const STATS_MALFORMED: u32 = b::dockfw_stats_attr_DOCKFW_STATS_MALFORMED;
pub(crate) const STATS_PAD: u32 = b::dockfw_stats_attr_DOCKFW_STATS_PAD;
pub(crate) const STATS_TRACE_FILTERS: u32 = b::dockfw_stats_attr_DOCKFW_STATS_TRACE_FILTERS;
pub(crate) const STATS_TRACE_EVENTS: u32 = b::dockfw_stats_attr_DOCKFW_STATS_TRACE_EVENTS;
pub(crate) const STATS_TRACE_LOST: u32 = b::dockfw_stats_attr_DOCKFW_STATS_TRACE_LOST;
pub(crate) const STATS_HOOK_CALLS: u32 = b::dockfw_stats_attr_DOCKFW_STATS_HOOK_CALLS;
pub(crate) const STATS_HOOK_NS: u32 = b::dockfw_stats_attr_DOCKFW_STATS_HOOK_NS;
pub(crate) const STATS_HOOK_CYCLES: u32 = b::dockfw_stats_attr_DOCKFW_STATS_HOOK_CYCLES;
pub(crate) const STATS_HOOKS_REGISTERED: u32 = b::dockfw_stats_attr_DOCKFW_STATS_HOOKS_REGISTERED;

pub(crate) const EV_TIMESTAMP: u32 = b::dockfw_event_attr_DOCKFW_EV_TIMESTAMP;
pub(crate) const EV_SKB_ID: u32 = b::dockfw_event_attr_DOCKFW_EV_SKB_ID;
pub(crate) const EV_HOOK: u32 = b::dockfw_event_attr_DOCKFW_EV_HOOK;
pub(crate) const EV_FAMILY: u32 = b::dockfw_event_attr_DOCKFW_EV_FAMILY;
pub(crate) const EV_NETNS: u32 = b::dockfw_event_attr_DOCKFW_EV_NETNS;
pub(crate) const EV_NETNS_INIT: u32 = b::dockfw_event_attr_DOCKFW_EV_NETNS_INIT;
pub(crate) const EV_IIFNAME: u32 = b::dockfw_event_attr_DOCKFW_EV_IIFNAME;
pub(crate) const EV_IIFINDEX: u32 = b::dockfw_event_attr_DOCKFW_EV_IIFINDEX;
pub(crate) const EV_OIFNAME: u32 = b::dockfw_event_attr_DOCKFW_EV_OIFNAME;
pub(crate) const EV_OIFINDEX: u32 = b::dockfw_event_attr_DOCKFW_EV_OIFINDEX;
pub(crate) const EV_PROTO: u32 = b::dockfw_event_attr_DOCKFW_EV_PROTO;
pub(crate) const EV_SADDR: u32 = b::dockfw_event_attr_DOCKFW_EV_SADDR;
pub(crate) const EV_DADDR: u32 = b::dockfw_event_attr_DOCKFW_EV_DADDR;
pub(crate) const EV_SPORT: u32 = b::dockfw_event_attr_DOCKFW_EV_SPORT;
pub(crate) const EV_DPORT: u32 = b::dockfw_event_attr_DOCKFW_EV_DPORT;
pub(crate) const EV_TCP_FLAGS: u32 = b::dockfw_event_attr_DOCKFW_EV_TCP_FLAGS;
pub(crate) const EV_ICMP_TYPE: u32 = b::dockfw_event_attr_DOCKFW_EV_ICMP_TYPE;
pub(crate) const EV_ICMP_CODE: u32 = b::dockfw_event_attr_DOCKFW_EV_ICMP_CODE;
pub(crate) const EV_ICMP_ID: u32 = b::dockfw_event_attr_DOCKFW_EV_ICMP_ID;
pub(crate) const EV_IP_ID: u32 = b::dockfw_event_attr_DOCKFW_EV_IP_ID;
pub(crate) const EV_LEN: u32 = b::dockfw_event_attr_DOCKFW_EV_LEN;
pub(crate) const EV_CT_STATE: u32 = b::dockfw_event_attr_DOCKFW_EV_CT_STATE;
pub(crate) const EV_CT_REPLY: u32 = b::dockfw_event_attr_DOCKFW_EV_CT_REPLY;
pub(crate) const EV_CT_DNAT: u32 = b::dockfw_event_attr_DOCKFW_EV_CT_DNAT;
pub(crate) const EV_ORIG_SADDR: u32 = b::dockfw_event_attr_DOCKFW_EV_ORIG_SADDR;
pub(crate) const EV_ORIG_DADDR: u32 = b::dockfw_event_attr_DOCKFW_EV_ORIG_DADDR;
pub(crate) const EV_ORIG_SPORT: u32 = b::dockfw_event_attr_DOCKFW_EV_ORIG_SPORT;
pub(crate) const EV_ORIG_DPORT: u32 = b::dockfw_event_attr_DOCKFW_EV_ORIG_DPORT;
pub(crate) const EV_VERDICT: u32 = b::dockfw_event_attr_DOCKFW_EV_VERDICT;
pub(crate) const EV_RULE_ID: u32 = b::dockfw_event_attr_DOCKFW_EV_RULE_ID;
pub(crate) const EV_TRACE_ID: u32 = b::dockfw_event_attr_DOCKFW_EV_TRACE_ID;
pub(crate) const EV_PAD: u32 = b::dockfw_event_attr_DOCKFW_EV_PAD;

/// Multicast group index of "trace" in the family's group list (the
/// generated `DOCKFW_NLGRP_TRACE`).
pub(crate) const GROUP_TRACE: u32 = b::DOCKFW_NLGRP_TRACE;

/// Wall-clock time in nanoseconds (CLOCK_REALTIME), for event timestamps.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: reads the clock; callable from any context.
    unsafe { b::dockfw_now_ns() }
}

// The conntrack state bits of the uAPI are the model's `CtState::bit()`.
const _: () = {
    use crate::pure::model::CtState;
    assert!(CtState::New.bit() as u32 == b::dockfw_ctstate_DOCKFW_CTSTATE_NEW);
    assert!(CtState::Established.bit() as u32 == b::dockfw_ctstate_DOCKFW_CTSTATE_ESTABLISHED);
    assert!(CtState::Related.bit() as u32 == b::dockfw_ctstate_DOCKFW_CTSTATE_RELATED);
    assert!(CtState::Untracked.bit() as u32 == b::dockfw_ctstate_DOCKFW_CTSTATE_UNTRACKED);
};

/// The current CPU's number (a hint for per-CPU counters: the task may
/// migrate right after, so counters updated with it must be atomic).
pub(crate) fn cpu_id() -> usize {
    // SAFETY: reads the current CPU number; no other effect.
    unsafe { b::dockfw_cpu_id() as usize }
}

/// `local_clock()`: nanoseconds, monotonic on one CPU (as fine as the
/// kernel's sched_clock; jiffies granularity if the TSC is unusable).
#[inline]
pub(crate) fn local_clock_ns() -> u64 {
    // SAFETY: reads the clock; callable from any context, no side effect.
    unsafe { b::dockfw_local_clock() }
}

/// `get_cycles()`: the CPU's cycle counter (the TSC on x86), 0 if the
/// architecture has none.
#[inline]
pub(crate) fn cycles() -> u64 {
    // SAFETY: reads the cycle counter; callable from any context.
    unsafe { b::dockfw_get_cycles() }
}

/// `jiffies`: the tick counter (HZ per second), wrapping. One load, no
/// call: the hooks' fast path reads it.
#[inline(always)]
pub(crate) fn jiffies() -> usize {
    // SAFETY: `jiffies` is the kernel's word-sized tick counter, written by
    // the timer tick and read locklessly everywhere; a volatile load is
    // READ_ONCE(jiffies).
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(b::jiffies)) as usize }
}

/// Number of possible CPU ids.
pub(crate) fn nr_cpu_ids() -> usize {
    // SAFETY: reads a variable fixed at boot.
    unsafe { b::dockfw_nr_cpu_ids() as usize }
}
