// SPDX-License-Identifier: GPL-2.0
//! The module parameters (declared in C, since the 6.12 `module!` macro has
//! no parameter support) and the dmesg trace rate limiter.

use super::bindings;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::error::{to_result, Result};
use kernel::str::CStr;

/// The two run-time switches, `trace` and `hook_cost`, acting on the module:
/// from `attach` until drop, writing one calls the `apply` function given to
/// `attach` with both values (under the module's parameter lock, through
/// the C setter and `dockfw_switches_apply`), and the value is only stored
/// if that succeeds. Before and after, a write only stores the value.
///
/// `apply` may rely on whatever outlives this guard (the module state).
pub(crate) struct Switches(());

/// The `apply` of the attached `Switches` (a `fn(bool, bool) -> Result`
/// cast to a pointer), null while none is attached.
static APPLY: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

impl Switches {
    /// Applies the switches' current values, then every later write.
    pub(crate) fn attach(apply: fn(bool, bool) -> Result) -> Result<Switches> {
        APPLY.store(apply as *mut (), Ordering::Release);
        // SAFETY: called from module init; the helper only takes the module's
        // parameter lock and calls `dockfw_switches_apply`.
        let r = to_result(unsafe { bindings::dockfw_switches_attach() });
        if r.is_err() {
            APPLY.store(core::ptr::null_mut(), Ordering::Release);
        }
        r.map(|()| Switches(()))
    }
}

impl Drop for Switches {
    fn drop(&mut self) {
        // SAFETY: `attach` succeeded; after this returns no write of a switch
        // calls into the module (the flag is cleared under the parameter
        // lock that every write holds).
        unsafe { bindings::dockfw_switches_detach() };
        APPLY.store(core::ptr::null_mut(), Ordering::Release);
    }
}

/// A write of the `trace` or `hook_cost` parameter (or their values at
/// attach time), from the C parameter setter under the module's parameter
/// lock, only between `Switches::attach` and its drop. Returns 0 or -errno;
/// on error the C side keeps the parameter's old value.
#[no_mangle]
pub(crate) extern "C" fn dockfw_switches_apply(trace: bool, hook_cost: bool) -> core::ffi::c_int {
    let p = APPLY.load(Ordering::Acquire);
    if p.is_null() {
        return 0;
    }
    // SAFETY: only `Switches::attach` stores a non-null value in `APPLY`,
    // and it is a `fn(bool, bool) -> Result` cast to a pointer; function
    // pointers and data pointers have the same size on every kernel target.
    let apply = unsafe { core::mem::transmute::<*mut (), fn(bool, bool) -> Result>(p) };
    match apply(trace, hook_cost) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Reads a `bool` module parameter with one volatile byte load (READ_ONCE):
/// what the hooks check on every packet before doing any work.
///
/// # Safety
///
/// `p` must point to a C `bool` module parameter that lives as long as the
/// module (sysfs writes it with a plain store, so the load sees the old or
/// the new value, never a torn one; a C `bool` holds 0 or 1).
#[inline(always)]
unsafe fn read_flag(p: *const bool) -> bool {
    // SAFETY: `p` is valid for reads for the module's lifetime (caller).
    unsafe { core::ptr::read_volatile(p) }
}

/// `trace=1`: the dmesg trace is on. Writable at run time through
/// /sys/module/dockfw/parameters/trace; one plain load, no call.
#[inline(always)]
pub(crate) fn trace_on() -> bool {
    // SAFETY: `dockfw_trace_on` is the module-lifetime C `bool` parameter.
    unsafe { read_flag(core::ptr::addr_of!(bindings::dockfw_trace_on)) }
}

/// `hook_cost=1`: time every hook call. One plain load, like `trace_on`.
#[inline(always)]
pub(crate) fn hook_cost_on() -> bool {
    // SAFETY: `dockfw_hook_cost_on` is the module-lifetime C `bool` parameter.
    unsafe { read_flag(core::ptr::addr_of!(bindings::dockfw_hook_cost_on)) }
}

/// `trace_icmp`: trace ICMP even when a port filter is set.
pub(crate) fn trace_icmp() -> bool {
    // SAFETY: read-only (0444) parameter, fixed before module init.
    unsafe { bindings::dockfw_param_trace_icmp() != 0 }
}

/// `trace_ports`: fills `out`, returns the ports given at load time.
pub(crate) fn trace_ports(out: &mut [u16; 16]) -> &[u16] {
    // SAFETY: `out` has room for 16 entries and the helper writes at most
    // `max` of them; the parameter is read-only after load.
    let n = unsafe { bindings::dockfw_param_trace_ports(out.as_mut_ptr(), 16) };
    &out[..usize::try_from(n).unwrap_or(0).min(16)]
}

/// `trace_addr`, if given.
pub(crate) fn trace_addr() -> Option<&'static CStr> {
    // SAFETY: the charp parameter is read-only (0444): set before init and
    // never freed while the module is loaded.
    let p = unsafe { bindings::dockfw_param_trace_addr() };
    // SAFETY: a non-NULL charp parameter is a NUL-terminated string.
    (!p.is_null()).then(|| unsafe { super::compat::cstr_from_ptr(p.cast()) })
}

/// True if one more dmesg trace line may be printed now; the kernel's
/// ratelimit prints "N callbacks suppressed" for the lines it withholds.
pub(crate) fn trace_ratelimit() -> bool {
    // SAFETY: the rate-limit state was initialised by `helpers_init`;
    // `__ratelimit` takes its own spinlock (trylock), safe in softirq.
    unsafe { bindings::dockfw_trace_ratelimit() != 0 }
}
