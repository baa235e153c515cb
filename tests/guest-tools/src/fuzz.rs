// SPDX-License-Identifier: GPL-2.0
//! `dfwprobe fuzz SEED COUNT [FAMILY_ID]`: hostile generic-netlink input
//! against the real dockfw family. A deterministic PRNG (xorshift64*, seeded)
//! builds COUNT requests: random attributes of random types and sizes
//! (nested garbage included) for every command and for unknown ones, random
//! flags (dumps too), valid-looking rules and replace batches, the same
//! mutated (bytes flipped, attribute lengths corrupted, cut short), huge
//! batches and attribute counts, and lying message lengths.
//!
//! Every request is followed by a sentinel (POLICY_GET, its own sequence
//! number), so a request the kernel drops silently is seen as "no reply"
//! without a timeout. Each reply to a fuzzed request must be an NLMSG_ERROR
//! (ack or error), NLMSG_DONE, or a well-formed dockfw message (attributes
//! inside their bounds, DOCKFW_A_VERSION present); anything else is a
//! violation. When the state can be read (root in the initial namespace),
//! the rules (without counters), the policy, the generation and the trace
//! filter count are snapshot before and after each request: a rejected
//! request, and an accepted one that is not an update, must leave them
//! identical. Accepted updates are counted and the snapshot taken anew.
//!
//! Prints `VIOLATION ...` lines, then one summary line
//! `FUZZ sent=N acked=N data=N errors=N noreply=N updates=N violations=N
//! checked=N errnos=E:N,...`. Exit 0 unless the socket could not be used.

use std::collections::BTreeMap;
use std::mem::size_of;

use crate::nl::{open as nl_open, put_attr as put, send, Sock, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
use crate::uapi::*;

const NLM_F_DUMP: u16 = 0x300;
const NLMSG_DONE: u16 = 3;
const NLA_F_NESTED: u16 = 0x8000;

// The family's numbers, all from the generated uapi module.
const CMD_RULE_ADD: u8 = DOCKFW_CMD_RULE_ADD;
const CMD_RULE_DEL: u8 = DOCKFW_CMD_RULE_DEL;
const CMD_RULE_GET: u8 = DOCKFW_CMD_RULE_GET;
const CMD_FLUSH: u8 = DOCKFW_CMD_FLUSH;
const CMD_REPLACE: u8 = DOCKFW_CMD_REPLACE;
const CMD_STATS_GET: u8 = DOCKFW_CMD_STATS_GET;
const CMD_POLICY_GET: u8 = DOCKFW_CMD_POLICY_GET;
const CMD_POLICY_SET: u8 = DOCKFW_CMD_POLICY_SET;
const CMD_TRACE_SET: u8 = DOCKFW_CMD_TRACE_SET;
const CMD_TRACE_CLEAR: u8 = DOCKFW_CMD_TRACE_CLEAR;
const CMD_MAX_KNOWN: u8 = DOCKFW_CMD_MAX;
const A_VERSION: u16 = DOCKFW_A_VERSION;
const A_RULE: u16 = DOCKFW_A_RULE;
const A_RULE_ID: u16 = DOCKFW_A_RULE_ID;
const A_POLICY: u16 = DOCKFW_A_POLICY;
const A_PHASE: u16 = DOCKFW_A_PHASE;
const A_STATS: u16 = DOCKFW_A_STATS;
const A_RULES: u16 = DOCKFW_A_RULES;
const A_MATCH: u16 = DOCKFW_A_MATCH;
const A_TRACE_RULE: u16 = DOCKFW_A_TRACE_RULE;
const A_TRACE_ID: u16 = DOCKFW_A_TRACE_ID;
const A_MAX: u16 = DOCKFW_A_MAX;
const RA_VERDICT: u16 = DOCKFW_RA_VERDICT;
const RA_MAX: u16 = DOCKFW_RA_MAX;
const RA_PACKETS: u16 = DOCKFW_RA_PACKETS;
const RA_BYTES: u16 = DOCKFW_RA_BYTES;
const RA_PAD: u16 = DOCKFW_RA_PAD;
const STATS_RULES: u16 = DOCKFW_STATS_RULES;
const STATS_GENERATION: u16 = DOCKFW_STATS_GENERATION;
const STATS_TRACE_FILTERS: u16 = DOCKFW_STATS_TRACE_FILTERS;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// An attribute payload of a random, often boundary, size.
fn rand_data(r: &mut Rng) -> Vec<u8> {
    let n = match r.below(10) {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4 => 8,
        5 => 16,
        6 => 3,
        7 => 17,
        8 => r.below(300) as usize,
        _ => 5,
    };
    let mut d = r.bytes(n);
    if r.chance(30) && !d.is_empty() {
        // Often a string: printable, sometimes terminated.
        for b in d.iter_mut() {
            *b = b'a' + (*b % 26);
        }
        if r.chance(50) {
            *d.last_mut().unwrap() = 0;
        }
    }
    d
}

/// Random attributes with types below `max_ty + 3`, nests up to `depth`.
fn rand_attrs(r: &mut Rng, max_ty: u16, depth: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..r.below(6) {
        let ty = r.below(u64::from(max_ty) + 3) as u16;
        if depth > 0 && r.chance(30) {
            let inner = rand_attrs(r, RA_MAX, depth - 1);
            let flag = if r.chance(80) { NLA_F_NESTED } else { 0 };
            put(&mut out, ty | flag, &inner);
        } else {
            let d = rand_data(r);
            put(&mut out, ty, &d);
        }
    }
    out
}

/// A rule nest that is often valid: a verdict plus a few well-typed fields.
fn plausible_rule(r: &mut Rng) -> Vec<u8> {
    let mut n = Vec::new();
    if r.chance(90) {
        let bound = if r.chance(90) { 3 } else { 256 };
        put(&mut n, RA_VERDICT, &[r.below(bound) as u8]);
    }
    let proto = [6u8, 17, 1, 58, 0, 132][r.below(6) as usize];
    if r.chance(60) {
        put(&mut n, 6, &[proto]);
    }
    if r.chance(30) {
        put(&mut n, 5, &[[2u8, 10, 7][r.below(3) as usize]]);
    }
    if r.chance(40) {
        let min = r.below(65536) as u16;
        put(&mut n, 13, &min.to_ne_bytes());
        if r.chance(50) {
            put(&mut n, 14, &(min.saturating_add(r.below(100) as u16)).to_ne_bytes());
        }
    }
    if r.chance(30) {
        let len = [4usize, 16, 5, 0][r.below(4) as usize];
        let a = r.bytes(len);
        put(&mut n, [7u16, 9, 21][r.below(3) as usize], &a);
        if r.chance(50) {
            put(&mut n, [8u16, 10, 22][r.below(3) as usize], &[r.below(140) as u8]);
        }
    }
    if r.chance(20) {
        put(&mut n, 4, &(r.below(64) as u32).to_ne_bytes());
    }
    if r.chance(20) {
        put(&mut n, 2, &(r.next() as u32).to_ne_bytes());
    }
    if r.chance(15) {
        let mut s: Vec<u8> = (0..r.below(20)).map(|_| b"abcdefgh0123+"[r.below(13) as usize]).collect();
        s.push(0);
        put(&mut n, [15u16, 16, 24][r.below(3) as usize], &s);
    }
    if r.chance(10) {
        put(&mut n, 17, &(r.next() as u32).to_ne_bytes());
    }
    if r.chance(10) {
        put(&mut n, 18, &[]);
    }
    if r.chance(10) {
        put(&mut n, 19, &(r.below(32) as u32).to_ne_bytes());
    }
    n
}

/// Flips bytes, corrupts a length field or cuts the buffer short.
fn mutate(r: &mut Rng, mut p: Vec<u8>) -> Vec<u8> {
    if p.is_empty() {
        return p;
    }
    for _ in 0..=r.below(4) {
        if p.is_empty() {
            break;
        }
        let i = r.below(p.len() as u64) as usize;
        match r.below(4) {
            0 => p[i] ^= 1 << r.below(8),
            1 => p[i] = r.next() as u8,
            2 => {
                // An attribute length (at a 4-byte boundary) made to lie.
                let j = i & !3;
                if j + 2 <= p.len() {
                    let v = [0u16, 1, 3, 4, 0xffff, r.next() as u16][r.below(6) as usize];
                    p[j..j + 2].copy_from_slice(&v.to_ne_bytes());
                }
            }
            _ => p.truncate(i),
        }
    }
    p
}

/// One fuzzed request: (command, flags, genl version, payload, length delta).
fn request(r: &mut Rng) -> (u8, u16, u8, Vec<u8>, i32) {
    let cmd = match r.below(20) {
        0 => 0,
        1 => CMD_MAX_KNOWN + r.below(245) as u8,
        _ => 1 + r.below(u64::from(CMD_MAX_KNOWN)) as u8,
    };
    let mut flags = NLM_F_REQUEST | NLM_F_ACK;
    if r.chance(12) {
        flags |= NLM_F_DUMP;
    }
    if r.chance(3) {
        flags = r.next() as u16 | NLM_F_REQUEST;
    }
    let version = if r.chance(95) { 1 } else { r.next() as u8 };
    let payload = match r.below(10) {
        // Random attributes of every type, nested garbage.
        0..=2 => rand_attrs(r, A_MAX, 3),
        // Plausible requests for this command.
        3..=5 => plausible(r, cmd),
        // The same, mutated.
        6..=7 => {
            let p = plausible(r, cmd);
            mutate(r, p)
        }
        // Huge counts.
        8 => huge(r),
        // Nothing at all.
        _ => Vec::new(),
    };
    // Lying total length: shorter (cuts into the headers or attributes) or longer.
    let delta = if r.chance(5) { [-20i32, -4, -1, 1, 4, 1000][r.below(6) as usize] } else { 0 };
    (cmd, flags, version, payload, delta)
}

fn plausible(r: &mut Rng, cmd: u8) -> Vec<u8> {
    let mut p = Vec::new();
    match cmd {
        CMD_RULE_ADD => {
            let rule = plausible_rule(r);
            put(&mut p, A_RULE | NLA_F_NESTED, &rule);
        }
        CMD_RULE_DEL | CMD_RULE_GET => {
            put(&mut p, A_RULE_ID, &(r.below(8) as u32).to_ne_bytes());
        }
        CMD_POLICY_SET => put(&mut p, A_POLICY, &[r.below(4) as u8]),
        CMD_REPLACE => {
            put(&mut p, A_PHASE, &[r.below(5) as u8]);
            if r.chance(60) {
                let mut batch = Vec::new();
                for _ in 0..r.below(5) {
                    let rule = plausible_rule(r);
                    put(&mut batch, A_RULE | NLA_F_NESTED, &rule);
                }
                put(&mut p, A_RULES | NLA_F_NESTED, &batch);
            }
        }
        CMD_TRACE_SET => {
            if r.chance(70) {
                let m = plausible_rule(r);
                put(&mut p, A_MATCH | NLA_F_NESTED, &m);
            }
            if r.chance(40) {
                put(&mut p, A_TRACE_RULE, &(r.below(8) as u32).to_ne_bytes());
            }
        }
        CMD_TRACE_CLEAR if r.chance(60) => put(&mut p, A_TRACE_ID, &(r.below(8) as u32).to_ne_bytes()),
        _ => {
            if r.chance(50) {
                put(&mut p, r.below(u64::from(A_MAX) + 1) as u16, &r.bytes(4));
            }
        }
    }
    p
}

fn huge(r: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    match r.below(3) {
        0 => {
            // A replace batch of thousands of rules, often with one bad one.
            put(&mut p, A_PHASE, &[1]);
            let n = 500 + r.below(3000);
            let bad = r.below(n + n / 2);
            let mut batch = Vec::new();
            for i in 0..n {
                let mut rule = Vec::new();
                put(&mut rule, RA_VERDICT, &[if i == bad { 9 } else { 0 }]);
                put(&mut rule, 6, &[6]);
                put(&mut rule, 13, &((i % 65536) as u16).to_ne_bytes());
                put(&mut batch, A_RULE | NLA_F_NESTED, &rule);
            }
            // A nest longer than 64 KiB does not fit its u16 length.
            batch.truncate(65000);
            put(&mut p, A_RULES | NLA_F_NESTED, &batch);
        }
        1 => {
            // Thousands of tiny attributes of random types.
            for _ in 0..2000 + r.below(6000) {
                put(&mut p, r.below(u64::from(A_MAX) + 2) as u16, &[r.next() as u8]);
            }
        }
        _ => {
            // Deep nesting.
            let mut inner = Vec::new();
            put(&mut inner, RA_VERDICT, &[0]);
            for _ in 0..(10 + r.below(400)) {
                let mut outer = Vec::new();
                put(&mut outer, (r.below(u64::from(A_MAX)) as u16 + 1) | NLA_F_NESTED, &inner);
                inner = outer;
            }
            p = inner;
        }
    }
    p
}

/// The shared netlink socket of `nl`, with a big receive buffer (dumps of
/// thousands of rules) and a receive timeout (a reply that does not come
/// within 10 s is a violation, never a hang).
fn open() -> Result<Sock, String> {
    let s = nl_open()?;
    let big: i32 = 4 << 20;
    let tv = libc::timeval { tv_sec: 10, tv_usec: 0 };
    // SAFETY: plain setsockopt calls on our own socket with valid buffers.
    unsafe {
        libc::setsockopt(s.0, libc::SOL_SOCKET, libc::SO_RCVBUF, (&big as *const i32).cast(), 4);
        libc::setsockopt(
            s.0,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            size_of::<libc::timeval>() as u32,
        );
    }
    Ok(s)
}

fn message(family: u16, flags: u16, seq: u32, cmd: u8, version: u8, payload: &[u8], delta: i32) -> Vec<u8> {
    let len = 20 + payload.len();
    let claimed = (len as i64 + i64::from(delta)).max(0) as u32;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&claimed.to_ne_bytes());
    m.extend_from_slice(&family.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[cmd, version, 0, 0]);
    m.extend_from_slice(payload);
    m
}


/// One netlink message out of a datagram: (type, flags, seq, body).
struct Msg {
    ty: u16,
    seq: u32,
    body: Vec<u8>,
}

/// Reads datagrams until the NLMSG_ERROR (or DONE) of `until_seq`; returns
/// every message read, in order.
fn read_until(s: &Sock, until_seq: u32) -> Result<Vec<Msg>, String> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(s.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(format!("recv: {}", std::io::Error::last_os_error()));
        }
        let data = &buf[..n as usize];
        let mut off = 0;
        let mut done = false;
        while off + 16 <= data.len() {
            let len = u32::from_ne_bytes(data[off..off + 4].try_into().unwrap()) as usize;
            if len < 16 || off + len > data.len() {
                return Err(format!("kernel sent a message of length {len} in a datagram of {}", data.len()));
            }
            let ty = u16::from_ne_bytes(data[off + 4..off + 6].try_into().unwrap());
            let seq = u32::from_ne_bytes(data[off + 8..off + 12].try_into().unwrap());
            if seq == until_seq && (ty == NLMSG_ERROR || ty == NLMSG_DONE) {
                done = true;
            }
            out.push(Msg { ty, seq, body: data[off + 16..off + len].to_vec() });
            off += (len + 3) & !3;
        }
        if done {
            return Ok(out);
        }
    }
}

/// Attributes of `p` as (type without flags, payload), or None if any
/// length is out of bounds.
fn walk(p: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < p.len() {
        if off + 4 > p.len() {
            return None;
        }
        let len = u16::from_ne_bytes(p[off..off + 2].try_into().unwrap()) as usize;
        let ty = u16::from_ne_bytes(p[off + 2..off + 4].try_into().unwrap()) & 0x3fff;
        if len < 4 || off + len > p.len() {
            return None;
        }
        out.push((ty, &p[off + 4..off + len]));
        off += (len + 3) & !3;
    }
    Some(out)
}

/// A dockfw reply: genl header, attributes in bounds, a u32 version.
fn well_formed(body: &[u8]) -> bool {
    if body.len() < 4 {
        return false;
    }
    let Some(attrs) = walk(&body[4..]) else { return false };
    attrs.iter().any(|(t, v)| *t == A_VERSION && v.len() == 4)
        && attrs.iter().all(|(t, v)| match *t {
            A_RULE | A_STATS | A_RULES | A_MATCH => walk(v).is_some(),
            _ => true,
        })
}

struct Fuzzer {
    s: Sock,
    family: u16,
    seq: u32,
}

impl Fuzzer {
    fn call(&mut self, cmd: u8, flags: u16, payload: &[u8]) -> Result<Vec<Msg>, String> {
        self.seq += 1;
        let seq = self.seq;
        let flags = if flags & NLM_F_DUMP == NLM_F_DUMP { flags } else { flags | NLM_F_ACK };
        send(&self.s, &message(self.family, flags, seq, cmd, 1, payload, 0))?;
        Ok(read_until(&self.s, seq)?.into_iter().filter(|m| m.seq == seq).collect())
    }

    /// Rules without counters, policy, generation, rule and trace filter
    /// counts; None when they cannot be read (no permission, no family).
    fn snapshot(&mut self) -> Option<Vec<u8>> {
        let mut snap = Vec::new();
        for m in self.call(CMD_RULE_GET, NLM_F_REQUEST | NLM_F_DUMP, &[]).ok()? {
            match m.ty {
                NLMSG_DONE => {}
                NLMSG_ERROR => return None,
                _ => {
                    for (t, v) in walk(m.body.get(4..)?)? {
                        if t == A_RULE {
                            for (rt, rv) in walk(v)? {
                                if rt != RA_PACKETS && rt != RA_BYTES && rt != RA_PAD {
                                    snap.extend_from_slice(&rt.to_ne_bytes());
                                    snap.extend_from_slice(rv);
                                }
                            }
                            snap.push(0xff);
                        }
                    }
                }
            }
        }
        for (cmd, keep) in [(CMD_POLICY_GET, &[A_POLICY][..]), (CMD_STATS_GET, &[A_STATS][..])] {
            let msgs = self.call(cmd, NLM_F_REQUEST, &[]).ok()?;
            let m = msgs.iter().find(|m| m.ty == self.family)?;
            for (t, v) in walk(m.body.get(4..)?)? {
                if t == A_STATS {
                    for (st, sv) in walk(v)? {
                        if [STATS_RULES, STATS_GENERATION, STATS_TRACE_FILTERS].contains(&st) {
                            snap.extend_from_slice(&st.to_ne_bytes());
                            snap.extend_from_slice(sv);
                        }
                    }
                } else if keep.contains(&t) {
                    snap.extend_from_slice(v);
                }
            }
        }
        Some(snap)
    }
}

fn family_id(s: &Sock) -> Option<u16> {
    crate::nl::family_id(s, "dockfw").ok()
}

/// `dfwprobe fuzz family`: prints the family id (for runs in namespaces
/// where the family cannot be resolved by name).
fn family(_args: &[String]) -> i32 {
    match open().ok().as_ref().and_then(family_id) {
        Some(id) => {
            println!("{id}");
            0
        }
        None => 3,
    }
}

pub fn run(args: &[String]) -> i32 {
    if args.first().map(String::as_str) == Some("family") {
        return family(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("hold-dump") {
        return hold_dump(&args[1..]);
    }
    let (Some(seed), Some(count)) = (
        args.first().and_then(|s| s.parse::<u64>().ok()),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: dfwprobe fuzz SEED COUNT [FAMILY_ID]");
        return 64;
    };
    let s = match open() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return 70;
        }
    };
    let family = match args.get(2).and_then(|f| f.parse::<u16>().ok()).or_else(|| family_id(&s)) {
        Some(f) => f,
        None => {
            eprintln!("fuzz: the dockfw family is not available and no FAMILY_ID was given");
            return 3;
        }
    };
    let mut f = Fuzzer { s, family, seq: 1000 };
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (mut acked, mut data, mut errors, mut noreply, mut updates, mut violations, mut checked) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut errnos: BTreeMap<i32, u64> = BTreeMap::new();
    let mut snap = f.snapshot();
    let mut violation = |what: String| {
        println!("VIOLATION {what}");
        violations += 1;
    };
    for i in 0..count {
        let (cmd, flags, version, payload, delta) = request(&mut r);
        f.seq += 1;
        let seq = f.seq;
        let m = message(f.family, flags, seq, cmd, version, &payload, delta);
        if let Err(e) = send(&f.s, &m) {
            // A length the socket layer refuses is not the family's business.
            if i < 3 {
                eprintln!("fuzz: {e}");
            }
            continue;
        }
        // The sentinel: always answered, so silence about `seq` is visible.
        f.seq += 1;
        let sentinel = f.seq;
        if let Err(e) = send(&f.s, &message(f.family, NLM_F_REQUEST | NLM_F_ACK, sentinel, CMD_POLICY_GET, 1, &[], 0)) {
            violation(format!("#{i} sentinel: {e}"));
            break;
        }
        let msgs = match read_until(&f.s, sentinel) {
            Ok(m) => m,
            Err(e) => {
                violation(format!("#{i} cmd={cmd} flags={flags:#x}: {e}"));
                break;
            }
        };
        let mine: Vec<&Msg> = msgs.iter().filter(|m| m.seq == seq).collect();
        let mut rejected = false;
        let mut answered = false;
        for m in &mine {
            match m.ty {
                NLMSG_ERROR => {
                    answered = true;
                    let e = i32::from_ne_bytes(m.body.get(0..4).and_then(|b| b.try_into().ok()).unwrap_or([1, 0, 0, 0]));
                    if e == 0 {
                        acked += 1;
                    } else if e < 0 {
                        errors += 1;
                        rejected = true;
                        *errnos.entry(-e).or_default() += 1;
                    } else {
                        violation(format!("#{i} cmd={cmd}: positive error {e}"));
                    }
                }
                NLMSG_DONE => answered = true,
                t if t == f.family => {
                    answered = true;
                    data += 1;
                    if !well_formed(&m.body) {
                        violation(format!("#{i} cmd={cmd}: malformed reply of {} bytes", m.body.len()));
                    }
                }
                t => violation(format!("#{i} cmd={cmd}: reply of unexpected type {t}")),
            }
        }
        if !answered {
            noreply += 1;
        }
        let is_update = matches!(
            cmd,
            CMD_RULE_ADD | CMD_RULE_DEL | CMD_FLUSH | CMD_REPLACE | CMD_POLICY_SET | CMD_TRACE_SET | CMD_TRACE_CLEAR
        );
        if let Some(before) = snap.as_ref() {
            let now = f.snapshot();
            if rejected || !answered || !is_update {
                checked += 1;
                if now.as_ref() != Some(before) {
                    violation(format!(
                        "#{i} cmd={cmd} flags={flags:#x} len={} {}: the state changed",
                        m.len(),
                        if rejected { "rejected" } else { "not an update" }
                    ));
                }
            } else {
                updates += 1;
            }
            snap = now;
        } else if !rejected && answered && is_update {
            updates += 1;
        }
    }
    let e: Vec<String> = errnos.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    println!(
        "FUZZ sent={count} acked={acked} data={data} errors={errors} noreply={noreply} updates={updates} \
         violations={violations} checked={checked} snapshots={} errnos={}",
        if snap.is_some() { "yes" } else { "no" },
        if e.is_empty() { "-".to_string() } else { e.join(",") }
    );
    0
}

/// `dfwprobe fuzz hold-dump MS`: starts a rule dump, reads its first
/// datagram (prints `HOLDING after N rules`), holds the rest for MS
/// milliseconds (the dump stays in progress), then tries to read it to the
/// end. Prints `DUMP rules=N complete=yes|no`. Its 32 KiB reads size the
/// dump's parts so that one ends where a message header no longer fits:
/// that is how the endless-dump bug of dump_rules (src/netlink.rs) showed.
fn hold_dump(args: &[String]) -> i32 {
    let ms: u64 = args.first().and_then(|m| m.parse().ok()).unwrap_or(1000);
    let Ok(s) = open() else { return 70 };
    let Some(fam) = family_id(&s) else { return 3 };
    if send(&s, &message(fam, NLM_F_REQUEST | NLM_F_DUMP, 7, CMD_RULE_GET, 1, &[], 0)).is_err() {
        return 70;
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut rules = 0u64;
    let mut complete = false;
    let mut first = true;
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(s.0, buf.as_mut_ptr().cast(), 32768, 0) };
        if n <= 0 {
            eprintln!("hold-dump: recv after {rules} rules: {}", std::io::Error::last_os_error());
            break;
        }
        let data = &buf[..n as usize];
        let mut off = 0;
        while off + 16 <= data.len() {
            let len = u32::from_ne_bytes(data[off..off + 4].try_into().unwrap()) as usize;
            let ty = u16::from_ne_bytes(data[off + 4..off + 6].try_into().unwrap());
            if ty == NLMSG_ERROR && data.len() >= off + 20 {
                eprintln!("hold-dump: error {}", i32::from_ne_bytes(data[off + 16..off + 20].try_into().unwrap()));
            }
            if len < 16 || off + len > data.len() {
                break;
            }
            if ty == NLMSG_DONE || ty == NLMSG_ERROR {
                complete = ty == NLMSG_DONE;
            } else {
                rules += 1;
            }
            off += (len + 3) & !3;
        }
        if complete {
            break;
        }
        if first {
            first = false;
            println!("HOLDING after {rules} rules");
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
    println!("DUMP rules={rules} complete={}", if complete { "yes" } else { "no" });
    0
}
