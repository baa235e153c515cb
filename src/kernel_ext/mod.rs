// SPDX-License-Identifier: GPL-2.0
//! The one thin layer of `unsafe` in dockfw: safe wrappers over the raw
//! bindings that the 6.12 `kernel` crate does not provide (netfilter hook
//! registration through pernet operations, sk_buff header access, network
//! devices and namespaces, an RCU-protected pointer, module parameters,
//! shortening a vector), and `compat`, the seam between the 6.12 and 7.x
//! `kernel` crates.
//! They are shaped like the in-tree `rust/kernel/` abstractions:
//! `#[repr(transparent)]` wrappers around `Opaque<T>`, RAII registrations that
//! unregister on drop, and `# Invariants` on pointer-backed types. The raw
//! `bindings` module is private to this layer: business modules cannot reach
//! it.

mod bindings;
pub(crate) mod compat;
pub(crate) mod genetlink;
pub(crate) mod global;
pub(crate) mod net;
pub(crate) mod netfilter;
pub(crate) mod params;
pub(crate) mod rcu;
pub(crate) mod skb;
pub(crate) mod uapi;

/// One-time initialisation of the C helpers (rate-limit state from the
/// module parameters). Must run before any hook is registered.
pub(crate) fn helpers_init() {
    // SAFETY: `dockfw_helpers_init` only initialises helper-private state and
    // is called once, from module init, before anything can use that state.
    unsafe { bindings::dockfw_helpers_init() }
}
