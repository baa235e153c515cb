// SPDX-License-Identifier: GPL-2.0
//! Netfilter hooks registered in every network namespace.
//!
//! Since Linux 4.13 netfilter hooks are per namespace: `nf_register_net_hooks`
//! only covers the namespace it is given. To see every packet a module must
//! therefore register a pernet subsystem whose `init` runs for init_net, for
//! every namespace that exists at registration time, and for every namespace
//! created later, and whose `pre_exit` unregisters the hooks before the
//! namespace is dismantled (the same place iptables' tables unhook).
//!
//! Lifecycle: `PernetHooks::register` → `register_pernet_subsys` → `init` in
//! each namespace → hooks live; drop → `unregister_pernet_subsys` →
//! `pre_exit` in each namespace → `nf_unregister_net_hooks` (which waits for
//! in-flight hook calls with `synchronize_net`) → `exit`.

use super::bindings;
use super::net::{Net, NetDevice};
use super::skb::SkBuff;
use crate::model::{Family, Hook, Verdict};
use core::ffi::{c_int, c_uint, c_void};
use core::marker::PhantomData;
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{to_result, Result};
use kernel::types::Opaque;

/// Hook priority of `NF_IP_PRI_FIRST`: before conntrack, NAT and every table.
pub(crate) const PRIORITY_FIRST: i32 = bindings::nf_ip_hook_priorities_NF_IP_PRI_FIRST;

/// Largest number of hooks one `PacketHook` may ask for (5 per family).
pub(crate) const MAX_HOOKS: usize = 10;

/// One hook to register: family, hook point, priority.
#[derive(Clone, Copy)]
pub(crate) struct HookSpec {
    pub(crate) family: Family,
    pub(crate) hook: Hook,
    pub(crate) priority: i32,
}

const fn family_raw(f: Family) -> u8 {
    match f {
        Family::Ipv4 => bindings::NFPROTO_IPV4 as u8,
        Family::Ipv6 => bindings::NFPROTO_IPV6 as u8,
    }
}

// The model's hook numbers are the uAPI values; check them against the
// headers this module was built with.
const _: () = {
    assert!(Hook::PreRouting as u32 == bindings::nf_inet_hooks_NF_INET_PRE_ROUTING);
    assert!(Hook::LocalIn as u32 == bindings::nf_inet_hooks_NF_INET_LOCAL_IN);
    assert!(Hook::Forward as u32 == bindings::nf_inet_hooks_NF_INET_FORWARD);
    assert!(Hook::LocalOut as u32 == bindings::nf_inet_hooks_NF_INET_LOCAL_OUT);
    assert!(Hook::PostRouting as u32 == bindings::nf_inet_hooks_NF_INET_POST_ROUTING);
};

/// The state netfilter passes to a hook.
///
/// # Invariants
///
/// Points to the live `struct nf_hook_state` of the current hook call.
#[repr(transparent)]
pub(crate) struct HookState(Opaque<bindings::nf_hook_state>);

impl HookState {
    /// # Safety
    ///
    /// `ptr` must point to a valid hook state that outlives `'a`.
    unsafe fn from_raw<'a>(ptr: *const bindings::nf_hook_state) -> &'a HookState {
        // SAFETY: transparent wrapper; validity guaranteed by the caller.
        unsafe { &*ptr.cast::<HookState>() }
    }

    fn raw(&self) -> &bindings::nf_hook_state {
        // SAFETY: by the type invariant the state is valid, and netfilter does
        // not modify it while the hook runs.
        unsafe { &*self.0.get() }
    }

    /// The namespace whose hook list is being traversed.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: `state->net` is the namespace the hook runs in, alive for
        // the whole traversal.
        unsafe { Net::from_raw(self.raw().net) }
    }

    /// Input device (PRE_ROUTING, LOCAL_IN, FORWARD).
    pub(crate) fn in_dev(&self) -> Option<&NetDevice> {
        let p = self.raw().in_;
        // SAFETY: non-NULL devices in the hook state are held for the call.
        (!p.is_null()).then(|| unsafe { NetDevice::from_raw(p) })
    }

    /// Output device (FORWARD, LOCAL_OUT, POST_ROUTING).
    pub(crate) fn out_dev(&self) -> Option<&NetDevice> {
        let p = self.raw().out;
        // SAFETY: as for `in_dev`.
        (!p.is_null()).then(|| unsafe { NetDevice::from_raw(p) })
    }
}

/// A packet hook set: which hooks to register and what to do per packet.
///
/// `hook` runs in softirq context (or with BH disabled in process context
/// for LOCAL_OUT), under the RCU read lock: it must not sleep.
pub(crate) trait PacketHook: 'static {
    const HOOKS: &'static [HookSpec];

    /// One packet at `spec`, one of `HOOKS`. Each registered hook point has
    /// its own entry function with its `HookSpec` as a constant, so an
    /// `#[inline(always)]` implementation can test what it needs for that
    /// (family, hook) without decoding `state` first.
    fn hook(spec: &'static HookSpec, skb: &SkBuff, state: &HookState) -> Verdict;

    /// Called after the hooks are registered in a namespace.
    fn net_init(_net: &Net) {}

    /// Called after the hooks are unregistered from a namespace.
    fn net_exit(_net: &Net) {}
}

struct Adapter<T>(PhantomData<T>);

type HookFn = unsafe extern "C" fn(*mut c_void, *mut bindings::sk_buff, *const bindings::nf_hook_state) -> c_uint;

// All-zero `nf_hook_ops`: NULL pointers, `None` callbacks, type UNDEFINED.
// SAFETY: every field of `nf_hook_ops` is an integer, a raw pointer or an
// `Option` of a function pointer, for all of which zero is a valid value.
const ZERO_OPS: bindings::nf_hook_ops = unsafe { core::mem::zeroed() };

impl<T: PacketHook> Adapter<T> {
    const COUNT: usize = {
        assert!(T::HOOKS.len() <= MAX_HOOKS);
        T::HOOKS.len()
    };

    /// The entry function of each hook point: `hook_fn::<I>` serves `HOOKS[I]`.
    const FNS: [HookFn; MAX_HOOKS] = [
        Self::hook_fn::<0>,
        Self::hook_fn::<1>,
        Self::hook_fn::<2>,
        Self::hook_fn::<3>,
        Self::hook_fn::<4>,
        Self::hook_fn::<5>,
        Self::hook_fn::<6>,
        Self::hook_fn::<7>,
        Self::hook_fn::<8>,
        Self::hook_fn::<9>,
    ];

    const OPS: [bindings::nf_hook_ops; MAX_HOOKS] = {
        let mut ops = [ZERO_OPS; MAX_HOOKS];
        let mut i = 0;
        while i < T::HOOKS.len() {
            ops[i].hook = Some(Self::FNS[i]);
            ops[i].pf = family_raw(T::HOOKS[i].family);
            ops[i].hooknum = T::HOOKS[i].hook.index();
            ops[i].priority = T::HOOKS[i].priority;
            i += 1;
        }
        ops
    };

    /// The hook ops array. Netfilter identifies a registration by the
    /// address of its ops (`nf_unregister_net_hook` searches for it), so this
    /// is the one place the constant is promoted to a `'static` and the same
    /// address is used to register and to unregister.
    fn ops() -> &'static [bindings::nf_hook_ops; MAX_HOOKS] {
        &Self::OPS
    }

    /// # Safety
    ///
    /// Only for netfilter: `skb` and `state` must be the live arguments of a
    /// hook call of ops registered by `PernetHooks<T>`.
    unsafe extern "C" fn hook_fn<const I: usize>(
        _priv: *mut c_void,
        skb: *mut bindings::sk_buff,
        state: *const bindings::nf_hook_state,
    ) -> c_uint {
        // SAFETY: netfilter calls a hook with a valid skb that it owns for the
        // duration of the call, and a valid state on its stack.
        let (skb, state) = unsafe { (SkBuff::from_raw(skb), HookState::from_raw(state)) };
        // `OPS` installs `hook_fn::<I>` only for `I < HOOKS.len()`.
        let spec = &T::HOOKS[I];
        match T::hook(spec, skb, state) {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
        }
    }

    /// # Safety
    ///
    /// Only for the pernet core: `net` must be a namespace being set up.
    unsafe extern "C" fn net_init(net: *mut bindings::net) -> c_int {
        // SAFETY: `ops()` is a `'static` array whose first `COUNT` entries are
        // initialised hook ops; `net` is the namespace being initialised.
        let ret = unsafe { bindings::nf_register_net_hooks(net, Self::ops().as_ptr(), Self::COUNT as c_uint) };
        if ret == 0 {
            // SAFETY: the pernet core passes a live namespace.
            T::net_init(unsafe { Net::from_raw(net) });
        }
        ret
    }

    /// # Safety
    ///
    /// Only for the pernet core: `net` must be a namespace whose `net_init`
    /// succeeded and which is now being dismantled.
    unsafe extern "C" fn net_pre_exit(net: *mut bindings::net) {
        // SAFETY: `init` succeeded for this namespace (the pernet core only
        // calls `pre_exit` then), so these exact ops are registered in it.
        unsafe { bindings::nf_unregister_net_hooks(net, Self::ops().as_ptr(), Self::COUNT as c_uint) };
        // SAFETY: the pernet core passes a live namespace.
        T::net_exit(unsafe { Net::from_raw(net) });
    }
}

/// `T`'s hooks registered in every network namespace, present and future.
/// Dropping it unregisters them everywhere.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_subsys` for the whole life of
/// the value, and is pinned so the pernet core's list linkage stays valid.
pub(crate) struct PernetHooks<T: PacketHook> {
    ops: core::pin::Pin<KBox<Opaque<bindings::pernet_operations>>>,
    _t: PhantomData<T>,
}

impl<T: PacketHook> PernetHooks<T> {
    pub(crate) fn register() -> Result<Self> {
        let raw = bindings::pernet_operations {
            init: Some(Adapter::<T>::net_init),
            pre_exit: Some(Adapter::<T>::net_pre_exit),
            ..Default::default()
        };
        let ops = KBox::pin(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: `ops` is pinned and stays allocated until `drop`, which
        // unregisters it first; its callbacks are valid for any namespace.
        to_result(unsafe { bindings::register_pernet_subsys(ops.get()) })?;
        Ok(Self { ops, _t: PhantomData })
    }
}

impl<T: PacketHook> Drop for PernetHooks<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ops` is registered. This runs
        // `pre_exit` in every namespace, so no hook remains and none is
        // running when it returns.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}

// SAFETY: the pernet operations are only touched by `register` and `drop`,
// which the pernet core serialises with `pernet_ops_rwsem`; no `&self`
// method reads them.
unsafe impl<T: PacketHook> Send for PernetHooks<T> {}
// SAFETY: as above, `&PernetHooks` gives access to nothing.
unsafe impl<T: PacketHook> Sync for PernetHooks<T> {}
