// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	include/dockfw.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "dockfw_nl_gen.h"

#include <uapi/linux/dockfw.h>

/* Common nested types */
const struct nla_policy dockfw_match_nl_policy[DOCKFW_RA_ORIG_DPORT_MAX + 1] = {
	[DOCKFW_RA_HOOKS] = NLA_POLICY_MASK(NLA_U32, 0x1f),
	[DOCKFW_RA_FAMILY] = { .type = NLA_U8, },
	[DOCKFW_RA_PROTO] = { .type = NLA_U8, },
	[DOCKFW_RA_SADDR] = { .type = NLA_BINARY, },
	[DOCKFW_RA_SPREFIX] = NLA_POLICY_MAX(NLA_U8, 128),
	[DOCKFW_RA_DADDR] = { .type = NLA_BINARY, },
	[DOCKFW_RA_DPREFIX] = NLA_POLICY_MAX(NLA_U8, 128),
	[DOCKFW_RA_SPORT_MIN] = { .type = NLA_U16, },
	[DOCKFW_RA_SPORT_MAX] = { .type = NLA_U16, },
	[DOCKFW_RA_DPORT_MIN] = { .type = NLA_U16, },
	[DOCKFW_RA_DPORT_MAX] = { .type = NLA_U16, },
	[DOCKFW_RA_IIFNAME] = { .type = NLA_NUL_STRING, .len = 16, },
	[DOCKFW_RA_OIFNAME] = { .type = NLA_NUL_STRING, .len = 16, },
	[DOCKFW_RA_NETNS] = NLA_POLICY_MIN(NLA_U32, 1),
	[DOCKFW_RA_NETNS_HOST] = { .type = NLA_FLAG, },
	[DOCKFW_RA_CTSTATE] = NLA_POLICY_MASK(NLA_U32, 0xf),
	[DOCKFW_RA_ORIG_DADDR] = { .type = NLA_BINARY, },
	[DOCKFW_RA_ORIG_DPREFIX] = NLA_POLICY_MAX(NLA_U8, 128),
	[DOCKFW_RA_ORIG_DPORT_MIN] = { .type = NLA_U16, },
	[DOCKFW_RA_ORIG_DPORT_MAX] = { .type = NLA_U16, },
};

const struct nla_policy dockfw_rule_nl_policy[DOCKFW_RA_INACTIVE + 1] = {
	[DOCKFW_RA_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[DOCKFW_RA_PRIORITY] = { .type = NLA_U32, },
	[DOCKFW_RA_VERDICT] = NLA_POLICY_MAX(NLA_U8, 2),
	[DOCKFW_RA_HOOKS] = NLA_POLICY_MASK(NLA_U32, 0x1f),
	[DOCKFW_RA_FAMILY] = { .type = NLA_U8, },
	[DOCKFW_RA_PROTO] = { .type = NLA_U8, },
	[DOCKFW_RA_SADDR] = { .type = NLA_BINARY, },
	[DOCKFW_RA_SPREFIX] = NLA_POLICY_MAX(NLA_U8, 128),
	[DOCKFW_RA_DADDR] = { .type = NLA_BINARY, },
	[DOCKFW_RA_DPREFIX] = NLA_POLICY_MAX(NLA_U8, 128),
	[DOCKFW_RA_SPORT_MIN] = { .type = NLA_U16, },
	[DOCKFW_RA_SPORT_MAX] = { .type = NLA_U16, },
	[DOCKFW_RA_DPORT_MIN] = { .type = NLA_U16, },
	[DOCKFW_RA_DPORT_MAX] = { .type = NLA_U16, },
	[DOCKFW_RA_IIFNAME] = { .type = NLA_NUL_STRING, .len = 16, },
	[DOCKFW_RA_OIFNAME] = { .type = NLA_NUL_STRING, .len = 16, },
	[DOCKFW_RA_NETNS] = NLA_POLICY_MIN(NLA_U32, 1),
	[DOCKFW_RA_NETNS_HOST] = { .type = NLA_FLAG, },
	[DOCKFW_RA_CTSTATE] = NLA_POLICY_MASK(NLA_U32, 0xf),
	[DOCKFW_RA_ORIG_DADDR] = { .type = NLA_BINARY, },
	[DOCKFW_RA_ORIG_DPREFIX] = NLA_POLICY_MAX(NLA_U8, 128),
	[DOCKFW_RA_ORIG_DPORT_MIN] = { .type = NLA_U16, },
	[DOCKFW_RA_ORIG_DPORT_MAX] = { .type = NLA_U16, },
	[DOCKFW_RA_COMMENT] = { .type = NLA_NUL_STRING, .len = 63, },
	[DOCKFW_RA_PACKETS] = { .type = NLA_U64, },
	[DOCKFW_RA_BYTES] = { .type = NLA_U64, },
	[DOCKFW_RA_SRC_CONTAINER] = { .type = NLA_NUL_STRING, .len = 63, },
	[DOCKFW_RA_DST_CONTAINER] = { .type = NLA_NUL_STRING, .len = 63, },
	[DOCKFW_RA_NETNS_CONTAINER] = { .type = NLA_NUL_STRING, .len = 63, },
	[DOCKFW_RA_INACTIVE] = { .type = NLA_FLAG, },
};

const struct nla_policy dockfw_rule_batch_nl_policy[DOCKFW_A_RULE + 1] = {
	[DOCKFW_A_RULE] = NLA_POLICY_NESTED(dockfw_rule_nl_policy),
};

/* DOCKFW_CMD_RULE_ADD - do */
static const struct nla_policy dockfw_rule_add_nl_policy[DOCKFW_A_RULE + 1] = {
	[DOCKFW_A_RULE] = NLA_POLICY_NESTED(dockfw_rule_nl_policy),
};

/* DOCKFW_CMD_RULE_DEL - do */
static const struct nla_policy dockfw_rule_del_nl_policy[DOCKFW_A_RULE_ID + 1] = {
	[DOCKFW_A_RULE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* DOCKFW_CMD_RULE_GET - do */
static const struct nla_policy dockfw_rule_get_nl_policy[DOCKFW_A_RULE_ID + 1] = {
	[DOCKFW_A_RULE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* DOCKFW_CMD_REPLACE - do */
static const struct nla_policy dockfw_replace_nl_policy[DOCKFW_A_GENERATION + 1] = {
	[DOCKFW_A_PHASE] = NLA_POLICY_MAX(NLA_U8, 3),
	[DOCKFW_A_RULES] = NLA_POLICY_NESTED(dockfw_rule_batch_nl_policy),
	[DOCKFW_A_GENERATION] = { .type = NLA_U32, },
};

/* DOCKFW_CMD_POLICY_SET - do */
static const struct nla_policy dockfw_policy_set_nl_policy[DOCKFW_A_POLICY + 1] = {
	[DOCKFW_A_POLICY] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* DOCKFW_CMD_TRACE_SET - do */
static const struct nla_policy dockfw_trace_set_nl_policy[DOCKFW_A_TRACE_RULE + 1] = {
	[DOCKFW_A_MATCH] = NLA_POLICY_NESTED(dockfw_match_nl_policy),
	[DOCKFW_A_TRACE_RULE] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* DOCKFW_CMD_TRACE_CLEAR - do */
static const struct nla_policy dockfw_trace_clear_nl_policy[DOCKFW_A_TRACE_ID + 1] = {
	[DOCKFW_A_TRACE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* Ops table for dockfw */
const struct genl_split_ops dockfw_nl_ops[11] = {
	{
		.cmd		= DOCKFW_CMD_RULE_ADD,
		.doit		= dockfw_nl_rule_add_doit,
		.policy		= dockfw_rule_add_nl_policy,
		.maxattr	= DOCKFW_A_RULE,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= DOCKFW_CMD_RULE_DEL,
		.doit		= dockfw_nl_rule_del_doit,
		.policy		= dockfw_rule_del_nl_policy,
		.maxattr	= DOCKFW_A_RULE_ID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= DOCKFW_CMD_RULE_GET,
		.doit		= dockfw_nl_rule_get_doit,
		.policy		= dockfw_rule_get_nl_policy,
		.maxattr	= DOCKFW_A_RULE_ID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= DOCKFW_CMD_RULE_GET,
		.dumpit	= dockfw_nl_rule_get_dumpit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= DOCKFW_CMD_FLUSH,
		.doit	= dockfw_nl_flush_doit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= DOCKFW_CMD_REPLACE,
		.doit		= dockfw_nl_replace_doit,
		.policy		= dockfw_replace_nl_policy,
		.maxattr	= DOCKFW_A_GENERATION,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= DOCKFW_CMD_STATS_GET,
		.doit	= dockfw_nl_stats_get_doit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= DOCKFW_CMD_POLICY_GET,
		.doit	= dockfw_nl_policy_get_doit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= DOCKFW_CMD_POLICY_SET,
		.doit		= dockfw_nl_policy_set_doit,
		.policy		= dockfw_policy_set_nl_policy,
		.maxattr	= DOCKFW_A_POLICY,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= DOCKFW_CMD_TRACE_SET,
		.doit		= dockfw_nl_trace_set_doit,
		.policy		= dockfw_trace_set_nl_policy,
		.maxattr	= DOCKFW_A_TRACE_RULE,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= DOCKFW_CMD_TRACE_CLEAR,
		.doit		= dockfw_nl_trace_clear_doit,
		.policy		= dockfw_trace_clear_nl_policy,
		.maxattr	= DOCKFW_A_TRACE_ID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group dockfw_nl_mcgrps[] = {
	[DOCKFW_NLGRP_TRACE] = { "trace", },
};
