// SPDX-License-Identifier: GPL-2.0
//! A module-wide value reachable from hook callbacks, which receive nothing
//! but the skb and the hook state. The value is published once at module
//! init and read under RCU (the hooks) or SRCU (process-context callers
//! that may sleep); the `Published` guard unpublishes it, waits for both
//! grace periods, and only then frees it, so a reader never sees freed
//! memory.

use super::bindings;
use super::rcu::{synchronize, RcuPtr, ReadSide};
use core::pin::Pin;
use kernel::alloc::KBox;
use kernel::error::{code::EBUSY, Result};

/// # Invariants
///
/// `ptr` is NULL or points to the `T` of the one live `Published<T>` guard;
/// it is only written by `publish` and `Published::drop`, which module init
/// and exit serialise.
pub(crate) struct Global<T: Sync + 'static> {
    ptr: RcuPtr<T>,
}

impl<T: Sync + 'static> Global<T> {
    pub(crate) const fn new() -> Self {
        Self { ptr: RcuPtr::null() }
    }

    /// Makes `value` visible to readers until the returned guard drops.
    pub(crate) fn publish(&'static self, value: Pin<KBox<T>>) -> Result<Published<T>> {
        // SAFETY: init and exit are serialised by the module loader: no
        // other writer.
        if !unsafe { self.ptr.writer_get() }.is_null() {
            return Err(EBUSY);
        }
        // SAFETY: the value stays pinned where it is: we never move it out
        // of the box, and `Published::drop` frees it in place.
        let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(value) });
        // SAFETY: module init is the only writer (checked empty just above);
        // the value is fully initialised.
        unsafe { self.ptr.replace(p) };
        // INVARIANT: `ptr` now points to the value this one guard owns.
        Ok(Published { global: self })
    }

    /// The value, inside the read-side section `rs` proves; `None` before
    /// publication or after teardown.
    #[inline(always)]
    pub(crate) fn get<'a>(&'a self, rs: &ReadSide<'a>) -> Option<&'a T> {
        // SAFETY: by the invariant the pointer is NULL or a live `T`, freed
        // only after a grace period, which cannot end while `rs` lasts.
        unsafe { self.ptr.get(rs).as_ref() }
    }

    /// Runs `f` on the value inside an RCU read-side section; `None` before
    /// publication or after teardown. `f` must not sleep.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // SAFETY: by the invariant the pointer is NULL or a live `T`, which
        // cannot be freed before the read-side section ends.
        self.ptr.with(|p| unsafe { p.as_ref() }.map(f))
    }

    /// Runs `f` on the value from process context, where it may sleep
    /// (allocate, take mutexes); `None` before publication or after
    /// teardown. `f` runs inside a read-side section of the state's SRCU
    /// domain, which `Published::drop` waits for before freeing the value,
    /// so the reference cannot dangle whoever calls this and whenever.
    pub(crate) fn with_sleepable<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // SAFETY: process context (this may sleep); paired with the unlock
        // below on every path (`f` cannot unwind: the kernel panics).
        let idx = unsafe { bindings::dockfw_state_srcu_read_lock() };
        // The pointer is written only by `publish` and `Published::drop`,
        // with release semantics; a read-side section makes its target live.
        // SAFETY: inside the SRCU section taken above: a non-NULL value is
        // freed only after `synchronize_srcu`, which waits for this section.
        let r = unsafe { self.ptr.load_once().as_ref() }.map(f);
        // SAFETY: pairs with the lock above.
        unsafe { bindings::dockfw_state_srcu_read_unlock(idx) };
        r
    }
}

/// Ownership of the published value; dropping it unpublishes and frees it.
pub(crate) struct Published<T: Sync + 'static> {
    global: &'static Global<T>,
}

impl<T: Sync + 'static> Drop for Published<T> {
    fn drop(&mut self) {
        // SAFETY: we are the only writer (module exit).
        let p = unsafe { self.global.ptr.replace(core::ptr::null_mut()) };
        // Readers under RCU (the hooks) and under SRCU (`with_sleepable`)
        // are all gone after both grace periods.
        synchronize();
        // SAFETY: process context (module exit), which may sleep.
        unsafe { bindings::dockfw_state_synchronize_srcu() };
        // SAFETY: `p` came from `KBox::into_raw` in `publish`, is no longer
        // reachable, and no reader can still hold it.
        drop(unsafe { KBox::from_raw(p) });
    }
}
