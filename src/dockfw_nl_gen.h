/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	include/dockfw.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_DOCKFW_GEN_H
#define _LINUX_DOCKFW_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/dockfw.h>

/* Common nested types */
extern const struct nla_policy dockfw_match_nl_policy[DOCKFW_RA_ORIG_DPORT_MAX + 1];
extern const struct nla_policy dockfw_rule_nl_policy[DOCKFW_RA_INACTIVE + 1];
extern const struct nla_policy dockfw_rule_batch_nl_policy[DOCKFW_A_RULE + 1];

/* Ops table for dockfw */
extern const struct genl_split_ops dockfw_nl_ops[11];

int dockfw_nl_rule_add_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_rule_del_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_rule_get_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_rule_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int dockfw_nl_flush_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_replace_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_policy_get_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_policy_set_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_trace_set_doit(struct sk_buff *skb, struct genl_info *info);
int dockfw_nl_trace_clear_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	DOCKFW_NLGRP_TRACE,
};

#endif /* _LINUX_DOCKFW_GEN_H */
