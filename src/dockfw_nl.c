// SPDX-License-Identifier: GPL-2.0
/*
 * dockfw generic netlink: wrappers of the static inline netlink/genetlink
 * helpers for the Rust safe layer (src/kernel_ext/genetlink.rs). The
 * request policies and the split-ops table are generated from the spec
 * (src/dockfw_nl_gen.c, from include/dockfw.yaml); the handlers that table
 * names are exported by the Rust safe layer, and the family itself is
 * registered from Rust.
 *
 * Validation is strict: for every operation with a request, the core
 * checks the message against that operation's own policy (unknown and
 * unlisted attributes, wrong types and lengths, out-of-range values are
 * refused) before any handler runs; an operation without a request takes
 * no attributes at all (dockfw_nl_no_attrs).
 */
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <linux/notifier.h>
#include <linux/timekeeping.h>
#include <uapi/linux/dockfw.h>

#include "dockfw_helpers.h"
#include "dockfw_nl_gen.h"

/* --- requests ----------------------------------------------------------- */
/* An operation whose spec has no request has no policy in the generated
 * table (maxattr 0), and for such an operation the genl core does not parse
 * the payload at all: attributes would be silently ignored. Refuse them, as
 * the policy of an operation with a request refuses unlisted ones. */
int dockfw_nl_no_attrs(struct genl_info *info)
{
	if (info->attrs || genlmsg_len(info->genlhdr) == 0)
		return 0;
	NL_SET_ERR_MSG(info->extack, "this command takes no attributes");
	return -EINVAL;
}

/* The same for a dump without a request policy (rule-get's dump). */
int dockfw_nl_dump_no_attrs(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *di = genl_dumpit_info(cb);

	if (di->info.attrs || nlmsg_len(cb->nlh) <= GENL_HDRLEN)
		return 0;
	NL_SET_ERR_MSG(cb->extack, "this command takes no attributes");
	return -EINVAL;
}

/* The request's attribute `type`, or NULL. With split ops the core parses
 * into a table of the operation's own maxattr + 1 slots (none at all for an
 * operation without a request policy: attrs is NULL), so the bound is the
 * operation's, looked up in the generated table, not DOCKFW_A_MAX. */
struct nlattr *dockfw_info_attr(const struct genl_info *info, int type)
{
	u8 cmd = info->genlhdr->cmd;
	int i;

	if (!info->attrs || type < 0)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(dockfw_nl_ops); i++)
		if (dockfw_nl_ops[i].cmd == cmd && (dockfw_nl_ops[i].flags & GENL_CMD_CAP_DO))
			return type <= dockfw_nl_ops[i].maxattr ? info->attrs[type] : NULL;
	return NULL;
}

u32 dockfw_info_portid(const struct genl_info *info) { return info->snd_portid; }

void dockfw_info_set_msg(struct genl_info *info, const char *msg, size_t len)
{
	struct netlink_ext_ack *extack = info->extack;

	if (!extack)
		return;
	/* Copied into the ack's own buffer: msg need not be NUL-terminated or
	 * outlive this call. */
	snprintf(extack->_msg_buf, sizeof(extack->_msg_buf), "%.*s", (int)len, msg);
	extack->_msg = extack->_msg_buf;
}

/* Parses a DOCKFW_A_RULE (or an element of DOCKFW_A_RULES) into tb, which
 * has DOCKFW_RA_MAX + 1 slots; validated against the rule policy again. */
int dockfw_parse_rule(struct nlattr **tb, const struct nlattr *nla, struct genl_info *info)
{
	return nla_parse_nested(tb, DOCKFW_RA_MAX, nla, dockfw_rule_nl_policy,
				info ? info->extack : NULL);
}

/* Iterates the nested elements of a DOCKFW_A_RULES array: *rem must start
 * at -1; returns the next element or NULL. */
struct nlattr *dockfw_nla_next_nested(const struct nlattr *parent, struct nlattr *prev, int *rem)
{
	struct nlattr *nla;

	if (*rem < 0) {
		nla = nla_data(parent);
		*rem = nla_len(parent);
	} else {
		nla = nla_next(prev, rem);
	}
	return nla_ok(nla, *rem) ? nla : NULL;
}

const void *dockfw_nla_data(const struct nlattr *nla) { return nla_data(nla); }
int dockfw_nla_len(const struct nlattr *nla) { return nla_len(nla); }

/* --- replies ------------------------------------------------------------ */
struct sk_buff *dockfw_genlmsg_new(size_t payload) { return genlmsg_new(payload, GFP_KERNEL); }
void dockfw_kfree_skb(struct sk_buff *skb) { nlmsg_free(skb); }

void *dockfw_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
			       const struct genl_family *family, u8 cmd)
{
	return genlmsg_put_reply(skb, info, family, 0, cmd);
}

void dockfw_genlmsg_end(struct sk_buff *skb, void *hdr) { genlmsg_end(skb, hdr); }
void dockfw_genlmsg_cancel(struct sk_buff *skb, void *hdr) { genlmsg_cancel(skb, hdr); }
int dockfw_genlmsg_reply(struct sk_buff *skb, struct genl_info *info) { return genlmsg_reply(skb, info); }

int dockfw_nla_put(struct sk_buff *skb, int type, const void *data, int len)
{
	return nla_put(skb, type, len, data);
}

int dockfw_nla_put_u64(struct sk_buff *skb, int type, u64 v, int pad)
{
	return nla_put_u64_64bit(skb, type, v, pad);
}

struct nlattr *dockfw_nla_nest_start(struct sk_buff *skb, int type) { return nla_nest_start(skb, type); }
void dockfw_nla_nest_end(struct sk_buff *skb, struct nlattr *start) { nla_nest_end(skb, start); }
void dockfw_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start) { nla_nest_cancel(skb, start); }

/* --- dumps -------------------------------------------------------------- */
void *dockfw_dump_put(struct sk_buff *skb, struct netlink_callback *cb,
		      const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   family, NLM_F_MULTI, cmd);
}

long *dockfw_dump_args(struct netlink_callback *cb) { return cb->args; }

/* Flags the dump as interrupted (NLM_F_DUMP_INTR) when the ruleset's
 * generation changed between two parts of one dump. */
void dockfw_dump_check_consistent(struct netlink_callback *cb, void *hdr, u32 generation)
{
	cb->seq = generation;
	genl_dump_check_consistent(cb, hdr);
}

u8 dockfw_info_cmd(const struct genl_info *info) { return info->genlhdr->cmd; }
const struct genl_family *dockfw_info_family(const struct genl_info *info) { return info->family; }

u8 dockfw_dump_cmd(struct netlink_callback *cb)
{
	return genl_dumpit_info(cb)->op.cmd;
}

const struct genl_family *dockfw_dump_family(struct netlink_callback *cb)
{
	return genl_dumpit_info(cb)->info.family;
}

/* --- trace events (multicast from the hooks, atomic context) -------------- */
int dockfw_genl_has_listeners(const struct genl_family *family, unsigned int group)
{
	/* The family is not netnsok: listeners can only be in init_net. */
	return genl_has_listeners(family, &init_net, group);
}

struct sk_buff *dockfw_genlmsg_new_atomic(size_t payload)
{
	return genlmsg_new(payload, GFP_ATOMIC);
}

void *dockfw_genlmsg_put_event(struct sk_buff *skb, const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, 0, 0, family, 0, cmd);
}

/* Ends and sends the message (consumes skb). -ESRCH: nobody listened;
 * -ENOBUFS: some listener's receive queue was full and it lost the event. */
int dockfw_genlmsg_multicast(const struct genl_family *family, struct sk_buff *skb,
			     void *hdr, unsigned int group)
{
	genlmsg_end(skb, hdr);
	return genlmsg_multicast(family, skb, 0, group, GFP_ATOMIC);
}

u64 dockfw_now_ns(void) { return ktime_get_real_ns(); }

/* --- socket release: a netlink notifier ------------------------------------ */
/* Returns 1 and the port id when a generic netlink socket in init_net is
 * being released (NETLINK_URELEASE), so per-socket state can be dropped. */
int dockfw_netlink_release_portid(unsigned long event, void *ptr, u32 *portid)
{
	const struct netlink_notify *n = ptr;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return 0;
	*portid = n->portid;
	return 1;
}
