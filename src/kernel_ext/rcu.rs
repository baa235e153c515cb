// SPDX-License-Identifier: GPL-2.0
//! An RCU-protected, immutable, replace-whole value.
//!
//! Readers (the hooks, in softirq) see either the old or the new value, never
//! a mix: `read` runs a closure inside `rcu_read_lock`. Writers are
//! serialised by a mutex inside the cell, publish the new value with
//! `rcu_assign_pointer`, wait for a grace period (`synchronize_rcu`), and only
//! then free the old value.

use super::bindings;
use core::ffi::c_void;
use core::marker::PhantomData;
use kernel::alloc::KBox;
use kernel::error::Result;
use kernel::sync::{lock::mutex::MutexBackend, lock::Lock};
use kernel::prelude::*;
use kernel::types::Opaque;

/// An RCU pointer to a `KBox<T>`, or nothing.
///
/// # Invariants
///
/// `slot` is NULL or holds a pointer obtained from `KBox::into_raw` that is
/// owned by the cell; it is only written under `writer`, and a replaced
/// value is freed only after a grace period.
#[pin_data(PinnedDrop)]
pub(crate) struct RcuBox<T: Send + Sync> {
    slot: Opaque<*mut c_void>,
    #[pin]
    writer: Lock<(), MutexBackend>,
    _t: PhantomData<KBox<T>>,
}

// SAFETY: the cell hands out `&T` to any thread under the RCU read lock and
// moves `KBox<T>` between threads: `T: Send + Sync` makes both sound.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}

impl<T: Send + Sync> RcuBox<T> {
    pub(crate) fn new(initial: Option<KBox<T>>) -> impl kernel::init::PinInit<Self> {
        let p = initial.map_or(core::ptr::null_mut(), |b| KBox::into_raw(b).cast::<c_void>());
        kernel::pin_init!(Self {
            slot: Opaque::new(p),
            writer <- kernel::new_mutex!(()),
            _t: PhantomData,
        })
    }

    /// Runs `f` on the current value inside an RCU read-side section.
    /// `f` must not sleep (it runs with the RCU read lock held).
    pub(crate) fn read<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        // SAFETY: RCU read-side sections nest and may be taken in any context.
        unsafe { bindings::dockfw_rcu_read_lock() };
        // SAFETY: `slot` is a valid pointer-sized location; rcu_dereference
        // orders the load against later reads through the pointer.
        let p = unsafe { bindings::dockfw_rcu_dereference(self.slot.get()) }.cast::<T>();
        // SAFETY: by the type invariant a non-NULL pointer is a live `T` that
        // cannot be freed before this read-side section ends.
        let r = f(unsafe { p.as_ref() });
        // SAFETY: pairs with the lock above.
        unsafe { bindings::dockfw_rcu_read_unlock() };
        r
    }

    /// Replaces the value with the one `f` builds from the current one.
    /// Writers are serialised; when `f` fails, nothing changes. Sleeps (mutex,
    /// grace period): process context only.
    pub(crate) fn update<R>(&self, f: impl FnOnce(Option<&T>) -> Result<(Option<KBox<T>>, R)>) -> Result<R> {
        let _guard = self.writer.lock();
        // SAFETY: `slot` is only written under `writer`, which we hold, so a
        // plain read sees the latest value and it cannot be freed meanwhile.
        let old = unsafe { *self.slot.get() }.cast::<T>();
        // SAFETY: as above, `old` is NULL or a live `T` owned by the cell.
        let (new, r) = f(unsafe { old.as_ref() })?;
        let newp = new.map_or(core::ptr::null_mut(), |b| KBox::into_raw(b).cast::<c_void>());
        // SAFETY: publishes a fully built value with release semantics.
        unsafe { bindings::dockfw_rcu_assign_pointer(self.slot.get(), newp) };
        if !old.is_null() {
            // SAFETY: process context (the mutex above already slept-safe).
            unsafe { bindings::dockfw_synchronize_rcu() };
            // SAFETY: `old` came from `KBox::into_raw`, is no longer
            // reachable from `slot`, and every reader that could see it has
            // finished its read-side section.
            drop(unsafe { KBox::from_raw(old) });
        }
        Ok(r)
    }
}

#[pinned_drop]
impl<T: Send + Sync> PinnedDrop for RcuBox<T> {
    fn drop(self: core::pin::Pin<&mut Self>) {
        // SAFETY: we have exclusive access; the owner drops the cell only
        // after every reader (hook) and writer (netlink) is gone.
        let p = unsafe { *self.slot.get() }.cast::<T>();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw` and is owned by the cell.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}
