/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bindgen input for dockfw.ko: the kernel headers whose types and functions
 * the Rust safe layer (src/kernel_ext) wraps, plus the dockfw C helpers.
 * Kbuild runs bindgen on this file with the kernel's own C flags; only the
 * items allowlisted there are generated, and the big kernel structures
 * (sk_buff, net, net_device) are kept opaque.
 */
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include <uapi/linux/dockfw.h>

#include "../src/dockfw_helpers.h"
/* The generated per-operation policies, split-ops table and multicast
 * group indices (from include/dockfw.yaml). */
#include "../src/dockfw_nl_gen.h"

/* Kernel constants defined with macros bindgen cannot evaluate (BIT()). */
enum dockfw_kconsts {
	DOCKFW_K_MCAST_CAP_NET_ADMIN = GENL_MCAST_CAP_NET_ADMIN,
};
