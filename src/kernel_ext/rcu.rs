// SPDX-License-Identifier: GPL-2.0
//! RCU-protected pointers: `RcuPtr`, the one primitive (a slot read with
//! `rcu_dereference` inside `rcu_read_lock`, written with
//! `rcu_assign_pointer`), and `RcuBox`, an immutable, replace-whole value
//! built on it (`Global` and the netlink `FamilySlot` are built on it too).
//!
//! Readers (the hooks, in softirq) see either the old or the new value, never
//! a mix: `read` runs a closure inside `rcu_read_lock`. Writers are
//! serialised by a mutex inside the cell, publish the new value with
//! `rcu_assign_pointer`, wait for a grace period (`synchronize_rcu`), and only
//! then free the old value.
//!
//! Code that already runs inside a read-side section it did not open (a
//! netfilter hook: `nf_hook_slow()`'s caller holds `rcu_read_lock()`) proves
//! it with a `ReadSide` token and reads with `get`: no second, nested
//! section, no function call, one load.

use super::bindings;
use core::ffi::c_void;
use core::marker::PhantomData;
use kernel::alloc::KBox;
use kernel::error::Result;
use kernel::sync::{lock::mutex::MutexBackend, lock::Lock};
use kernel::prelude::*;
use core::cell::UnsafeCell;

/// Proof that the current CPU is inside an RCU read-side critical section
/// for all of `'a`: anything reached through an RCU pointer loaded under it
/// stays allocated until `'a` ends. Not `Send`: a read-side section belongs
/// to its CPU and context.
///
/// # Invariants
///
/// An RCU read-side section is held for all of `'a`.
pub(crate) struct ReadSide<'a>(PhantomData<(&'a (), *mut ())>);

impl ReadSide<'_> {
    /// # Safety
    ///
    /// The caller must hold an RCU read-side section (`rcu_read_lock()`, or
    /// softirq or preemption disabled, which also delay a grace period) for
    /// all of the returned token's lifetime.
    pub(crate) unsafe fn new() -> Self {
        // INVARIANT: guaranteed by the caller.
        ReadSide(PhantomData)
    }
}

/// A pointer slot under RCU: readers load it with `rcu_dereference` inside
/// an RCU read-side section; one writer at a time publishes with
/// `rcu_assign_pointer` and waits for a grace period before freeing what it
/// replaced. What the pointer owns is the wrapping type's business.
pub(crate) struct RcuPtr<T> {
    slot: UnsafeCell<*mut T>,
}

// SAFETY: the slot is only read with rcu_dereference and written with
// rcu_assign_pointer (a release store); writers are serialised by the
// wrapping types, as their `# Safety` sections require.
unsafe impl<T> Sync for RcuPtr<T> {}

impl<T> RcuPtr<T> {
    pub(crate) const fn null() -> Self {
        Self { slot: UnsafeCell::new(core::ptr::null_mut()) }
    }

    /// Runs `f` with the current pointer inside an RCU read-side section;
    /// what it points to cannot be freed before `f` returns. `f` must not
    /// sleep.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        // SAFETY: RCU read-side sections nest and may be taken anywhere.
        unsafe { bindings::dockfw_rcu_read_lock() };
        // SAFETY: `slot` is a valid pointer-sized location; rcu_dereference
        // orders the load before later reads through the pointer.
        let p = unsafe { bindings::dockfw_rcu_dereference(self.slot.get().cast::<*mut c_void>()) };
        let r = f(p.cast::<T>());
        // SAFETY: pairs with the lock above.
        unsafe { bindings::dockfw_rcu_read_unlock() };
        r
    }

    /// The current pointer, loaded inside the read-side section `_rs`
    /// proves: what it points to cannot be freed before `'a` ends.
    #[inline(always)]
    pub(crate) fn get<'a>(&'a self, _rs: &ReadSide<'a>) -> *const T {
        self.load_once()
    }

    /// The current pointer, loaded once (READ_ONCE, as `get`), for readers
    /// protected by something other than an RCU read-side section (SRCU).
    /// What it points to may be freed at any time unless the caller holds
    /// what the writer waits for before freeing it: dereferencing it is
    /// the caller's `unsafe`.
    #[inline(always)]
    pub(crate) fn load_once(&self) -> *const T {
        // `rcu_dereference()` is `READ_ONCE()` (a volatile load) on every
        // architecture Rust builds the kernel for: none of them reorders a
        // dependent load before the load of the pointer (Alpha, the one that
        // did, has no Rust support). Writers publish with
        // `rcu_assign_pointer()`, a release store.
        // SAFETY: `slot` is a valid, aligned pointer-sized location, only
        // written by `replace` (a single pointer-sized store).
        unsafe { core::ptr::read_volatile(self.slot.get()) }.cast_const()
    }

    /// The current pointer, as seen by the writer.
    ///
    /// # Safety
    ///
    /// The caller must be the only writer for the duration of the call.
    pub(crate) unsafe fn writer_get(&self) -> *mut T {
        // SAFETY: no concurrent write by the caller's guarantee; concurrent
        // readers only load.
        unsafe { *self.slot.get() }
    }

    /// Publishes `p` (release semantics: everything written to `*p` before
    /// is visible to readers that see `p`). Returns the previous pointer,
    /// which readers may still use until `synchronize`.
    ///
    /// # Safety
    ///
    /// The caller must be the only writer for the duration of the call.
    pub(crate) unsafe fn replace(&self, p: *mut T) -> *mut T {
        // SAFETY: single writer by the caller's guarantee.
        let old = unsafe { self.writer_get() };
        // SAFETY: `slot` is a valid pointer-sized location.
        unsafe { bindings::dockfw_rcu_assign_pointer(self.slot.get().cast::<*mut c_void>(), p.cast()) };
        old
    }
}

/// Waits for a grace period: every RCU reader that started before has
/// finished. Sleeps: process context only.
pub(crate) fn synchronize() {
    // SAFETY: callable from process context, which every caller is in
    // (netlink handlers, module init and exit).
    unsafe { bindings::dockfw_synchronize_rcu() }
}

/// An RCU pointer to a `KBox<T>`, or nothing.
///
/// # Invariants
///
/// `ptr` is NULL or holds a pointer obtained from `KBox::into_raw` that is
/// owned by the cell; it is only written under `writer`, and a replaced
/// value is freed only after a grace period.
#[pin_data(PinnedDrop)]
pub(crate) struct RcuBox<T: Send + Sync> {
    ptr: RcuPtr<T>,
    #[pin]
    writer: Lock<(), MutexBackend>,
    _t: PhantomData<KBox<T>>,
}

// SAFETY: the cell hands out `&T` to any thread under the RCU read lock and
// moves `KBox<T>` between threads: `T: Send + Sync` makes both sound.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}
// SAFETY: moving the cell moves ownership of its `KBox<T>` (sound for
// `T: Send`) and of a mutex that is not held across the move (a `&mut`
// or owned cell has no reader or writer inside it).
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}

impl<T: Send + Sync> RcuBox<T> {
    pub(crate) fn new(initial: Option<KBox<T>>) -> impl PinInit<Self> {
        let ptr = RcuPtr::null();
        if let Some(b) = initial {
            // SAFETY: the cell is not shared yet: we are the only writer.
            unsafe { ptr.replace(KBox::into_raw(b)) };
        }
        pin_init!(Self {
            ptr,
            writer <- kernel::new_mutex!(()),
            _t: PhantomData,
        })
    }

    /// Runs `f` on the current value inside an RCU read-side section.
    /// `f` must not sleep (it runs with the RCU read lock held).
    pub(crate) fn read<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        // SAFETY: by the type invariant a non-NULL pointer is a live `T` that
        // cannot be freed before the read-side section `with` holds ends.
        self.ptr.with(|p| f(unsafe { p.as_ref() }))
    }

    /// The current value, inside the read-side section `rs` proves.
    #[inline(always)]
    pub(crate) fn get<'a>(&'a self, rs: &ReadSide<'a>) -> Option<&'a T> {
        // SAFETY: by the type invariant a non-NULL pointer is a live `T`,
        // freed only after a grace period, which cannot end while the
        // read-side section `rs` proves lasts.
        unsafe { self.ptr.get(rs).as_ref() }
    }

    /// Replaces the value with the one `f` builds from the current one.
    /// Writers are serialised; when `f` fails, nothing changes. Sleeps (mutex,
    /// grace period): process context only.
    ///
    /// `published` runs with the new value right after it
    /// is published, still under the writer lock (so successive writers'
    /// `published` calls happen in publication order), before the grace
    /// period. It must not sleep for long: readers of the old value are
    /// still running. Used to mirror a summary of the value (which hooks
    /// have work) into an atomic the hot path reads without the RCU pointer.
    pub(crate) fn update_then<R>(
        &self,
        f: impl FnOnce(Option<&T>) -> Result<(Option<KBox<T>>, R)>,
        published: impl FnOnce(Option<&T>),
    ) -> Result<R> {
        let _guard = self.writer.lock();
        // SAFETY: we hold `writer`, so we are the only writer.
        let old = unsafe { self.ptr.writer_get() };
        // SAFETY: `old` is NULL or a live `T` owned by the cell,
        // which nobody else can free while we hold `writer`.
        let (new, r) = f(unsafe { old.as_ref() })?;
        let newp = new.map_or(core::ptr::null_mut(), KBox::into_raw);
        // SAFETY: we hold `writer`; the new value is fully built.
        let old = unsafe { self.ptr.replace(newp) };
        // SAFETY: `newp` is NULL or the value just published, owned by the
        // cell; only a writer (we hold `writer`) could free it.
        published(unsafe { newp.as_ref() });
        if !old.is_null() {
            synchronize();
            // SAFETY: `old` came from `KBox::into_raw`, is no longer
            // reachable from the cell, and every reader that could see it
            // has finished its read-side section.
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
        let p = unsafe { self.ptr.writer_get() };
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw` and is owned by the cell.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}
