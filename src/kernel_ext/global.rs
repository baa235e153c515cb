// SPDX-License-Identifier: GPL-2.0
//! A module-wide value reachable from hook callbacks, which receive nothing
//! but the skb and the hook state. The value is published once at module
//! init and read under RCU; the `Published` guard unpublishes it, waits for
//! a grace period, and only then frees it, so a reader never sees freed
//! memory.

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

    /// Runs `f` on the value from process context, where it may sleep. Only
    /// valid while the caller holds something that keeps the module (and so
    /// the `Published` guard) alive, which every caller inside the module
    /// does by construction: callbacks are unregistered before the guard drops.
    pub(crate) fn with_sleepable<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // SAFETY: a plain load; the pointer is only cleared by
        // `Published::drop`, which runs after every callback that could call
        // this has been unregistered, so a non-NULL `p` is live for this call.
        unsafe { self.ptr.writer_get().as_ref() }.map(f)
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
        synchronize();
        // SAFETY: `p` came from `KBox::into_raw` in `publish`, is no longer
        // reachable, and no reader can still hold it.
        drop(unsafe { KBox::from_raw(p) });
    }
}
