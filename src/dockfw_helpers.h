/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dockfw C helpers: real functions around the kernel's static inline helpers
 * and macros (skb accessors, dev_net, RCU primitives, rate limiting, module
 * parameters) so that the Rust side can call them. Every symbol is prefixed
 * dockfw_. Nothing here holds policy: the Rust safe layer wraps these calls.
 */
#ifndef DOCKFW_HELPERS_H
#define DOCKFW_HELPERS_H

#include <linux/types.h>

struct sk_buff;
struct net;
struct net_device;
struct genl_info;
struct genl_family;

/* Called once from module init, before any hook is registered. */
void dockfw_helpers_init(void);

/* --- sk_buff ----------------------------------------------------------- */
unsigned int dockfw_skb_len(const struct sk_buff *skb);
/* The linear area: skb->data, its length (skb_headlen) in *headlen and the
 * network header's offset from skb->data in *network. */
const void *dockfw_skb_linear(const struct sk_buff *skb, unsigned int *headlen, int *network);
/* skb_header_pointer(): len bytes at offset (relative to skb->data), in
 * place in the linear area or copied into buf; NULL past the packet's end. */
const void *dockfw_skb_header(const struct sk_buff *skb, int offset, int len, void *buf);
struct net_device *dockfw_skb_dev(const struct sk_buff *skb);
/* A per-boot keyed hash of the skb address: follows one skb across hooks
 * without printing a kernel pointer. */
u32 dockfw_skb_id(const struct sk_buff *skb);

/* Conntrack original-direction tuple of the skb's entry, if any. */
struct dockfw_ct_tuple {
	u8 family;	/* NFPROTO_IPV4 or NFPROTO_IPV6 */
	u8 protonum;	/* IPPROTO_* */
	u8 state;	/* enum ip_conntrack_info of this skb */
	u8 dnat;	/* the reply tuple shows a destination change */
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
};
/* Returns 1 and fills *out when the skb carries a conntrack entry. */
int dockfw_skb_ct_orig(const struct sk_buff *skb, struct dockfw_ct_tuple *out);

/* --- devices and namespaces -------------------------------------------- */
struct net *dockfw_dev_net(const struct net_device *dev);
const char *dockfw_dev_name(const struct net_device *dev);
int dockfw_dev_ifindex(const struct net_device *dev);
unsigned int dockfw_net_inum(const struct net *net);
int dockfw_net_is_init(const struct net *net);

/* --- RCU ---------------------------------------------------------------- */
void dockfw_rcu_read_lock(void);
void dockfw_rcu_read_unlock(void);
void *dockfw_rcu_dereference(void *const *slot);
void dockfw_rcu_assign_pointer(void **slot, void *ptr);
void dockfw_synchronize_rcu(void);
/* The module state's sleepable readers (kernel_ext/global.rs): one SRCU
 * domain, defined static in dockfw_helpers.c. */
int dockfw_state_srcu_read_lock(void);
void dockfw_state_srcu_read_unlock(int idx);
void dockfw_state_synchronize_srcu(void);

/* --- rate limiting and parameters ---------------------------------------- */
/* 1 if a dmesg trace line may be printed now (burst/interval from params). */
int dockfw_trace_ratelimit(void);
/* The `trace` and `hook_cost` parameters themselves (bool, 0644), for a
 * plain READ_ONCE-style load from the hooks. */
extern bool dockfw_trace_on;
extern bool dockfw_hook_cost_on;
/* From module init, once the hooks can be registered: applies the two
 * switches' current values (dockfw_switches_apply) and from then on every
 * write of one. Returns 0 or -errno. */
int dockfw_switches_attach(void);
/* From module exit, before the state the switches act on goes away: later
 * writes only store the value. */
void dockfw_switches_detach(void);
/* local_clock() (ns, per CPU) and get_cycles() (TSC on x86; 0 if none). */
u64 dockfw_local_clock(void);
u64 dockfw_get_cycles(void);
int dockfw_param_trace_icmp(void);
/* Fills ports (up to max), returns how many were given at load time. */
int dockfw_param_trace_ports(u16 *ports, int max);
/* The trace_addr parameter as a NUL-terminated string, or NULL if unset. */
const char *dockfw_param_trace_addr(void);
int dockfw_cpu_id(void);

int dockfw_genl_has_listeners(const struct genl_family *family, unsigned int group);
struct sk_buff *dockfw_genlmsg_new_atomic(size_t payload);
void *dockfw_genlmsg_put_event(struct sk_buff *skb, const struct genl_family *family, u8 cmd);
int dockfw_genlmsg_multicast(const struct genl_family *family, struct sk_buff *skb,
			     void *hdr, unsigned int group);
u64 dockfw_now_ns(void);
int dockfw_netlink_release_portid(unsigned long event, void *ptr, u32 *portid);


/* --- generic netlink (dockfw_nl.c) -------------------------------------- */
struct nlattr;
struct nla_policy;
struct netlink_callback;

int dockfw_nl_no_attrs(struct genl_info *info);
int dockfw_nl_dump_no_attrs(struct netlink_callback *cb);
struct nlattr *dockfw_info_attr(const struct genl_info *info, int type);
u32 dockfw_info_portid(const struct genl_info *info);
void dockfw_info_set_msg(struct genl_info *info, const char *msg, size_t len);
int dockfw_parse_rule(struct nlattr **tb, const struct nlattr *nla, struct genl_info *info);
struct nlattr *dockfw_nla_next_nested(const struct nlattr *parent, struct nlattr *prev, int *rem);
const void *dockfw_nla_data(const struct nlattr *nla);
int dockfw_nla_len(const struct nlattr *nla);
struct sk_buff *dockfw_genlmsg_new(size_t payload);
void dockfw_kfree_skb(struct sk_buff *skb);
void *dockfw_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
			       const struct genl_family *family, u8 cmd);
void dockfw_genlmsg_end(struct sk_buff *skb, void *hdr);
void dockfw_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int dockfw_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
int dockfw_nla_put(struct sk_buff *skb, int type, const void *data, int len);
int dockfw_nla_put_u64(struct sk_buff *skb, int type, u64 v, int pad);
struct nlattr *dockfw_nla_nest_start(struct sk_buff *skb, int type);
void dockfw_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void dockfw_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);
void *dockfw_dump_put(struct sk_buff *skb, struct netlink_callback *cb,
		      const struct genl_family *family, u8 cmd);
long *dockfw_dump_args(struct netlink_callback *cb);
void dockfw_dump_check_consistent(struct netlink_callback *cb, void *hdr, u32 generation);
unsigned int dockfw_nr_cpu_ids(void);
u8 dockfw_info_cmd(const struct genl_info *info);
const struct genl_family *dockfw_info_family(const struct genl_info *info);
u8 dockfw_dump_cmd(struct netlink_callback *cb);
const struct genl_family *dockfw_dump_family(struct netlink_callback *cb);

#endif /* DOCKFW_HELPERS_H */
