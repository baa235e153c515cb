// SPDX-License-Identifier: GPL-2.0
//! Socket buffers as a hook sees them: length, header bytes copied out with
//! bounds checks (never by trusting the linear area), the device, a stable
//! trace id, and the conntrack original tuple.

use super::bindings;
use super::net::NetDevice;
use crate::pure::model::{Addr, CtOrig, CtState};
use crate::pure::packet::ByteSource;
use kernel::types::Opaque;

/// A packet inside a netfilter hook.
///
/// # Invariants
///
/// A `&SkBuff` points to a live `struct sk_buff` owned by the netfilter hook
/// traversal that passed it to us; it is only borrowed for that call, during
/// which nobody else frees or reallocates it.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// # Safety
    ///
    /// `ptr` must point to a live `struct sk_buff` that nobody frees for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::sk_buff) -> &'a SkBuff {
        // SAFETY: transparent wrapper; liveness guaranteed by the caller.
        unsafe { &*ptr.cast::<SkBuff>() }
    }

    fn as_ptr(&self) -> *const bindings::sk_buff {
        self.0.get()
    }

    /// Bytes of packet data from `skb->data` on (linear and paged).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: by the type invariant the skb is alive.
        unsafe { bindings::dockfw_skb_len(self.as_ptr()) }
    }

    /// The device the skb is currently on.
    pub(crate) fn dev(&self) -> Option<&NetDevice> {
        // SAFETY: by the type invariant the skb is alive.
        let dev = unsafe { bindings::dockfw_skb_dev(self.as_ptr()) };
        // SAFETY: `skb->dev` is either NULL or a device kept alive for the
        // whole hook traversal (RCU read side held by netfilter).
        (!dev.is_null()).then(|| unsafe { NetDevice::from_raw(dev) })
    }

    /// A per-boot keyed hash of the skb's address: the same value at every
    /// hook the skb crosses, and no kernel pointer in the log.
    pub(crate) fn trace_id(&self) -> u32 {
        // SAFETY: only the pointer value is hashed.
        unsafe { bindings::dockfw_skb_id(self.as_ptr()) }
    }

    /// The original-direction tuple of the skb's conntrack entry, if any.
    pub(crate) fn ct_orig(&self) -> Option<CtOrig> {
        let mut t = bindings::dockfw_ct_tuple::default();
        // SAFETY: the skb is alive by the type invariant, `t` is a valid
        // out-parameter; the helper only reads the skb's conntrack entry,
        // which holds a reference for as long as the skb points to it.
        if unsafe { bindings::dockfw_skb_ct_orig(self.as_ptr(), &mut t) } == 0 {
            return None;
        }
        let to_addr = |w: &[u32; 4]| -> Addr {
            let mut b = [0u8; 16];
            for (i, x) in w.iter().enumerate() {
                // The words are big-endian in memory: keep their byte order.
                b[4 * i..4 * i + 4].copy_from_slice(&x.to_ne_bytes());
            }
            if u32::from(t.family) == bindings::NFPROTO_IPV6 {
                Addr::V6(b)
            } else {
                Addr::V4([b[0], b[1], b[2], b[3]])
            }
        };
        // enum ip_conntrack_info: 0 established, 1 related, 2 new,
        // 3 established reply, 4 related reply.
        let (state, reply) = match t.state {
            0 => (CtState::Established, false),
            1 => (CtState::Related, false),
            2 => (CtState::New, false),
            3 => (CtState::Established, true),
            4 => (CtState::Related, true),
            _ => (CtState::Untracked, false),
        };
        Some(CtOrig {
            state,
            reply,
            dnat: t.dnat != 0,
            proto: t.protonum,
            src: to_addr(&t.src),
            dst: to_addr(&t.dst),
            sport: u16::from_be(t.sport),
            dport: u16::from_be(t.dport),
        })
    }
}

/// A packet's bytes as the hooks' parser reads them: those in the linear
/// area in place, without a call; any beyond it (paged fragments, frag
/// list) through `skb_header_pointer()`.
///
/// # Invariants
///
/// `linear` is the skb's linear area (`skb->data`, `skb_headlen()` bytes),
/// which nobody rewrites while the hook holds the skb: a writer must own an
/// unshared skb (`skb_unshare()`/`skb_cow()` first), and the hook's caller
/// owns this one for the call.
pub(crate) struct PacketBytes<'a> {
    skb: &'a SkBuff,
    linear: &'a [u8],
    network: usize,
}

impl<'a> PacketBytes<'a> {
    /// Offset of the network header from `skb->data` (0 at the L3 hooks).
    pub(crate) fn network_offset(&self) -> usize {
        self.network
    }
}

impl SkBuff {
    /// The packet's bytes for parsing (see `PacketBytes`).
    pub(crate) fn packet_bytes(&self) -> PacketBytes<'_> {
        let (mut len, mut net) = (0u32, 0i32);
        // SAFETY: the skb is alive (type invariant); both out-parameters are
        // valid for writes.
        let data = unsafe { bindings::dockfw_skb_linear(self.as_ptr(), &mut len, &mut net) };
        let linear = if data.is_null() || len == 0 {
            &[][..]
        } else {
            // SAFETY: `skb->data` points to `skb_headlen()` initialised bytes
            // of the linear area, alive and unwritten for as long as the skb
            // is borrowed (type invariant and `PacketBytes`'s invariant).
            unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len as usize) }
        };
        // INVARIANT: `linear` is the skb's linear area.
        PacketBytes { skb: self, linear, network: usize::try_from(net).unwrap_or(0) }
    }
}

impl ByteSource for PacketBytes<'_> {
    #[inline]
    fn bytes<'b, const N: usize>(&'b self, offset: usize, buf: &'b mut [u8; N]) -> Option<&'b [u8; N]> {
        match self.linear.get(offset..offset.checked_add(N)?) {
            Some(s) => s.try_into().ok(),
            None => self.skb.bytes(offset, buf),
        }
    }
}

impl ByteSource for SkBuff {
    fn bytes<'a, const N: usize>(&'a self, offset: usize, buf: &'a mut [u8; N]) -> Option<&'a [u8; N]> {
        let (Ok(off), Ok(len)) = (i32::try_from(offset), i32::try_from(N)) else {
            return None;
        };
        // The helper is `skb_header_pointer()`: it returns NULL, `buf`
        // (filled by `skb_copy_bits()`), or a pointer to `N` bytes inside the
        // skb's linear area.
        // SAFETY: the skb is alive (type invariant); `buf` is valid for `N` bytes of writes.
        let p = unsafe { bindings::dockfw_skb_header(self.as_ptr(), off, len, buf.as_mut_ptr().cast()) };
        if p.is_null() {
            return None;
        }
        // `p` is in `buf`, which we borrow for `'a`, or in the skb's data,
        // which nobody frees or rewrites while the hook holds the skb (type
        // invariant); the skb is borrowed for `'a` too.
        // SAFETY: `p` is non-NULL and points to `N` bytes readable for `'a`.
        Some(unsafe { &*p.cast::<[u8; N]>() })
    }
}
