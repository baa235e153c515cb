// SPDX-License-Identifier: GPL-2.0
//! What the 6.12 `kernel::alloc` vectors lack and dockfw needs: shortening a
//! vector of plain-data elements (6.12's `Vec` has no `truncate`). The
//! staged ruleset of a REPLACE is parsed straight into its vector and cut
//! back when a batch turns out bad.

use kernel::alloc::{Allocator, Vec};

/// Shortens `v` to `len` elements (no-op if it is not longer).
pub(crate) fn truncate<T: Copy, A: Allocator>(v: &mut Vec<T, A>, len: usize) {
    if len < v.len() {
        // SAFETY: `len` is below the current length, so the first `len`
        // elements are initialised; the dropped tail needs no destructor
        // because `T: Copy` types have no drop glue.
        unsafe { v.set_len(len) };
    }
}
