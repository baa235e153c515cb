// SPDX-License-Identifier: GPL-2.0
/*
 * dockfw C helpers: the kernel API that only exists as static inline
 * functions or macros (skb accessors, nf_ct_get, dev_net, RCU, ratelimit)
 * exported as real functions for the Rust side, plus the module parameters,
 * which the 6.12 Rust `module!` macro cannot declare. No policy lives here.
 */
#include <linux/srcu.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/siphash.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>
#include <linux/sched/clock.h>
#include <linux/timex.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_tuple.h>

#include "dockfw_helpers.h"

/* --- module parameters: read-only after load, except the two switches --- */
/* Not static: the hooks read it directly (one load, no call) on every packet. */
bool dockfw_trace_on;
static const struct kernel_param_ops dockfw_switch_ops;
#ifdef DOCKFW_MUTANT
/* A mutation-testing build (Kbuild: DOCKFW_MUTANT): says so in modinfo. */
MODULE_INFO(dockfw_mutant, DOCKFW_MUTANT);
#endif

module_param_cb(trace, &dockfw_switch_ops, &dockfw_trace_on, 0644);
MODULE_PARM_DESC(trace, "Print one rate-limited dmesg line per hook for packets matching the trace filter");

static ushort trace_ports[16];
static int trace_nports;
module_param_array(trace_ports, ushort, &trace_nports, 0444);
MODULE_PARM_DESC(trace_ports, "Trace filter: TCP/UDP packets whose source or destination port is listed (empty: all)");

static char *trace_addr;
module_param(trace_addr, charp, 0444);
MODULE_PARM_DESC(trace_addr, "Trace filter: only packets with this IPv4/IPv6 address as source or destination");

static bool trace_icmp = true;
module_param(trace_icmp, bool, 0444);
MODULE_PARM_DESC(trace_icmp, "Trace filter: also trace ICMP/ICMPv6 (a port filter does not apply to them)");

static int trace_burst = 200;
module_param(trace_burst, int, 0444);
MODULE_PARM_DESC(trace_burst, "dmesg trace: lines allowed per trace_interval_ms before suppression");

static int trace_interval_ms = 1000;
module_param(trace_interval_ms, int, 0444);
MODULE_PARM_DESC(trace_interval_ms, "dmesg trace: rate-limit interval in milliseconds");

/* Opt-in self-measurement: time every hook call (STATS_HOOK_*). Off, it
 * costs the hooks one load and a predicted branch. */
bool dockfw_hook_cost_on;
module_param_cb(hook_cost, &dockfw_switch_ops, &dockfw_hook_cost_on, 0644);
MODULE_PARM_DESC(hook_cost, "Measure the time and cycles spent in every hook call (dockfwctl stats: hook_*)");

/*
 * trace and hook_cost are switches that need dockfw's hooks at every hook
 * point of every namespace (dockfw registers hooks on demand). Writing one
 * first asks the Rust side to register (or release) them, then stores the
 * value, so a write that fails (no memory) leaves both the hooks and the
 * parameter as they were. Before module init is done, and from the start of
 * module exit, only the value is stored: init applies it (attach), exit does
 * not need it. dockfw_switches_live is read and written under the module's
 * parameter lock, which sysfs holds around ->set.
 */
int dockfw_switches_apply(bool trace, bool hook_cost);	/* defined in Rust */
static bool dockfw_switches_live;

static int dockfw_switch_set(const char *val, const struct kernel_param *kp)
{
	bool *flag = kp->arg;
	bool v, trace, cost;
	int err;

	/* "trace" alone on the insmod line means trace=1, as for bool. */
	err = kstrtobool(val ? val : "1", &v);
	if (err)
		return err;
	if (dockfw_switches_live) {
		trace = flag == &dockfw_trace_on ? v : READ_ONCE(dockfw_trace_on);
		cost = flag == &dockfw_hook_cost_on ? v : READ_ONCE(dockfw_hook_cost_on);
		err = dockfw_switches_apply(trace, cost);
		if (err)
			return err;
	}
	WRITE_ONCE(*flag, v);
	return 0;
}

static const struct kernel_param_ops dockfw_switch_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = dockfw_switch_set,
	.get = param_get_bool,
};

int dockfw_switches_attach(void)
{
	int err;

	kernel_param_lock(THIS_MODULE);
	err = dockfw_switches_apply(READ_ONCE(dockfw_trace_on), READ_ONCE(dockfw_hook_cost_on));
	if (!err)
		dockfw_switches_live = true;
	kernel_param_unlock(THIS_MODULE);
	return err;
}

void dockfw_switches_detach(void)
{
	kernel_param_lock(THIS_MODULE);
	dockfw_switches_live = false;
	kernel_param_unlock(THIS_MODULE);
}

static struct ratelimit_state dockfw_trace_rs;

void dockfw_helpers_init(void)
{
	ratelimit_state_init(&dockfw_trace_rs,
			     msecs_to_jiffies(max(trace_interval_ms, 1)),
			     max(trace_burst, 1));
}

int dockfw_param_trace_icmp(void) { return trace_icmp; }
const char *dockfw_param_trace_addr(void) { return trace_addr; }

int dockfw_param_trace_ports(u16 *ports, int max)
{
	int i, n = min(trace_nports, max);

	for (i = 0; i < n; i++)
		ports[i] = trace_ports[i];
	return n;
}

int dockfw_trace_ratelimit(void)
{
	/* ___ratelimit prints "N callbacks suppressed" when a window closes. */
	return __ratelimit(&dockfw_trace_rs);
}

/* --- sk_buff -------------------------------------------------------------- */
unsigned int dockfw_skb_len(const struct sk_buff *skb) { return skb->len; }
struct net_device *dockfw_skb_dev(const struct sk_buff *skb) { return skb->dev; }

/* The linear area (skb->data, skb_headlen() bytes) and, in *network, the
 * network header's offset from skb->data: what the hooks' parser reads in
 * place, with one call per packet. */
const void *dockfw_skb_linear(const struct sk_buff *skb, unsigned int *headlen, int *network)
{
	*headlen = skb_headlen(skb);
	*network = skb_network_offset(skb);
	return skb->data;
}

const void *dockfw_skb_header(const struct sk_buff *skb, int offset, int len, void *buf)
{
	if (offset < 0 || len < 0)
		return NULL;
	/* The bytes in place when they are all in the linear area (the usual
	 * case for headers); otherwise skb_copy_bits() gathers them from the
	 * paged fragments and the frag list into buf, and fails (NULL) rather
	 * than read past the end of the packet. */
	return skb_header_pointer(skb, offset, len, buf);
}

static siphash_key_t dockfw_skb_id_key;

u32 dockfw_skb_id(const struct sk_buff *skb)
{
	get_random_once(&dockfw_skb_id_key, sizeof(dockfw_skb_id_key));
	return (u32)siphash_1u64((u64)(unsigned long)skb, &dockfw_skb_id_key);
}

int dockfw_skb_ct_orig(const struct sk_buff *skb, struct dockfw_ct_tuple *out)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	const struct nf_conntrack_tuple *o, *r;

	if (!ct)
		return 0;
	o = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	r = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	memset(out, 0, sizeof(*out));
	out->family = o->src.l3num;
	out->protonum = o->dst.protonum;
	/* Raw enum ip_conntrack_info: 0 established, 1 related, 2 new,
	 * 3 established reply, 4 related reply. */
	out->state = ctinfo;
	/* A destination NAT rewrote the flow when the reply comes from another
	 * address or port than the original destination. */
	out->dnat = !nf_inet_addr_cmp(&o->dst.u3, &r->src.u3) ||
		    o->dst.u.all != r->src.u.all;
	memcpy(out->src, o->src.u3.all, sizeof(out->src));
	memcpy(out->dst, o->dst.u3.all, sizeof(out->dst));
	switch (o->dst.protonum) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		out->sport = o->src.u.all;
		out->dport = o->dst.u.all;
		break;
	}
	return 1;
#else
	return 0;
#endif
}

/* --- devices and namespaces ------------------------------------------------ */
struct net *dockfw_dev_net(const struct net_device *dev) { return dev_net(dev); }
const char *dockfw_dev_name(const struct net_device *dev) { return dev->name; }
int dockfw_dev_ifindex(const struct net_device *dev) { return dev->ifindex; }
unsigned int dockfw_net_inum(const struct net *net) { return net->ns.inum; }
int dockfw_net_is_init(const struct net *net) { return net_eq(net, &init_net); }

/* --- RCU -------------------------------------------------------------------- */
void dockfw_rcu_read_lock(void) { rcu_read_lock(); }
void dockfw_rcu_read_unlock(void) { rcu_read_unlock(); }
void *dockfw_rcu_dereference(void *const *slot) { return rcu_dereference(*(void __rcu *const *)slot); }
void dockfw_rcu_assign_pointer(void **slot, void *ptr) { rcu_assign_pointer(*(void __rcu **)slot, ptr); }
void dockfw_synchronize_rcu(void) { synchronize_rcu(); }

/* Readers of the module state that may sleep (netlink handlers, pernet,
 * parameter and notifier callbacks) hold this SRCU domain's read lock; the
 * state is freed only after synchronize_srcu(). Static SRCU in a module is
 * set up and torn down by the module loader's SRCU notifier. */
DEFINE_STATIC_SRCU(dockfw_state_srcu);
int dockfw_state_srcu_read_lock(void) { return srcu_read_lock(&dockfw_state_srcu); }
void dockfw_state_srcu_read_unlock(int idx) { srcu_read_unlock(&dockfw_state_srcu, idx); }
void dockfw_state_synchronize_srcu(void) { synchronize_srcu(&dockfw_state_srcu); }
int dockfw_cpu_id(void) { return raw_smp_processor_id(); }
unsigned int dockfw_nr_cpu_ids(void) { return nr_cpu_ids; }

/* --- clocks for the hook_cost measurement ----------------------------------- */
u64 dockfw_local_clock(void) { return local_clock(); }
u64 dockfw_get_cycles(void) { return (u64)get_cycles(); }

/* --- hooked_netns: how many namespaces dockfw follows (read-only) -------- */
size_t dockfw_hooked_netns(void);	/* defined in Rust */

static int dockfw_hooked_netns_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%zu\n", dockfw_hooked_netns());
}

static const struct kernel_param_ops dockfw_hooked_netns_ops = {
	.get = dockfw_hooked_netns_get,
};
module_param_cb(hooked_netns, &dockfw_hooked_netns_ops, NULL, 0444);
MODULE_PARM_DESC(hooked_netns, "Number of network namespaces dockfw follows (its hooks are registered in each where needed)");
