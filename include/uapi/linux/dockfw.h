/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dockfw generic-netlink family: the single source of truth for its
 * commands, attributes, multicast groups and enums. The kernel module reads
 * it through its bindgen step, dockfwctl through its own build, and
 * Documentation/netlink/specs-style YAML in include/dockfw.yaml is checked
 * against it by a test.
 *
 * Requests: every command carries only the attributes listed for it; the
 * kernel validates them with a strict policy (unknown attributes, wrong
 * types and lengths, out-of-range values are rejected with an extended ACK
 * message) and changes nothing on error. Commands that change state need
 * CAP_NET_ADMIN in the initial user namespace. The family is not netnsok:
 * it exists only in the initial network namespace, since the rules apply to
 * every namespace on the host (a request from another namespace finds no
 * family, ENOENT).
 */
#ifndef _UAPI_LINUX_DOCKFW_H
#define _UAPI_LINUX_DOCKFW_H

#define DOCKFW_GENL_NAME	"dockfw"
#define DOCKFW_GENL_VERSION	1
#define DOCKFW_MCGRP_TRACE	"trace"

enum dockfw_cmd {
	DOCKFW_CMD_UNSPEC,
	DOCKFW_CMD_RULE_ADD,	/* RULE -> reply RULE_ID */
	DOCKFW_CMD_RULE_DEL,	/* RULE_ID */
	DOCKFW_CMD_RULE_GET,	/* do: RULE_ID -> RULE; dump: all RULEs in order */
	DOCKFW_CMD_FLUSH,	/* no attributes */
	DOCKFW_CMD_REPLACE,	/* PHASE [, RULE...] : staged atomic replace */
	DOCKFW_CMD_STATS_GET,	/* -> STATS */
	DOCKFW_CMD_POLICY_GET,	/* -> POLICY */
	DOCKFW_CMD_POLICY_SET,	/* POLICY */
	DOCKFW_CMD_TRACE_SET,	/* MATCH and/or TRACE_RULE -> reply TRACE_ID */
	DOCKFW_CMD_TRACE_CLEAR,	/* [TRACE_ID]: this socket's filters (all, or one) */
	DOCKFW_CMD_TRACE_EVENT,	/* multicast on "trace": EVENT */
	__DOCKFW_CMD_MAX,
};
#define DOCKFW_CMD_MAX (__DOCKFW_CMD_MAX - 1)

/* Top-level attributes. */
enum dockfw_attr {
	DOCKFW_A_UNSPEC,
	DOCKFW_A_VERSION,	/* u32: DOCKFW_GENL_VERSION, in every reply */
	DOCKFW_A_RULE,		/* nested: enum dockfw_rule_attr */
	DOCKFW_A_RULE_ID,	/* u32, >= 1 */
	DOCKFW_A_POLICY,	/* u8: enum dockfw_verdict (accept or drop) */
	DOCKFW_A_PHASE,		/* u8: enum dockfw_replace_phase */
	DOCKFW_A_STATS,		/* nested: enum dockfw_stats_attr */
	DOCKFW_A_RULES,		/* nested: a batch of DOCKFW_A_RULE (REPLACE append) */
	DOCKFW_A_MATCH,		/* nested: enum dockfw_rule_attr without verdict (trace filter) */
	DOCKFW_A_TRACE_RULE,	/* u32: trace packets this rule decided */
	DOCKFW_A_TRACE_ID,	/* u32, >= 1: a trace filter */
	DOCKFW_A_EVENT,		/* nested: enum dockfw_event_attr (replies only) */
	DOCKFW_A_GENERATION,	/* u32: on REPLACE BEGIN, COMMIT fails with EAGAIN
				 * if the ruleset's generation (STATS_GENERATION)
				 * is no longer this one: a read-modify-write that
				 * cannot lose a concurrent change */
	__DOCKFW_A_MAX,
};
#define DOCKFW_A_MAX (__DOCKFW_A_MAX - 1)

/* A rule: every match attribute present must hold (logical AND); an absent
 * one matches anything. */
enum dockfw_rule_attr {
	DOCKFW_RA_UNSPEC,
	DOCKFW_RA_ID,		/* u32: set by the kernel on add, given on replace */
	DOCKFW_RA_PRIORITY,	/* u32: lower first; ties in id order (default 1000) */
	DOCKFW_RA_VERDICT,	/* u8: enum dockfw_verdict (required) */
	DOCKFW_RA_HOOKS,	/* u32: mask of enum dockfw_hook (default: all five) */
	DOCKFW_RA_FAMILY,	/* u8: NFPROTO_IPV4 or NFPROTO_IPV6 */
	DOCKFW_RA_PROTO,	/* u8: IPPROTO_* */
	DOCKFW_RA_SADDR,	/* binary, 4 or 16 bytes */
	DOCKFW_RA_SPREFIX,	/* u8: prefix length of SADDR */
	DOCKFW_RA_DADDR,	/* binary, 4 or 16 bytes */
	DOCKFW_RA_DPREFIX,	/* u8 */
	DOCKFW_RA_SPORT_MIN,	/* u16: source port range, host order */
	DOCKFW_RA_SPORT_MAX,	/* u16 */
	DOCKFW_RA_DPORT_MIN,	/* u16 */
	DOCKFW_RA_DPORT_MAX,	/* u16 */
	DOCKFW_RA_IIFNAME,	/* string, < IFNAMSIZ, trailing '+' = prefix */
	DOCKFW_RA_OIFNAME,	/* string */
	DOCKFW_RA_NETNS,	/* u32: netns inode number where the hook runs; 0 = any */
	DOCKFW_RA_NETNS_HOST,	/* flag: only in the initial namespace */
	DOCKFW_RA_CTSTATE,	/* u32: mask of enum dockfw_ctstate */
	DOCKFW_RA_ORIG_DADDR,	/* binary, 4 or 16: conntrack original destination */
	DOCKFW_RA_ORIG_DPREFIX,	/* u8 */
	DOCKFW_RA_ORIG_DPORT_MIN, /* u16: conntrack original destination port */
	DOCKFW_RA_ORIG_DPORT_MAX, /* u16 */
	DOCKFW_RA_COMMENT,	/* string, < 64 bytes: shown back by list */
	DOCKFW_RA_PACKETS,	/* u64: counter (replies only) */
	DOCKFW_RA_BYTES,	/* u64: counter (replies only) */
	DOCKFW_RA_PAD,
	/* Containers the rule was written against (Docker name or id, optional
	 * "@network"; < 64 bytes). The kernel does not resolve them: the sender
	 * puts the current address into SADDR/DADDR (a host prefix) or the
	 * namespace into NETNS, or sets INACTIVE. They come back in dumps. */
	DOCKFW_RA_SRC_CONTAINER,	/* string: SADDR is this container's */
	DOCKFW_RA_DST_CONTAINER,	/* string: DADDR is this container's */
	DOCKFW_RA_NETNS_CONTAINER,	/* string: NETNS is this container's */
	DOCKFW_RA_INACTIVE,	/* flag: the named container is not running;
				 * the rule matches nothing */
	__DOCKFW_RA_MAX,
};
#define DOCKFW_RA_MAX (__DOCKFW_RA_MAX - 1)

enum dockfw_verdict {
	DOCKFW_VERDICT_ACCEPT,
	DOCKFW_VERDICT_DROP,
	DOCKFW_VERDICT_LOG,	/* log (rate-limited) and go on with the next rule */
	__DOCKFW_VERDICT_MAX,
};

enum dockfw_ctstate {
	DOCKFW_CTSTATE_NEW		= 1 << 0,
	DOCKFW_CTSTATE_ESTABLISHED	= 1 << 1,
	DOCKFW_CTSTATE_RELATED		= 1 << 2,
	DOCKFW_CTSTATE_UNTRACKED	= 1 << 3,
};
#define DOCKFW_CTSTATE_ALL 0xf

/* The bits of DOCKFW_RA_HOOKS: 1 << NF_INET_* of each hook point. */
enum dockfw_hook {
	DOCKFW_HOOK_PREROUTING		= 1 << 0,
	DOCKFW_HOOK_INPUT		= 1 << 1,
	DOCKFW_HOOK_FORWARD		= 1 << 2,
	DOCKFW_HOOK_OUTPUT		= 1 << 3,
	DOCKFW_HOOK_POSTROUTING		= 1 << 4,
};

enum dockfw_replace_phase {
	DOCKFW_REPLACE_BEGIN,	/* start staging for this socket */
	DOCKFW_REPLACE_APPEND,	/* add DOCKFW_A_RULES to the staged set */
	DOCKFW_REPLACE_COMMIT,	/* publish the staged set atomically */
	DOCKFW_REPLACE_ABORT,	/* drop the staged set */
	__DOCKFW_REPLACE_MAX,
};

enum dockfw_stats_attr {
	DOCKFW_STATS_UNSPEC,
	DOCKFW_STATS_RULES,		/* u32 */
	DOCKFW_STATS_HOOKED_NETNS,	/* u32: network namespaces followed */
	DOCKFW_STATS_GENERATION,	/* u32: bumped by every ruleset change */
	DOCKFW_STATS_PACKETS,		/* u64: hook calls that had work to do (a
					 * rule, trace filter or drop policy for
					 * their hook, or the dmesg trace on) */
	DOCKFW_STATS_MATCHED,		/* u64: packets a rule decided */
	DOCKFW_STATS_DROPPED,		/* u64: packets dropped */
	DOCKFW_STATS_MALFORMED,		/* u64: headers that did not parse */
	DOCKFW_STATS_PAD,
	DOCKFW_STATS_TRACE_FILTERS,	/* u32: trace filters installed */
	DOCKFW_STATS_TRACE_EVENTS,	/* u64: trace events delivered */
	DOCKFW_STATS_TRACE_LOST,	/* u64: events lost (no memory, listener full) */
	/* Only counted with the module parameter hook_cost=1: */
	DOCKFW_STATS_HOOK_CALLS,	/* u64: hook calls timed */
	DOCKFW_STATS_HOOK_NS,		/* u64: their total time, ns (local_clock) */
	DOCKFW_STATS_HOOK_CYCLES,	/* u64: their total cycles (get_cycles; 0 if none) */
	DOCKFW_STATS_HOOKS_REGISTERED,	/* u32: netfilter hooks registered, summed
					 * over the namespaces (hooks are
					 * registered only where a rule, trace
					 * filter, drop policy or switch needs
					 * them) */
	__DOCKFW_STATS_MAX,
};
#define DOCKFW_STATS_MAX (__DOCKFW_STATS_MAX - 1)

/*
 * Trace events, multicast on the "trace" group (joining it needs
 * CAP_NET_ADMIN). A filter is installed with TRACE_SET and belongs to the
 * socket that sent it: TRACE_CLEAR, or closing that socket, removes it.
 * Events are only built while someone listens and a filter matches; they
 * are allocated atomically and dropped (and counted in TRACE_LOST) rather
 * than ever delaying a packet.
 */
enum dockfw_event_attr {
	DOCKFW_EV_UNSPEC,
	DOCKFW_EV_TIMESTAMP,	/* u64: ns, CLOCK_REALTIME */
	DOCKFW_EV_SKB_ID,	/* u32: same for every hook one skb crosses */
	DOCKFW_EV_HOOK,		/* u8: NF_INET_* */
	DOCKFW_EV_FAMILY,	/* u8: NFPROTO_IPV4 or NFPROTO_IPV6 */
	DOCKFW_EV_NETNS,	/* u32: inode of the namespace the hook runs in */
	DOCKFW_EV_NETNS_INIT,	/* flag: that namespace is the initial one */
	DOCKFW_EV_IIFNAME,	/* string */
	DOCKFW_EV_IIFINDEX,	/* u32 */
	DOCKFW_EV_OIFNAME,	/* string */
	DOCKFW_EV_OIFINDEX,	/* u32 */
	DOCKFW_EV_PROTO,	/* u8 */
	DOCKFW_EV_SADDR,	/* binary, 4 or 16 */
	DOCKFW_EV_DADDR,	/* binary, 4 or 16 */
	DOCKFW_EV_SPORT,	/* u16 */
	DOCKFW_EV_DPORT,	/* u16 */
	DOCKFW_EV_TCP_FLAGS,	/* u8 */
	DOCKFW_EV_ICMP_TYPE,	/* u8 */
	DOCKFW_EV_ICMP_CODE,	/* u8 */
	DOCKFW_EV_ICMP_ID,	/* u16 */
	DOCKFW_EV_IP_ID,	/* u32 */
	DOCKFW_EV_LEN,		/* u32: skb->len */
	DOCKFW_EV_CT_STATE,	/* u32: one DOCKFW_CTSTATE_* bit */
	DOCKFW_EV_CT_REPLY,	/* flag: reply direction of its flow */
	DOCKFW_EV_CT_DNAT,	/* flag: the flow's destination was NATed */
	DOCKFW_EV_ORIG_SADDR,	/* binary: conntrack original tuple */
	DOCKFW_EV_ORIG_DADDR,	/* binary */
	DOCKFW_EV_ORIG_SPORT,	/* u16 */
	DOCKFW_EV_ORIG_DPORT,	/* u16 */
	DOCKFW_EV_VERDICT,	/* u8: enum dockfw_verdict (accept or drop) */
	DOCKFW_EV_RULE_ID,	/* u32: the deciding rule; absent: default policy */
	DOCKFW_EV_TRACE_ID,	/* u32, repeated: every filter that matched */
	DOCKFW_EV_PAD,
	__DOCKFW_EV_MAX,
};
#define DOCKFW_EV_MAX (__DOCKFW_EV_MAX - 1)

#endif /* _UAPI_LINUX_DOCKFW_H */
