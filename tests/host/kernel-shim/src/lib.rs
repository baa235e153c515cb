// SPDX-License-Identifier: GPL-2.0
//! A host stand-in for the part of the kernel crate that `src/ruleset.rs`
//! uses: `KVec`/`KVVec`/`KBox`/`Arc` whose constructors take allocation
//! flags and return `Result<_, AllocError>`, the flags, and `Error`/`Result`
//! with the errno constants. Same names and signatures as Rust-for-Linux
//! (6.12 and 7.x agree on these), so the module's file compiles unchanged;
//! allocations can be made to fail on demand (`fail_allocations_after`) to
//! test that a failed update leaves the published set as it was.
#![deny(unsafe_code)]

use std::cell::Cell;

std::thread_local! {
    /// Allocations left before the next one fails (`None`: never).
    static BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Makes the calling thread's allocations through this crate fail after
/// `n` more have succeeded (`None`: never fail again).
pub fn fail_allocations_after(n: Option<usize>) {
    BUDGET.with(|b| b.set(n));
}

std::thread_local! {
    /// Allocations made by the calling thread through this crate.
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

/// How many allocations the calling thread has made through this crate.
pub fn allocations() -> u64 {
    COUNT.with(|c| c.get())
}

fn charge() -> Result<(), alloc::AllocError> {
    COUNT.with(|c| c.set(c.get() + 1));
    BUDGET.with(|b| match b.get() {
        Some(0) => Err(alloc::AllocError),
        Some(n) => {
            b.set(Some(n - 1));
            Ok(())
        }
        None => Ok(()),
    })
}

pub mod alloc {
    use super::charge;
    use core::ops::{Deref, DerefMut};

    /// Allocation failed (`ENOMEM` once converted to an `Error`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct AllocError;

    /// GFP flags; only carried, never interpreted here.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Flags(pub u32);

    pub mod flags {
        pub const GFP_KERNEL: super::Flags = super::Flags(0);
        pub const GFP_ATOMIC: super::Flags = super::Flags(1);
    }

    /// `KVec` and `KVVec` (kmalloc- and kvmalloc-backed in the kernel).
    #[derive(Debug, Default, Clone, PartialEq, Eq)]
    pub struct Vec<T>(std::vec::Vec<T>);
    pub type KVec<T> = Vec<T>;
    pub type KVVec<T> = Vec<T>;

    impl<T> Vec<T> {
        pub const fn new() -> Self {
            Vec(std::vec::Vec::new())
        }

        pub fn with_capacity(n: usize, _: Flags) -> Result<Self, AllocError> {
            charge()?;
            Ok(Vec(std::vec::Vec::with_capacity(n)))
        }

        /// Appends; charged only when the capacity must grow, as in the
        /// kernel (a push within the capacity does not allocate).
        pub fn push(&mut self, v: T, _: Flags) -> Result<(), AllocError> {
            if self.0.len() == self.0.capacity() {
                charge()?;
            }
            self.0.push(v);
            Ok(())
        }
    }

    impl<T: Clone> Vec<T> {
        pub fn from_elem(v: T, n: usize, _: Flags) -> Result<Self, AllocError> {
            charge()?;
            Ok(Vec(std::vec![v; n]))
        }

        pub fn extend_from_slice(&mut self, s: &[T], _: Flags) -> Result<(), AllocError> {
            if self.0.capacity() - self.0.len() < s.len() {
                charge()?;
            }
            self.0.extend_from_slice(s);
            Ok(())
        }
    }

    impl<T> Deref for Vec<T> {
        type Target = [T];
        fn deref(&self) -> &[T] {
            &self.0
        }
    }

    impl<T> DerefMut for Vec<T> {
        fn deref_mut(&mut self) -> &mut [T] {
            &mut self.0
        }
    }

    /// `KBox`.
    #[derive(Debug)]
    pub struct Box<T>(std::boxed::Box<T>);
    pub type KBox<T> = Box<T>;

    impl<T> Box<T> {
        pub fn new(v: T, _: Flags) -> Result<Self, AllocError> {
            charge()?;
            Ok(Box(std::boxed::Box::new(v)))
        }

        pub fn into_inner(b: Self) -> T {
            *b.0
        }
    }

    impl<T> Deref for Box<T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }

    impl<T> DerefMut for Box<T> {
        fn deref_mut(&mut self) -> &mut T {
            &mut self.0
        }
    }
}

pub mod sync {
    use super::{alloc::AllocError, alloc::Flags, charge};

    /// `kernel::sync::Arc`.
    #[derive(Debug)]
    pub struct Arc<T>(std::sync::Arc<T>);

    impl<T> Arc<T> {
        pub fn new(v: T, _: Flags) -> Result<Self, AllocError> {
            charge()?;
            Ok(Arc(std::sync::Arc::new(v)))
        }

        pub fn ptr_eq(a: &Self, b: &Self) -> bool {
            std::sync::Arc::ptr_eq(&a.0, &b.0)
        }

        pub fn strong_count(a: &Self) -> usize {
            std::sync::Arc::strong_count(&a.0)
        }
    }

    impl<T> Clone for Arc<T> {
        fn clone(&self) -> Self {
            Arc(self.0.clone())
        }
    }

    impl<T> core::ops::Deref for Arc<T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }
}

pub mod error {
    /// A negative errno, as the kernel's `Error`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Error(i32);

    impl Error {
        pub fn to_errno(self) -> i32 {
            self.0
        }
    }

    impl From<super::alloc::AllocError> for Error {
        fn from(_: super::alloc::AllocError) -> Error {
            code::ENOMEM
        }
    }

    pub type Result<T = (), E = Error> = core::result::Result<T, E>;

    pub mod code {
        use super::Error;
        pub const EINVAL: Error = Error(-22);
        pub const ENOMEM: Error = Error(-12);
        pub const ENOSPC: Error = Error(-28);
        pub const ENOENT: Error = Error(-2);
        pub const E2BIG: Error = Error(-7);
        pub const EEXIST: Error = Error(-17);
    }
}

pub mod prelude {
    pub use super::alloc::flags::*;
    pub use super::alloc::{KBox, KVVec, KVec};
    pub use super::error::{code::*, Error, Result};
}
