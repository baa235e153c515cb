// SPDX-License-Identifier: GPL-2.0
//! Network namespaces (`struct net`) and network devices (`struct
//! net_device`), borrowed for the duration of a hook or a pernet callback.

use super::bindings;
use crate::pure::model::IfName;
use kernel::types::Opaque;

/// A network namespace.
///
/// # Invariants
///
/// A `&Net` always points to a live `struct net`: it is only created from
/// pointers that the kernel passes to a hook or a pernet callback, and it is
/// not allowed to outlive that call.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// # Safety
    ///
    /// `ptr` must point to a live `struct net` that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `struct net`, and the
        // caller guarantees the pointee is alive for `'a`.
        unsafe { &*ptr.cast::<Net>() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// The namespace's inode number (`ns.inum`), as `ls -l /proc/PID/ns/net`
    /// shows it. init_net is 4026531840 (`PROC_NET_INIT_INO`).
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: by the type invariant the namespace is alive; `ns.inum` is
        // set before the namespace is published and never changes after.
        unsafe { bindings::dockfw_net_inum(self.as_ptr()) }
    }

    /// Whether this is the initial (host) network namespace.
    pub(crate) fn is_init(&self) -> bool {
        // SAFETY: by the type invariant the namespace is alive.
        unsafe { bindings::dockfw_net_is_init(self.as_ptr()) != 0 }
    }
}

/// A network device.
///
/// # Invariants
///
/// A `&NetDevice` points to a live `struct net_device`, borrowed from a hook
/// state or an skb for the duration of the hook call (netfilter holds the
/// RCU read lock, and the device cannot be freed before a grace period).
#[repr(transparent)]
pub(crate) struct NetDevice(Opaque<bindings::net_device>);

impl NetDevice {
    /// # Safety
    ///
    /// `ptr` must point to a live `struct net_device` for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a NetDevice {
        // SAFETY: transparent wrapper; liveness guaranteed by the caller.
        unsafe { &*ptr.cast::<NetDevice>() }
    }

    fn as_ptr(&self) -> *const bindings::net_device {
        self.0.get()
    }

    /// The device name, copied (a rename under RTNL may race with a hook, so
    /// the bytes are copied once and always NUL-terminated).
    pub(crate) fn name(&self) -> IfName {
        let mut n = IfName::default();
        // SAFETY: by the type invariant the device is alive; `dev->name` is an
        // `IFNAMSIZ` array inside it, so reading 16 bytes stays in bounds.
        let p = unsafe { bindings::dockfw_dev_name(self.as_ptr()) };
        for (i, b) in n.0.iter_mut().take(15).enumerate() {
            // SAFETY: `p` points to `IFNAMSIZ` (16) readable bytes; a volatile
            // read of each tolerates a concurrent rename without tearing UB.
            *b = unsafe { core::ptr::read_volatile(p.cast::<u8>().add(i)) };
        }
        if let Some(end) = n.0.iter().position(|&c| c == 0) {
            n.0[end..].fill(0);
        }
        n
    }

    pub(crate) fn ifindex(&self) -> i32 {
        // SAFETY: by the type invariant the device is alive.
        unsafe { bindings::dockfw_dev_ifindex(self.as_ptr()) }
    }

    /// The namespace the device lives in.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: a device holds a reference on its namespace for as long as
        // it lives, so the namespace outlives this borrow of the device.
        unsafe { Net::from_raw(bindings::dockfw_dev_net(self.as_ptr())) }
    }
}
