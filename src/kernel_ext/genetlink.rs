// SPDX-License-Identifier: GPL-2.0
//! Generic netlink: a family registered for the module's lifetime, with its
//! commands dispatched to a safe handler trait; request attributes read
//! through `&Attr`/`Attrs` borrowed from the `&Request`; a `Reply` is built
//! for the request it borrows, a `DumpEntry` inside the dump part it
//! borrows (so a dump can end or trim only its own last message); `Message`
//! is the attribute writer they share with multicast events.
//!
//! The operations are the split-ops table generated from the spec
//! (src/dockfw_nl_gen.c, from include/dockfw.yaml by the kernel's
//! ynl-gen-c.py): per operation, its request policy, its flags
//! (`admin-perm`: CAP_NET_ADMIN) and the names of its handlers,
//! `dockfw_nl_<op>_doit` / `_dumpit`. Those names are the entry points
//! below, which forward to the registered `Family`; a name the spec has and
//! this file lacks fails the module's link. The core validates each request
//! strictly against its operation's policy before a handler runs; an
//! operation without a request policy is refused any attribute here.
//!
//! Multicast events can be sent from any context (the hooks, in softirq)
//! through the family's `FamilySlot`, an RCU-protected pointer to the
//! registered family.
//!
//! Lifecycle: `Registration::register` → `genl_register_family` (requests
//! may arrive from then on) → the slot is published (events may be sent);
//! drop → the slot is cleared and a grace period waited for (no sender is
//! left) → `genl_unregister_family`, which waits for running handlers and
//! dumps to finish. In-flight dumps also hold a module reference
//! (`family.module`), so the module cannot go away under them.

use super::bindings;
use core::ffi::{c_int, c_long, c_void};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{code::*, to_result, Error, Result};
use kernel::str::CStr;
use kernel::types::Opaque;
use kernel::ThisModule;

/// A generic netlink family's behaviour.
pub(crate) trait Family: 'static {
    const NAME: &'static CStr;
    const VERSION: u32;
    /// The multicast groups, in the order of the generated
    /// `DOCKFW_NLGRP_*` indices.
    const MCGRPS: &'static [&'static CStr];

    /// Handles a request; sends its own reply (or none: the core acks).
    fn doit(cmd: u8, req: &Request) -> Result;

    /// Fills one part of a dump; returns `Ok(true)` when more parts follow.
    fn dumpit(cmd: u8, dump: &mut Dump<'_>) -> Result<bool>;

    /// The slot through which events are multicast (a `static` of the
    /// implementor's).
    fn slot() -> &'static FamilySlot;

    /// A socket is joining multicast group `group` (an index into
    /// `MCGRPS`). Process context, may sleep. Called *before* the socket's
    /// membership is visible (`has_listeners` does not see it yet), and the
    /// join cannot be refused from here (the genl core ignores the result).
    fn joining(_group: usize) {}

    /// A socket left group `group` (dropped it or closed). Process context,
    /// may sleep; the membership is already gone from `has_listeners`. Not
    /// balanced with `joining`: dropping a group the socket never joined
    /// calls it too, so the caller must re-derive, not count.
    fn left(_group: usize) {}
}

/// The registered family, for multicast from any context.
///
/// # Invariants
///
/// `family` is NULL or points to a family registered by a live
/// `Registration`; it is cleared, and a grace period waited for, before that
/// family is unregistered, so a reader inside an RCU read-side section never
/// sees a stale pointer.
pub(crate) struct FamilySlot {
    family: super::rcu::RcuPtr<bindings::genl_family>,
}

/// What happened to one multicast event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Delivery {
    /// Nobody listens (or the family is gone): nothing was built.
    NoListener,
    /// Every listener got it.
    Sent,
    /// Lost: no memory, too big, or a listener's queue was full (or the
    /// last listener left after the check).
    Lost,
}

impl FamilySlot {
    pub(crate) const fn new() -> Self {
        Self { family: super::rcu::RcuPtr::null() }
    }

    /// Builds a `cmd` message of about `size` bytes with `build` and
    /// multicasts it on `group`. Safe in atomic context: the listener check
    /// comes first (no work when nobody listens), the allocation is atomic,
    /// and a full listener loses the event instead of blocking anybody.
    pub(crate) fn multicast(
        &self,
        group: u32,
        cmd: u8,
        size: usize,
        build: impl FnOnce(&mut Message) -> Result,
    ) -> Delivery {
        self.family.with(|fam| Self::multicast_locked(fam, group, cmd, size, build))
    }

    /// Whether anyone listens on `group` now (a hint: it may change at
    /// once). Lets callers skip building what nobody would receive.
    pub(crate) fn has_listeners(&self, group: u32) -> bool {
        // SAFETY: by the invariant a non-NULL family stays registered until
        // the read-side section `with` holds ends.
        self.family.with(|fam| !fam.is_null() && unsafe { bindings::dockfw_genl_has_listeners(fam, group) } != 0)
    }

    /// `fam` as loaded inside an RCU read-side section that is still held.
    fn multicast_locked(
        fam: *const bindings::genl_family,
        group: u32,
        cmd: u8,
        size: usize,
        build: impl FnOnce(&mut Message) -> Result,
    ) -> Delivery {
        // SAFETY: by the invariant a non-NULL family stays registered for
        // this RCU read-side section.
        if fam.is_null() || unsafe { bindings::dockfw_genl_has_listeners(fam, group) } == 0 {
            return Delivery::NoListener;
        }
        // SAFETY: atomic allocation, callable from softirq.
        let skb = unsafe { bindings::dockfw_genlmsg_new_atomic(size) };
        if skb.is_null() {
            return Delivery::Lost;
        }
        // INVARIANT: `skb` is a fresh message of ours, not yet sent.
        let owned = OwnedSkb(skb);
        // SAFETY: `skb` is ours; `fam` is registered.
        let hdr = unsafe { bindings::dockfw_genlmsg_put_event(skb, fam, cmd) };
        if hdr.is_null() {
            return Delivery::Lost; // `owned` frees the skb
        }
        // INVARIANT: `hdr` is the genetlink header just put into `skb`.
        let mut msg = Message { skb, hdr };
        if build(&mut msg).is_err() {
            return Delivery::Lost;
        }
        let skb = owned.into_raw();
        // netlink_broadcast reports a listener whose queue was full as
        // -ESRCH ("delivered to nobody") unless that listener asked for
        // NETLINK_BROADCAST_ERROR; listeners were there a moment ago, so
        // anything but 0 means the event was lost.
        // SAFETY: `msg` holds a complete message; multicast consumes the skb.
        match unsafe { bindings::dockfw_genlmsg_multicast(fam, skb, hdr, group) } {
            0 => Delivery::Sent,
            _ => Delivery::Lost,
        }
    }

    fn publish(&self, fam: *mut bindings::genl_family) {
        // SAFETY: only `Registration::register` writes here, serialised by
        // the module loader; the family is registered.
        unsafe { self.family.replace(fam) };
    }

    fn clear(&self) {
        // SAFETY: only `Registration::drop` writes here (module exit).
        unsafe { self.family.replace(core::ptr::null_mut()) };
        // No sender may still hold the family after this.
        super::rcu::synchronize();
    }
}

/// Per-socket state owners implement this to forget a socket's state when
/// it is closed.
pub(crate) trait OnRelease: 'static {
    /// A generic netlink socket of init_net with port id `portid` is being
    /// released. Process context: may sleep.
    fn on_release(portid: u32);
}

/// A netlink notifier calling `T::on_release` for released sockets, for the
/// life of the value.
///
/// # Invariants
///
/// `nb` is registered with `netlink_register_notifier` and pinned.
pub(crate) struct ReleaseNotifier<T: OnRelease> {
    nb: core::pin::Pin<KBox<Opaque<bindings::notifier_block>>>,
    _t: PhantomData<T>,
}

impl<T: OnRelease> ReleaseNotifier<T> {
    pub(crate) fn register() -> Result<Self> {
        let raw = bindings::notifier_block { notifier_call: Some(Self::call), ..Default::default() };
        let nb = KBox::pin(Opaque::new(raw), GFP_KERNEL)?;
        // SAFETY: `nb` is pinned and lives until `drop` unregisters it.
        to_result(unsafe { bindings::netlink_register_notifier(nb.get()) })?;
        Ok(Self { nb, _t: PhantomData })
    }

    /// # Safety
    ///
    /// Only for the netlink notifier chain: `ptr` must be what that chain
    /// passes for `event` (a `struct netlink_notify` for NETLINK_URELEASE).
    unsafe extern "C" fn call(_nb: *mut bindings::notifier_block, event: core::ffi::c_ulong, ptr: *mut c_void) -> c_int {
        let mut portid = 0u32;
        // SAFETY: the netlink notifier chain passes a `struct netlink_notify`
        // for the events the helper filters on.
        if unsafe { bindings::dockfw_netlink_release_portid(event, ptr, &mut portid) } != 0 {
            T::on_release(portid);
        }
        0 // NOTIFY_DONE
    }
}

impl<T: OnRelease> Drop for ReleaseNotifier<T> {
    fn drop(&mut self) {
        // SAFETY: registered by the type invariant; the chain's rwsem makes
        // sure no call is running when this returns.
        unsafe { bindings::netlink_unregister_notifier(self.nb.get()) };
    }
}

// SAFETY: the notifier block is only touched at register/unregister.
unsafe impl<T: OnRelease> Send for ReleaseNotifier<T> {}
// SAFETY: `&ReleaseNotifier` has no methods: sharing it gives access to
// nothing (the notifier block is touched only by register and drop).
unsafe impl<T: OnRelease> Sync for ReleaseNotifier<T> {}

/// Attributes of a request or of a nested attribute, by type.
///
/// # Invariants
///
/// Every non-NULL entry of `tb` points to an attribute of a request that
/// lives for `'a`, validated against the family's policy.
pub(crate) struct Attrs<'a> {
    tb: &'a [*mut bindings::nlattr],
}

/// A validated attribute, borrowed from the request that carries it
/// (`&'a Attr` lives no longer than the request).
///
/// # Invariants
///
/// Only ever seen as a reference to an attribute inside a live request,
/// validated against the family's policy (so its length matches its
/// declared type).
#[repr(transparent)]
pub(crate) struct Attr(Opaque<bindings::nlattr>);

impl Attr {
    /// # Safety
    ///
    /// `p` must point to a policy-validated attribute of a request that
    /// lives for `'a`.
    unsafe fn from_raw<'a>(p: *const bindings::nlattr) -> &'a Attr {
        // SAFETY: `Attr` is a transparent wrapper of `nlattr`; the caller
        // guarantees the attribute lives for `'a`.
        unsafe { &*p.cast::<Attr>() }
    }

    fn as_raw(&self) -> *const bindings::nlattr {
        self.0.get()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: by the invariant the attribute lives as long as `self`;
        // `nla_data`/`nla_len` describe its payload inside the request.
        unsafe {
            let len = bindings::dockfw_nla_len(self.as_raw());
            let data = bindings::dockfw_nla_data(self.as_raw()).cast::<u8>();
            core::slice::from_raw_parts(data, usize::try_from(len).unwrap_or(0))
        }
    }

    fn fixed<const N: usize>(&self) -> Option<[u8; N]> {
        self.bytes().get(..N).and_then(|b| b.try_into().ok())
    }

    pub(crate) fn u8(&self) -> Option<u8> {
        self.fixed::<1>().map(u8::from_ne_bytes)
    }

    pub(crate) fn u16(&self) -> Option<u16> {
        self.fixed::<2>().map(u16::from_ne_bytes)
    }

    pub(crate) fn u32(&self) -> Option<u32> {
        self.fixed::<4>().map(u32::from_ne_bytes)
    }

    /// A NUL_STRING attribute without its terminator.
    pub(crate) fn str(&self) -> Option<&str> {
        let b = self.bytes();
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        core::str::from_utf8(&b[..end]).ok()
    }

    /// The elements of a nested array attribute.
    pub(crate) fn nested_iter(&self) -> NestedIter<'_> {
        NestedIter { parent: self, prev: core::ptr::null_mut(), rem: -1 }
    }
}

/// # Invariants
///
/// `prev` is NULL or an element of `parent`'s payload returned by the walk.
pub(crate) struct NestedIter<'a> {
    parent: &'a Attr,
    prev: *mut bindings::nlattr,
    rem: c_int,
}

impl<'a> Iterator for NestedIter<'a> {
    type Item = &'a Attr;
    fn next(&mut self) -> Option<&'a Attr> {
        // SAFETY: `parent` is a validated nested attribute alive for `'a`;
        // the helper walks its payload with `nla_ok` bounds checks.
        let n = unsafe { bindings::dockfw_nla_next_nested(self.parent.as_raw(), self.prev, &mut self.rem) };
        if n.is_null() {
            return None;
        }
        // INVARIANT: `n` is the element the walk just returned.
        self.prev = n;
        // SAFETY: an element inside `parent`'s payload, which lives for `'a`.
        Some(unsafe { Attr::from_raw(n) })
    }
}

impl<'a> Attrs<'a> {
    pub(crate) fn get(&self, ty: u32) -> Option<&'a Attr> {
        let p = *self.tb.get(usize::try_from(ty).ok()?)?;
        // SAFETY: by the invariant a non-NULL entry lives for `'a`.
        (!p.is_null()).then(|| unsafe { Attr::from_raw(p) })
    }

    pub(crate) fn has(&self, ty: u32) -> bool {
        self.get(ty).is_some()
    }
}

/// Slots of a parsed rule table: `DOCKFW_RA_MAX + 1`.
const RULE_SLOTS: usize = bindings::dockfw_rule_attr___DOCKFW_RA_MAX as usize;

/// The message does not fit (`-EMSGSIZE`): a dump part is full.
fn emsgsize() -> Error {
    Error::from_errno(-(kernel::bindings::EMSGSIZE as i32))
}

/// Room for one parsed rule: one slot per rule attribute.
pub(crate) struct RuleTable {
    tb: [*mut bindings::nlattr; RULE_SLOTS],
}

impl RuleTable {
    pub(crate) fn new() -> Self {
        Self { tb: [core::ptr::null_mut(); RULE_SLOTS] }
    }

    /// Parses a nested rule attribute, validating it against the rule
    /// policy; the error message goes into the request's extended ack.
    pub(crate) fn parse<'a>(&'a mut self, nla: &'a Attr, req: &Request) -> Result<Attrs<'a>> {
        // SAFETY: `tb` has DOCKFW_RA_MAX + 1 slots as the helper requires;
        // `nla` is a valid attribute of the live request; `info` is live.
        to_result(unsafe { bindings::dockfw_parse_rule(self.tb.as_mut_ptr(), nla.as_raw(), req.as_raw()) })?;
        // INVARIANT: the helper filled `tb` with attributes inside `nla`,
        // validated against the rule policy, or NULL.
        Ok(Attrs { tb: &self.tb })
    }
}

/// A request being handled: the `genl_info` of one `doit` call, borrowed
/// for the call (`&Request`), so nothing taken from it (attributes, a
/// reply) outlives the call.
///
/// # Invariants
///
/// Only ever seen as a reference to the live `genl_info` of the current
/// `doit` call of a registered family.
#[repr(transparent)]
pub(crate) struct Request(Opaque<bindings::genl_info>);

impl Request {
    /// # Safety
    ///
    /// `info` must be the live `genl_info` of a `doit` call of a family
    /// registered by a `Registration`, for all of `'a`.
    unsafe fn from_raw<'a>(info: *mut bindings::genl_info) -> &'a Request {
        // SAFETY: a transparent wrapper; liveness is the caller's promise.
        unsafe { &*info.cast::<Request>() }
    }

    fn as_raw(&self) -> *mut bindings::genl_info {
        self.0.get()
    }

    pub(crate) fn attr(&self, ty: u32) -> Option<&Attr> {
        // SAFETY: by the invariant `info` is live; the helper bounds-checks
        // `ty` against this operation's maxattr (the size of the table the
        // core parsed into) and answers NULL where there is no table.
        let p = unsafe { bindings::dockfw_info_attr(self.as_raw(), ty as c_int) };
        // SAFETY: a validated attribute of this request, alive as long as it.
        (!p.is_null()).then(|| unsafe { Attr::from_raw(p) })
    }

    /// The sender's netlink port id (one per socket).
    pub(crate) fn portid(&self) -> u32 {
        // SAFETY: by the invariant `info` is live.
        unsafe { bindings::dockfw_info_portid(self.as_raw()) }
    }

    /// Sets the extended-ack message of the reply (copied, up to 79 bytes).
    pub(crate) fn set_error_msg(&self, msg: &str) {
        // SAFETY: `info` is live; the helper copies `msg` into the ack.
        unsafe { bindings::dockfw_info_set_msg(self.as_raw(), msg.as_ptr().cast(), msg.len()) }
    }

    /// Fails with `err` and `msg` in the extended ack.
    pub(crate) fn fail<T>(&self, err: Error, msg: &str) -> Result<T> {
        self.set_error_msg(msg);
        Err(err)
    }

    /// A reply to this request, to be sent with `send` during this call.
    pub(crate) fn reply(&self, cmd: u8, payload: usize) -> Result<Reply<'_>> {
        // SAFETY: process context; a fresh skb or NULL.
        let skb = unsafe { bindings::dockfw_genlmsg_new(payload) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `skb` is a fresh message of ours, not yet sent.
        let owned = OwnedSkb(skb);
        // SAFETY: `info` is live, and so is the family it names.
        let family = unsafe { bindings::dockfw_info_family(self.as_raw()) };
        // SAFETY: `skb` is ours, `info` and `family` are live.
        let hdr = unsafe { bindings::dockfw_genlmsg_put_reply(skb, self.as_raw(), family, cmd) };
        if hdr.is_null() {
            return Err(emsgsize()); // `owned` frees the skb
        }
        // INVARIANT: `hdr` is the header just put into `skb`, which `owned` holds.
        Ok(Reply { msg: Message { skb, hdr }, _owned: owned, _req: PhantomData })
    }

    /// Sends `reply` (one of this request's) back to the requester.
    pub(crate) fn send(&self, reply: Reply<'_>) -> Result {
        let Reply { msg, _owned: owned, .. } = reply;
        // SAFETY: `msg` is a complete message in the skb `owned` holds.
        unsafe { bindings::dockfw_genlmsg_end(msg.skb, msg.hdr) };
        let skb = owned.into_raw();
        // SAFETY: `skb` is ours and complete; `genlmsg_reply` consumes it;
        // `info` is live.
        to_result(unsafe { bindings::dockfw_genlmsg_reply(skb, self.as_raw()) })
    }
}

/// An skb we allocated and have not handed to the netlink core: freed on
/// drop unless given away with `into_raw`.
///
/// # Invariants
///
/// `0` is a live skb owned by this value.
struct OwnedSkb(*mut bindings::sk_buff);

impl OwnedSkb {
    fn into_raw(self) -> *mut bindings::sk_buff {
        let p = self.0;
        core::mem::forget(self);
        p
    }
}

impl Drop for OwnedSkb {
    fn drop(&mut self) {
        // SAFETY: by the invariant the skb is ours and unsent.
        unsafe { bindings::dockfw_kfree_skb(self.0) };
    }
}

/// The attribute writer of one message being built (a reply, an event, or
/// one message of a dump part). Only reachable as `&mut Message` through a
/// `Reply`, a `DumpEntry` or a multicast's build closure, which decide how
/// the message ends.
///
/// # Invariants
///
/// `skb` is a live skb being built by the current holder, with a genetlink
/// header at `hdr` followed by the attributes put so far.
pub(crate) struct Message {
    skb: *mut bindings::sk_buff,
    hdr: *mut c_void,
}

/// An open nested attribute; close it with `Message::nest_end`.
pub(crate) struct Nest(*mut bindings::nlattr);

impl Message {
    fn put(&mut self, ty: u32, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| emsgsize())?;
        // SAFETY: `skb` is a live message being built; `data` is valid.
        to_result(unsafe { bindings::dockfw_nla_put(self.skb, ty as c_int, data.as_ptr().cast(), len) })
            .map_err(|_| emsgsize())
    }

    pub(crate) fn put_u8(&mut self, ty: u32, v: u8) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    pub(crate) fn put_u16(&mut self, ty: u32, v: u16) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    pub(crate) fn put_u32(&mut self, ty: u32, v: u32) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    pub(crate) fn put_u64(&mut self, ty: u32, v: u64, pad: u32) -> Result {
        // SAFETY: `skb` is a live message being built.
        to_result(unsafe { bindings::dockfw_nla_put_u64(self.skb, ty as c_int, v, pad as c_int) })
            .map_err(|_| emsgsize())
    }

    pub(crate) fn put_bytes(&mut self, ty: u32, v: &[u8]) -> Result {
        self.put(ty, v)
    }

    pub(crate) fn put_flag(&mut self, ty: u32) -> Result {
        self.put(ty, &[])
    }

    /// A NUL-terminated string attribute.
    pub(crate) fn put_str(&mut self, ty: u32, s: &[u8]) -> Result {
        let mut buf = [0u8; 80];
        let n = s.len().min(buf.len() - 1);
        buf[..n].copy_from_slice(&s[..n]);
        self.put(ty, &buf[..=n])
    }

    pub(crate) fn nest_start(&mut self, ty: u32) -> Result<Nest> {
        // SAFETY: `skb` is a live message being built.
        let n = unsafe { bindings::dockfw_nla_nest_start(self.skb, ty as c_int) };
        if n.is_null() {
            Err(emsgsize())
        } else {
            Ok(Nest(n))
        }
    }

    pub(crate) fn nest_end(&mut self, n: Nest) {
        // SAFETY: `n` was opened on this message and is the innermost nest.
        unsafe { bindings::dockfw_nla_nest_end(self.skb, n.0) }
    }
}

/// A reply being built for the request it borrows; freed unless sent with
/// `Request::send`.
pub(crate) struct Reply<'r> {
    msg: Message,
    _owned: OwnedSkb,
    _req: PhantomData<&'r Request>,
}

impl core::ops::Deref for Reply<'_> {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.msg
    }
}

impl core::ops::DerefMut for Reply<'_> {
    fn deref_mut(&mut self) -> &mut Message {
        &mut self.msg
    }
}

/// One part of a dump: the skb the core gave this `dumpit` call.
///
/// # Invariants
///
/// `skb` and `cb` are the live arguments of the current `dumpit` call and
/// `family` the registered family it dumps.
pub(crate) struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    family: *const bindings::genl_family,
    _a: PhantomData<&'a ()>,
}

impl<'a> Dump<'a> {
    /// The dump's cursor: kept by the core between parts (`cb->args[0]`).
    pub(crate) fn cursor(&mut self) -> &mut c_long {
        // SAFETY: `cb->args` is an array of six longs owned by the callback
        // for the whole dump; we hand out one element, uniquely borrowed.
        unsafe { &mut *bindings::dockfw_dump_args(self.cb) }
    }

    /// Starts one message of the dump; `None` when this part is full. The
    /// entry borrows the part, so it is the only open message and can only
    /// be finished or cancelled in this part.
    pub(crate) fn start(&mut self, cmd: u8) -> Option<DumpEntry<'_, 'a>> {
        // SAFETY: `skb`, `cb`, `family` are live for this call.
        let hdr = unsafe { bindings::dockfw_dump_put(self.skb, self.cb, self.family, cmd) };
        // INVARIANT: `hdr` is the header just put at the end of this part.
        (!hdr.is_null()).then(|| DumpEntry { msg: Message { skb: self.skb, hdr }, dump: self, done: false })
    }
}

/// The last message started in a dump part. `finish` ends it; dropped
/// unfinished (or `cancel`led), it is removed from the part, to be sent in
/// the next one.
///
/// # Invariants
///
/// `msg.hdr` is the last message started on `dump`'s skb.
pub(crate) struct DumpEntry<'d, 'a> {
    msg: Message,
    dump: &'d mut Dump<'a>,
    done: bool,
}

impl DumpEntry<'_, '_> {
    /// Ends the message; `generation` marks the dump interrupted
    /// (NLM_F_DUMP_INTR) if the data changed between parts.
    pub(crate) fn finish(mut self, generation: u32) {
        // SAFETY: `msg` is this part's last message; the header is complete.
        unsafe {
            bindings::dockfw_dump_check_consistent(self.dump.cb, self.msg.hdr, generation);
            bindings::dockfw_genlmsg_end(self.dump.skb, self.msg.hdr);
        }
        self.done = true;
    }

    /// Removes a message that did not fit, to be sent in the next part.
    pub(crate) fn cancel(self) {}
}

impl Drop for DumpEntry<'_, '_> {
    fn drop(&mut self) {
        if !self.done {
            // SAFETY: by the invariant `msg` is the last message started on
            // this skb, so trimming the skb back to its header removes it.
            unsafe { bindings::dockfw_genlmsg_cancel(self.dump.skb, self.msg.hdr) };
        }
    }
}

impl core::ops::Deref for DumpEntry<'_, '_> {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.msg
    }
}

impl core::ops::DerefMut for DumpEntry<'_, '_> {
    fn deref_mut(&mut self) -> &mut Message {
        &mut self.msg
    }
}

struct Adapter<F>(PhantomData<F>);

impl<F: Family> Adapter<F> {
    /// `genl_family.bind`: a socket is joining one of our groups.
    ///
    /// # Safety
    ///
    /// Only for the genl core, which passes the index of one of the
    /// family's multicast groups.
    unsafe extern "C" fn bind(group: c_int) -> c_int {
        if let Ok(g) = usize::try_from(group) {
            F::joining(g);
        }
        0
    }

    /// `genl_family.unbind`: a socket left one of our groups.
    ///
    /// # Safety
    ///
    /// As for `bind`.
    unsafe extern "C" fn unbind(group: c_int) {
        if let Ok(g) = usize::try_from(group) {
            F::left(g);
        }
    }

    /// # Safety
    ///
    /// Only for the genl core: `info` must be the live request info of a
    /// command of the family registered by `Registration<F>`.
    unsafe fn doit(info: *mut bindings::genl_info) -> c_int {
        // SAFETY: `info` is live (the caller's contract).
        let refused = unsafe { bindings::dockfw_nl_no_attrs(info) };
        if refused != 0 {
            return refused;
        }
        // SAFETY: the genl core passes a live `info` whose header was
        // validated.
        let cmd = unsafe { genl_cmd(info) };
        // SAFETY: `info` is live for this call, of our registered family.
        let req = unsafe { Request::from_raw(info) };
        match F::doit(cmd, req) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only for the genl core: `skb` and `cb` must be the live arguments of
    /// a dump of the family registered by `Registration<F>`.
    unsafe fn dumpit(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> c_int {
        // SAFETY: `cb` is live (the caller's contract).
        let refused = unsafe { bindings::dockfw_nl_dump_no_attrs(cb) };
        if refused != 0 {
            return refused;
        }
        // SAFETY: `cb` is live; the helper reads the command from the
        // request's genetlink header and the family from the callback.
        let (cmd, family) = unsafe { (bindings::dockfw_dump_cmd(cb), bindings::dockfw_dump_family(cb)) };
        // INVARIANT: the live arguments of this call, of our registered family.
        let mut d = Dump { skb, cb, family, _a: PhantomData };
        match F::dumpit(cmd, &mut d) {
            // A positive return asks the core for another part.
            // SAFETY: `skb` is the live part buffer.
            Ok(true) => unsafe { bindings::dockfw_skb_len(skb) as c_int },
            Ok(false) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// What the entry points call while `F` is registered.
    const HANDLERS: Handlers = Handlers { doit: Self::doit, dumpit: Self::dumpit };
}

/// # Safety
/// `info` must be a live `genl_info`.
unsafe fn genl_cmd(info: *mut bindings::genl_info) -> u8 {
    // SAFETY: guaranteed by the caller.
    unsafe { bindings::dockfw_info_cmd(info) }
}

/// The registered family's handlers, behind the generated table's entry
/// points (the table is C and cannot name a Rust generic).
struct Handlers {
    /// # Safety: as `Adapter::doit`.
    doit: unsafe fn(*mut bindings::genl_info) -> c_int,
    /// # Safety: as `Adapter::dumpit`.
    dumpit: unsafe fn(*mut bindings::sk_buff, *mut bindings::netlink_callback) -> c_int,
}

/// The handlers of the family being registered or registered; NULL
/// otherwise.
///
/// # Invariants
///
/// Non-NULL only from just before `genl_register_family` until after
/// `genl_unregister_family` of a `Registration<F>`, and then it points to
/// the constant `Adapter::<F>::HANDLERS` of that `F`.
static HANDLERS: AtomicPtr<Handlers> = AtomicPtr::new(core::ptr::null_mut());

/// Defines the generated ops table's handler symbols, each forwarding to
/// the registered family.
macro_rules! entry_points {
    (doit: [$($doit:ident),* $(,)?], dumpit: [$($dumpit:ident),* $(,)?] $(,)?) => {
        $(
            /// A `doit` named by the generated ops table (src/dockfw_nl_gen.c).
            ///
            /// # Safety
            ///
            /// Only for the genl core, with the live arguments of a request
            /// of the family `Registration` registered.
            #[no_mangle]
            unsafe extern "C" fn $doit(_skb: *mut bindings::sk_buff, info: *mut bindings::genl_info) -> c_int {
                let h = HANDLERS.load(Ordering::Acquire);
                if h.is_null() {
                    return ENODEV.to_errno();
                }
                // SAFETY: by the invariant of `HANDLERS`, `h` points to a
                // constant and the family whose request this is is
                // registered; `info` is live (the caller's contract).
                unsafe { ((*h).doit)(info) }
            }
        )*
        $(
            /// A `dumpit` named by the generated ops table.
            ///
            /// # Safety
            ///
            /// As the `doit` entry points, with a dump's live arguments.
            #[no_mangle]
            unsafe extern "C" fn $dumpit(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> c_int {
                let h = HANDLERS.load(Ordering::Acquire);
                if h.is_null() {
                    return ENODEV.to_errno();
                }
                // SAFETY: as for the `doit` entry points; `skb` and `cb`
                // are the dump part's live arguments.
                unsafe { ((*h).dumpit)(skb, cb) }
            }
        )*
    };
}

// One name per operation of include/dockfw.yaml (src/dockfw_nl_gen.h).
entry_points!(
    doit: [
        dockfw_nl_rule_add_doit, dockfw_nl_rule_del_doit, dockfw_nl_rule_get_doit,
        dockfw_nl_flush_doit, dockfw_nl_replace_doit, dockfw_nl_stats_get_doit,
        dockfw_nl_policy_get_doit, dockfw_nl_policy_set_doit, dockfw_nl_trace_set_doit,
        dockfw_nl_trace_clear_doit,
    ],
    dumpit: [dockfw_nl_rule_get_dumpit],
);

struct FamilyStorage {
    family: Opaque<bindings::genl_family>,
    mcgrps: [bindings::genl_multicast_group; 2],
}

/// `F` registered as a generic netlink family for the life of the value.
///
/// # Invariants
///
/// `storage.family` is registered with `genl_register_family` and points
/// into `storage` (multicast groups), which is pinned on the heap, and to
/// the generated ops table (static C data); `HANDLERS` holds `F`'s.
pub(crate) struct Registration<F: Family> {
    storage: core::pin::Pin<KBox<FamilyStorage>>,
    _f: PhantomData<F>,
}

impl<F: Family> Registration<F> {
    pub(crate) fn register(module: &'static ThisModule) -> Result<Self> {
        if F::MCGRPS.len() > 2 {
            return Err(EINVAL);
        }
        let mut storage = KBox::pin(
            FamilyStorage {
                family: Opaque::new(bindings::genl_family::default()),
                mcgrps: [bindings::genl_multicast_group::default(); 2],
            },
            GFP_KERNEL,
        )?;
        // SAFETY: we only fill in plain fields; nothing is moved out of the
        // pinned allocation.
        let s = unsafe { storage.as_mut().get_unchecked_mut() };
        for (i, name) in F::MCGRPS.iter().enumerate() {
            let dst = &mut s.mcgrps[i].name;
            for (d, &b) in dst.iter_mut().zip(super::compat::cstr_bytes(name)) {
                *d = b as _;
            }
            s.mcgrps[i].flags = bindings::dockfw_kconsts_DOCKFW_K_MCAST_CAP_NET_ADMIN as u8;
        }
        // SAFETY: `family` is ours and not yet registered.
        let fam = unsafe { &mut *s.family.get() };
        for (d, &b) in fam.name.iter_mut().zip(super::compat::cstr_bytes(F::NAME)) {
            *d = b as _;
        }
        fam.version = F::VERSION;
        // SAFETY: only the address of the generated table (immutable C
        // data for the module's lifetime) is taken.
        let ops = unsafe { &*core::ptr::addr_of!(bindings::dockfw_nl_ops) };
        fam.split_ops = ops.as_ptr();
        fam.n_split_ops = ops.len() as _;
        fam.mcgrps = s.mcgrps.as_ptr();
        fam.n_mcgrps = F::MCGRPS.len() as u8;
        fam.bind = Some(Adapter::<F>::bind);
        fam.unbind = Some(Adapter::<F>::unbind);
        // Split ops are validated strictly (reserved header fields, their
        // policies) unless they opt out, and none does.
        fam.module = module.as_ptr().cast();
        let handlers: &'static Handlers = &Adapter::<F>::HANDLERS;
        if HANDLERS
            .compare_exchange(core::ptr::null_mut(), handlers as *const _ as *mut _, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // One family per module: the entry points serve one.
            return Err(EBUSY);
        }
        // SAFETY: `family` and everything it points to live in the pinned
        // storage, which outlives the registration (dropped after unregister).
        if let Err(e) = to_result(unsafe { bindings::genl_register_family(s.family.get()) }) {
            HANDLERS.store(core::ptr::null_mut(), Ordering::Release);
            return Err(e);
        }
        F::slot().publish(s.family.get());
        // INVARIANT: the family is registered and points into `storage`
        // (pinned, dropped only after unregistering) and to the generated
        // ops; `HANDLERS` holds `F`'s until after it is unregistered.
        Ok(Self { storage, _f: PhantomData })
    }
}

impl<F: Family> Drop for Registration<F> {
    fn drop(&mut self) {
        // No event sender may use the family past this point.
        F::slot().clear();
        // SAFETY: registered by the type invariant. This waits for running
        // handlers; afterwards no callback can reference the storage.
        unsafe { bindings::genl_unregister_family(self.storage.family.get()) };
        // No handler runs any more (unregistering waited for them).
        HANDLERS.store(core::ptr::null_mut(), Ordering::Release);
    }
}

// SAFETY: the storage is only touched at register and unregister time, which
// the module loader serialises; `&Registration` exposes nothing.
unsafe impl<F: Family> Send for Registration<F> {}
// SAFETY: `&Registration` has no methods: sharing it gives access to
// nothing; the genl core reads the family through its own pointer.
unsafe impl<F: Family> Sync for Registration<F> {}
