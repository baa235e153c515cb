// SPDX-License-Identifier: GPL-2.0
//! Netfilter hooks registered on demand in every network namespace.
//!
//! Since Linux 4.13 netfilter hooks are per namespace: `nf_register_net_hook`
//! only covers the namespace it is given. To see every packet a module must
//! therefore register a pernet subsystem whose `init` runs for init_net, for
//! every namespace that exists at registration time, and for every namespace
//! created later, and whose `pre_exit` unregisters the hooks before the
//! namespace is dismantled (the same place iptables' tables unhook).
//!
//! A registered hook costs every packet at its hook point an indirect call,
//! even when it returns at once, so dockfw registers a (family, hook) only
//! while something needs it there: `HookRegistry` follows the namespaces and
//! registers the union of what is wanted in all of them.
//!
//! Lifecycle: `HookRegistry` (empty) first; `PernetHooks::register` →
//! `register_pernet_subsys` → `init` in each namespace → it joins the
//! registry and gets the wanted hooks; writers grow the wanted set before
//! they publish what needs it and shrink it after. Drop of `PernetHooks` →
//! `unregister_pernet_subsys` → `pre_exit` in each namespace → its hooks are
//! unregistered (`nf_unregister_net_hook` does not wait: the old hook array
//! is freed after an RCU grace period, so a call under way may still finish;
//! module exit waits for a grace period before freeing what hooks read) →
//! `exit`. The registry goes last.

use super::bindings;
use super::net::{Net, NetDevice};
use super::rcu::ReadSide;
use super::skb::SkBuff;
use crate::pure::model::{Family, Hook, Verdict};
use core::ffi::{c_int, c_uint, c_void};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVec};
use kernel::error::{to_result, Result};
// pin-init lives in the kernel crate in 6.12 and in its own crate in 7.x;
// the prelude names it the same in both.
use kernel::prelude::{pin_data, pin_init, PinInit};
use kernel::sync::{new_mutex, Mutex};
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

    /// The RCU read-side section the hook runs in: netfilter calls hooks
    /// with `rcu_read_lock()` held (`nf_hook_slow()`: "Caller must hold
    /// rcu_read_lock"; `nf_hook()`, `NF_HOOK_LIST()`, the bridge's
    /// `br_nf_hook_thresh()` and `nf_reinject()` all do), for the whole call.
    pub(crate) fn rcu(&self) -> ReadSide<'_> {
        // SAFETY: a `&HookState` exists only during a hook call (type
        // invariant), which runs inside that read-side section.
        unsafe { ReadSide::new() }
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

/// A packet hook set: which hooks may be registered and what to do per packet.
///
/// `hook` runs in softirq context (or with BH disabled in process context
/// for LOCAL_OUT), under the RCU read lock: it must not sleep.
pub(crate) trait PacketHook: 'static + Sized {
    const HOOKS: &'static [HookSpec];

    /// One packet at `spec`, one of `HOOKS`. Each registered hook point has
    /// its own entry function with its `HookSpec` as a constant, so an
    /// `#[inline(always)]` implementation can test what it needs for that
    /// (family, hook) without decoding `state` first.
    fn hook(spec: &'static HookSpec, skb: &SkBuff, state: &HookState) -> Verdict;

    /// Runs `f` on the registry of this hook set. The pernet callbacks get
    /// nothing but the namespace, so this is how they find it. It must be
    /// reachable (`Some`) for the whole life of a `PernetHooks<Self>`.
    fn with_registry<R>(f: impl FnOnce(&HookRegistry<Self>) -> R) -> Option<R>;
}

/// Why hooks are wanted (a ruleset, a drop policy, a trace filter, a module
/// parameter). The registry keeps one hook mask per reason and registers
/// the union, so one writer narrowing its own mask never takes away a hook
/// another still needs.
#[derive(Clone, Copy)]
pub(crate) struct Reason(u8);

/// Number of distinct `Reason`s.
const MAX_REASONS: usize = 8;

impl Reason {
    pub(crate) const fn new(i: u8) -> Reason {
        assert!((i as usize) < MAX_REASONS);
        Reason(i)
    }
}

/// One namespace the registry follows.
///
/// # Invariants
///
/// `net` is a namespace whose pernet `init` has run and whose `pre_exit`
/// has not finished: alive. `mask` is exactly the set of hooks (bit `i` =
/// `HOOKS[i]`) registered in it with the registry's ops.
#[derive(Clone, Copy)]
struct NetHooks {
    net: *mut bindings::net,
    mask: u16,
}

// SAFETY: `net` is only used (to register and unregister hooks) by the
// thread holding the registry's mutex; the namespace itself is shared
// kernel state, alive by the type invariant, so moving the pointer between
// threads is sound.
unsafe impl Send for NetHooks {}

struct Hooked {
    nets: KVec<NetHooks>,
    /// The hooks each `Reason` wants; every namespace in `nets` has exactly
    /// their union registered (between calls of the registry's methods).
    wants: [u16; MAX_REASONS],
}

impl Hooked {
    fn union(&self) -> u16 {
        self.wants.iter().fold(0, |m, w| m | w)
    }
}

/// The namespaces a `PacketHook` set follows and which of its hooks are
/// registered in them: hooks are registered on demand, in every namespace
/// at once, only at the (family, hook) points something needs. A hook point
/// nobody needs costs a packet nothing, not even netfilter's indirect call.
///
/// One mutex covers the list and the wanted masks, and both the pernet
/// callbacks (a namespace appearing or going away) and the writers (a
/// ruleset, policy or trace filter change) take it, so a namespace being
/// created either is in the list when a change is applied or registers the
/// changed set itself: none is missed. (The kernel's own namespace list
/// would not do: a namespace joins it only after every pernet `init`.)
///
/// Lock order: `pernet_ops_rwsem` (pernet callbacks), genl_mutex and the
/// writers' own locks (netlink), the module's parameter lock (sysfs) →
/// this mutex → `nf_hook_mutex` (inside `nf_register_net_hook`).
#[pin_data]
pub(crate) struct HookRegistry<T: PacketHook> {
    #[pin]
    inner: Mutex<Hooked>,
    /// Hooks registered over all namespaces (a statistic).
    registered: AtomicUsize,
    _t: PhantomData<T>,
}

impl<T: PacketHook> HookRegistry<T> {
    /// Every hook of `T::HOOKS`.
    pub(crate) const ALL: u16 = ((1u32 << Adapter::<T>::COUNT) - 1) as u16;

    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- new_mutex!(Hooked { nets: KVec::new(), wants: [0; MAX_REASONS] }),
            registered: AtomicUsize::new(0),
            _t: PhantomData,
        })
    }

    /// Adds `mask` to what `why` wants and registers what is missing in
    /// every namespace. Call it before publishing what needs the hooks. On
    /// failure (no memory) nothing is left registered that was not before,
    /// and `why` wants what it wanted before.
    pub(crate) fn grow(&self, why: Reason, mask: u16) -> Result {
        let mut h = self.inner.lock();
        let before = h.wants[usize::from(why.0)];
        h.wants[usize::from(why.0)] = before | (mask & Self::ALL);
        let target = h.union();
        if let Err(e) = self.apply(&mut h.nets, target) {
            h.wants[usize::from(why.0)] = before;
            let back = h.union();
            // Only unregisters: every namespace had `back` before this call.
            let _ = self.apply(&mut h.nets, back);
            return Err(e);
        }
        Ok(())
    }

    /// Narrows what `why` wants to `mask` (what it wanted and `mask` both)
    /// and unregisters the hooks no reason wants any more. Call it after
    /// publishing what no longer needs them: until then a hook still runs
    /// (and finds nothing to do). Cannot fail: it only unregisters.
    pub(crate) fn shrink_to(&self, why: Reason, mask: u16) {
        let mut h = self.inner.lock();
        h.wants[usize::from(why.0)] &= mask;
        let target = h.union();
        let _ = self.apply(&mut h.nets, target);
    }

    /// Sets what `why` wants to exactly `mask`: `grow`, then `shrink_to`.
    pub(crate) fn set(&self, why: Reason, mask: u16) -> Result {
        self.grow(why, mask)?;
        self.shrink_to(why, mask);
        Ok(())
    }

    /// Hooks registered, summed over the namespaces.
    pub(crate) fn registered(&self) -> usize {
        self.registered.load(Ordering::Relaxed)
    }

    /// Brings every namespace to `target`. Stops at the first failed
    /// registration; the namespaces' masks say what is registered then.
    fn apply(&self, nets: &mut KVec<NetHooks>, target: u16) -> Result {
        for n in nets.as_mut_slice() {
            self.reconcile(n, target)?;
        }
        Ok(())
    }

    /// Registers and unregisters hooks in one namespace until it has
    /// exactly `target`; stops at the first failed registration.
    fn reconcile(&self, n: &mut NetHooks, target: u16) -> Result {
        let ops = Adapter::<T>::ops();
        for i in 0..Adapter::<T>::COUNT {
            let bit = 1u16 << i;
            if target & bit != 0 && n.mask & bit == 0 {
                // SAFETY: `n.net` is alive (type invariant of `NetHooks`);
                // `ops[i]` is an initialised `'static` hook ops entry that is
                // not registered in it (bit clear in `n.mask`).
                to_result(unsafe { bindings::nf_register_net_hook(n.net, &ops[i]) })?;
                n.mask |= bit;
                self.registered.fetch_add(1, Ordering::Relaxed);
            } else if target & bit == 0 && n.mask & bit != 0 {
                // A hook call already under way may still run after this
                // returns (netfilter frees the old hook array after an RCU
                // grace period): harmless, the module state outlives the
                // registry, and module exit waits for a grace period.
                // SAFETY: `n.net` is alive; `ops[i]` is registered in it (bit set).
                unsafe { bindings::nf_unregister_net_hook(n.net, &ops[i]) };
                n.mask &= !bit;
                self.registered.fetch_sub(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// A namespace appears: it joins the list and gets the wanted hooks.
    fn net_init(&self, net: *mut bindings::net) -> Result {
        let mut h = self.inner.lock();
        h.nets.push(NetHooks { net, mask: 0 }, GFP_KERNEL)?;
        let target = h.union();
        // Mutation testing only (Kbuild DOCKFW_MUTANT, never shipped): a
        // namespace other than the host's gets no hooks when it appears
        // (those that exist at load time get them when the switches or
        // the first rule ask for hooks: a namespace created later does not).
        #[cfg(dockfw_mutant = "skip_netns")]
        // SAFETY: the pernet core passes a live namespace (see `net_init`).
        let target = if unsafe { Net::from_raw(net) }.is_init() { target } else { 0 };
        let last = h.nets.len() - 1;
        let mut n = h.nets[last];
        let r = self.reconcile(&mut n, target);
        if r.is_err() {
            // The namespace will not exist: take back what was registered.
            let _ = self.reconcile(&mut n, 0);
            super::compat::truncate(&mut h.nets, last);
        } else {
            h.nets[last] = n;
        }
        r
    }

    /// A namespace goes away: its hooks are unregistered and it leaves the
    /// list. Not finding it is fine (its `init` found no registry).
    fn net_exit(&self, net: *mut bindings::net) {
        let mut h = self.inner.lock();
        let Some(i) = h.nets.iter().position(|n| n.net == net) else { return };
        let mut n = h.nets[i];
        let _ = self.reconcile(&mut n, 0);
        let last = h.nets.len() - 1;
        h.nets[i] = h.nets[last];
        super::compat::truncate(&mut h.nets, last);
    }
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
        let r = T::with_registry(|reg| reg.net_init(net)).unwrap_or(Ok(()));
        if let Err(e) = r {
            return e.to_errno();
        }
        FOLLOWED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        0
    }

    /// # Safety
    ///
    /// Only for the pernet core: `net` must be a namespace whose `net_init`
    /// succeeded and which is now being dismantled.
    unsafe extern "C" fn net_pre_exit(net: *mut bindings::net) {
        T::with_registry(|reg| reg.net_exit(net));
        FOLLOWED.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Namespaces followed by the module's `PernetHooks` (it has one hook set):
/// their pernet `init` has run and their `pre_exit` has not.
static FOLLOWED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Number of namespaces followed (init_net included).
pub(crate) fn followed_namespaces() -> usize {
    FOLLOWED.load(core::sync::atomic::Ordering::Relaxed)
}

/// The same, for the C parameter `hooked_netns` (read-only in
/// /sys/module/dockfw/parameters).
#[no_mangle]
pub(crate) extern "C" fn dockfw_hooked_netns() -> usize {
    followed_namespaces()
}

/// `T`'s namespaces followed, present and future: each joins `T`'s
/// `HookRegistry` (which registers the hooks wanted there) when it is set
/// up, and leaves it (its hooks unregistered) before it is dismantled.
/// Dropping this unregisters the hooks everywhere.
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
        // This runs `pre_exit` in every namespace, so no hook of ours remains
        // registered when it returns (calls already under way finish within
        // an RCU grace period, which module exit waits for before freeing
        // the state they read).
        // SAFETY: by the type invariant `ops` is registered.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}

// SAFETY: the pernet operations are only touched by `register` and `drop`,
// which the pernet core serialises with `pernet_ops_rwsem`; no `&self`
// method reads them.
unsafe impl<T: PacketHook> Send for PernetHooks<T> {}
// SAFETY: `&PernetHooks` has no methods: sharing it gives access to nothing.
unsafe impl<T: PacketHook> Sync for PernetHooks<T> {}
