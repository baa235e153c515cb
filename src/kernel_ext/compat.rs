// SPDX-License-Identifier: GPL-2.0
//! The seam between the two generations of the `kernel` crate dockfw is
//! built against: 6.12 (the project's own test kernels) and 7.x (Debian
//! 13's stock 7.3). Kbuild passes `--cfg dockfw_kapi="6.12"` or `"7"` from
//! the kernel's version; only this file, the crate root's `module!` and
//! `kernel_display!` invocations look at it, so business code never forks.
//!
//! What differs, and how it is bridged here:
//! - `CStr`: 6.12 has the kernel's own type (`as_bytes`, inherent
//!   `from_char_ptr`); 7.x uses `core::ffi::CStr` (`to_bytes`) with
//!   `from_char_ptr` on the `CStrExt` trait.
//! - `Vec`: 6.12 has `set_len` and no `truncate`; 7.x has `truncate`.
//! - Printing: 7.x's `pr_*!` format arguments through `kernel::fmt::Display`
//!   (so that core types can be printed the kernel's way), 6.12's through
//!   `core::fmt::Display`; `kernel_display!` forwards the first to the second.
//! - `module!` keys (`author` vs `authors`): see the crate root.

use kernel::alloc::{Allocator, Vec};
use kernel::str::CStr;

/// The bytes of `s`, without its terminating NUL.
pub(crate) fn cstr_bytes(s: &CStr) -> &[u8] {
    #[cfg(dockfw_kapi = "6.12")]
    return s.as_bytes();
    #[cfg(not(dockfw_kapi = "6.12"))]
    return s.to_bytes();
}

/// The C string at `ptr`.
///
/// # Safety
///
/// `ptr` points to a NUL-terminated string that stays valid and unchanged
/// for `'a`.
pub(crate) unsafe fn cstr_from_ptr<'a>(ptr: *const core::ffi::c_char) -> &'a CStr {
    #[cfg(dockfw_kapi = "6.12")]
    // SAFETY: the caller's contract is `from_char_ptr`'s.
    return unsafe { CStr::from_char_ptr(ptr.cast()) };
    #[cfg(not(dockfw_kapi = "6.12"))]
    {
        use kernel::str::CStrExt as _;
        // SAFETY: the caller's contract is `from_char_ptr`'s.
        return unsafe { CStr::from_char_ptr(ptr.cast()) };
    }
}

/// Shortens `v` to `len` elements (no-op if it is not longer). The staged
/// ruleset of a REPLACE is parsed straight into its vector and cut back
/// when a batch turns out bad; the namespace list shrinks the same way.
pub(crate) fn truncate<T: Copy, A: Allocator>(v: &mut Vec<T, A>, len: usize) {
    #[cfg(dockfw_kapi = "6.12")]
    if len < v.len() {
        // SAFETY: `len` is below the current length, so the first `len`
        // elements are initialised; the dropped tail needs no destructor
        // because `T: Copy` types have no drop glue.
        unsafe { v.set_len(len) };
    }
    #[cfg(not(dockfw_kapi = "6.12"))]
    v.truncate(len);
}

/// Makes types that implement `core::fmt::Display` printable by the
/// kernel's `pr_*!` macros on both generations (a no-op on 6.12).
macro_rules! kernel_display {
    ($($t:ty),* $(,)?) => {
        $(
            #[cfg(not(dockfw_kapi = "6.12"))]
            impl kernel::fmt::Display for $t {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    core::fmt::Display::fmt(self, f)
                }
            }
        )*
    };
}
pub(crate) use kernel_display;

// The pure core's printable types (it cannot name the kernel crate itself).
kernel_display!(crate::pure::packet::Packet, crate::pure::model::Addr, crate::pure::model::IfName);
