// SPDX-License-Identifier: GPL-2.0
//! A module-wide value reachable from hook callbacks, which receive nothing
//! but the skb and the hook state. The value is published once at module
//! init and read under RCU; the `Published` guard unpublishes it, waits for
//! a grace period, and only then frees it, so a reader never sees freed
//! memory.

use super::bindings;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::pin::Pin;
use kernel::alloc::KBox;
use kernel::error::{code::EBUSY, Result};

/// # Invariants
///
/// `slot` is NULL or points to the `T` of the one live `Published<T>` guard.
pub(crate) struct Global<T: Sync + 'static> {
    slot: UnsafeCell<*mut c_void>,
    _t: core::marker::PhantomData<T>,
}

// SAFETY: the slot is only written by `publish` and `Published::drop`, which
// module init and exit serialise, and read with rcu_dereference; `T: Sync`.
unsafe impl<T: Sync + 'static> Sync for Global<T> {}

impl<T: Sync + 'static> Global<T> {
    pub(crate) const fn new() -> Self {
        Self { slot: UnsafeCell::new(core::ptr::null_mut()), _t: core::marker::PhantomData }
    }

    /// Makes `value` visible to readers until the returned guard drops.
    pub(crate) fn publish(&'static self, value: Pin<KBox<T>>) -> Result<Published<T>> {
        // SAFETY: init and exit are serialised by the module loader, so no
        // concurrent writer exists; readers only load the slot.
        if !unsafe { *self.slot.get() }.is_null() {
            return Err(EBUSY);
        }
        // SAFETY: the value stays pinned where it is: we never move it out
        // of the box, and `Published::drop` frees it in place.
        let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(value) });
        // SAFETY: publishes a fully initialised value with release semantics.
        unsafe { bindings::dockfw_rcu_assign_pointer(self.slot.get(), p.cast()) };
        Ok(Published { global: self })
    }

    /// Runs `f` on the value inside an RCU read-side section; `None` before
    /// publication or after teardown. `f` must not sleep.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // SAFETY: RCU read-side sections may be taken in any context.
        unsafe { bindings::dockfw_rcu_read_lock() };
        // SAFETY: `slot` is a valid pointer-sized location.
        let p = unsafe { bindings::dockfw_rcu_dereference(self.slot.get()) }.cast::<T>();
        // SAFETY: by the invariant `p` is NULL or a live `T`, which cannot be
        // freed before this read-side section ends (`Published::drop` waits).
        let r = unsafe { p.as_ref() }.map(f);
        // SAFETY: pairs with the lock above.
        unsafe { bindings::dockfw_rcu_read_unlock() };
        r
    }

    /// Runs `f` on the value from process context, where it may sleep. Only
    /// valid while the caller holds something that keeps the module (and so
    /// the `Published` guard) alive, which every caller inside the module
    /// does by construction: callbacks are unregistered before the guard drops.
    pub(crate) fn with_sleepable<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // SAFETY: the slot is only cleared by `Published::drop`, which runs
        // after every callback that could call this has been unregistered.
        let p = unsafe { *self.slot.get() }.cast::<T>();
        // SAFETY: as above, a non-NULL `p` is live for this whole call.
        unsafe { p.as_ref() }.map(f)
    }
}

/// Ownership of the published value; dropping it unpublishes and frees it.
pub(crate) struct Published<T: Sync + 'static> {
    global: &'static Global<T>,
}

impl<T: Sync + 'static> Drop for Published<T> {
    fn drop(&mut self) {
        // SAFETY: we are the only writer (module exit).
        let p = unsafe { *self.global.slot.get() }.cast::<T>();
        // SAFETY: clears the slot; new readers see NULL.
        unsafe { bindings::dockfw_rcu_assign_pointer(self.global.slot.get(), core::ptr::null_mut()) };
        // SAFETY: module exit is process context; waits for every reader
        // that could still see `p`.
        unsafe { bindings::dockfw_synchronize_rcu() };
        // SAFETY: `p` came from `KBox::into_raw` in `publish` and is no
        // longer reachable.
        drop(unsafe { KBox::from_raw(p) });
    }
}
