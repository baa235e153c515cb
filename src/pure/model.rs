// SPDX-License-Identifier: GPL-2.0
//! Plain data types shared by the packet parser, the rule matcher and the
//! trace: address families, netfilter hook points, verdicts, addresses and
//! interface names. Pure `core` code with no `kernel::` imports, so the host
//! tests, the fuzz target and `dockfwctl` compile this very file.

use core::fmt;

/// Address family of a netfilter hook (`NFPROTO_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    Ipv4,
    Ipv6,
}

/// The five inet hook points. Discriminants are the uAPI `NF_INET_*` values.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Hook {
    PreRouting = 0,
    LocalIn = 1,
    Forward = 2,
    LocalOut = 3,
    PostRouting = 4,
}

impl Hook {
    pub const ALL: [Hook; 5] = [
        Hook::PreRouting,
        Hook::LocalIn,
        Hook::Forward,
        Hook::LocalOut,
        Hook::PostRouting,
    ];

    pub const fn from_index(n: u32) -> Option<Hook> {
        match n {
            0 => Some(Hook::PreRouting),
            1 => Some(Hook::LocalIn),
            2 => Some(Hook::Forward),
            3 => Some(Hook::LocalOut),
            4 => Some(Hook::PostRouting),
            _ => None,
        }
    }

    pub const fn index(self) -> u32 {
        self as u32
    }

    /// Bit of this hook in a hook mask.
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The name the nftrace experiment printed, and `dockfwctl` accepts.
    pub const fn name(self) -> &'static str {
        match self {
            Hook::PreRouting => "PRE_ROUTING",
            Hook::LocalIn => "LOCAL_IN",
            Hook::Forward => "FORWARD",
            Hook::LocalOut => "LOCAL_OUT",
            Hook::PostRouting => "POST_ROUTING",
        }
    }
}

/// What a hook tells netfilter to do with the packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    Accept,
    Drop,
}

/// An IPv4 or IPv6 address in network byte order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Addr {
    pub fn family(&self) -> Family {
        match self {
            Addr::V4(_) => Family::Ipv4,
            Addr::V6(_) => Family::Ipv6,
        }
    }

    /// The address as 16 bytes (IPv4 in the first four), for prefix tests.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Addr::V4(a) => a,
            Addr::V6(a) => a,
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::V4(a) => write!(f, "{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            Addr::V6(a) => {
                let mut g = [0u16; 8];
                for (i, w) in g.iter_mut().enumerate() {
                    *w = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
                }
                // RFC 5952: compress the longest run (>= 2) of zero groups.
                let (mut best, mut best_len, mut i) = (8, 0, 0);
                while i < 8 {
                    if g[i] == 0 {
                        let s = i;
                        while i < 8 && g[i] == 0 {
                            i += 1;
                        }
                        if i - s > best_len && i - s >= 2 {
                            best = s;
                            best_len = i - s;
                        }
                    } else {
                        i += 1;
                    }
                }
                let mut i = 0;
                while i < 8 {
                    if i == best {
                        f.write_str("::")?;
                        i += best_len;
                        continue;
                    }
                    if i != 0 && i != best + best_len {
                        f.write_str(":")?;
                    }
                    write!(f, "{:x}", g[i])?;
                    i += 1;
                }
                Ok(())
            }
        }
    }
}

/// Parses a dotted IPv4 or an RFC 4291 textual IPv6 address.
pub fn parse_addr(s: &str) -> Option<Addr> {
    if s.bytes().any(|b| b == b':') {
        parse_v6(s).map(Addr::V6)
    } else {
        parse_v4(s).map(Addr::V4)
    }
}

fn parse_v4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u32 = part.parse().ok()?;
        if v > 255 {
            return None;
        }
        out[n] = v as u8;
        n += 1;
    }
    (n == 4).then_some(out)
}

fn parse_v6(s: &str) -> Option<[u8; 16]> {
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (mut nh, mut nt) = (0usize, 0usize);
    // Byte search rather than `str::find`: its substring searcher trips
    // objtool's control-flow checks in kernel builds.
    let dc = |t: &str| t.as_bytes().windows(2).position(|w| w == b"::");
    let (left, right, compressed) = match dc(s) {
        Some(i) => (&s[..i], &s[i + 2..], true),
        None => (s, "", false),
    };
    if dc(right).is_some() {
        return None;
    }
    let parse_groups = |part: &str, out: &mut [u16; 8], n: &mut usize| -> Option<()> {
        if part.is_empty() {
            return Some(());
        }
        for g in part.split(':') {
            if *n == 8 || g.is_empty() || g.len() > 4 {
                return None;
            }
            out[*n] = u16::from_str_radix(g, 16).ok()?;
            *n += 1;
        }
        Some(())
    };
    parse_groups(left, &mut head, &mut nh)?;
    parse_groups(right, &mut tail, &mut nt)?;
    if (compressed && nh + nt > 7) || (!compressed && nh != 8) {
        return None;
    }
    let mut g = [0u16; 8];
    g[..nh].copy_from_slice(&head[..nh]);
    g[8 - nt..].copy_from_slice(&tail[..nt]);
    let mut out = [0u8; 16];
    for i in 0..8 {
        out[2 * i..2 * i + 2].copy_from_slice(&g[i].to_be_bytes());
    }
    Some(out)
}

/// An interface name as the kernel stores it (`IFNAMSIZ` = 16, NUL padded).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct IfName(pub [u8; 16]);

impl IfName {
    /// Builds a name from text; `None` when it cannot be a kernel name
    /// (`dev_valid_name`: no '/', ':' or space) or is not printable ASCII,
    /// which rules require so that their text form reads back the same.
    pub fn new(s: &str) -> Option<IfName> {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > 15 || b.iter().any(|&c| !c.is_ascii_graphic() || c == b'/' || c == b':') {
            return None;
        }
        let mut n = [0u8; 16];
        n[..b.len()].copy_from_slice(b);
        Some(IfName(n))
    }

    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&c| c == 0).unwrap_or(16);
        &self.0[..len]
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &c in self.as_bytes() {
            if c.is_ascii_graphic() {
                write!(f, "{}", c as char)?;
            } else {
                write!(f, "\\x{:02x}", c)?;
            }
        }
        Ok(())
    }
}

/// Conntrack state of a packet, as `-m conntrack --ctstate` names it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CtState {
    New,
    Established,
    Related,
    Untracked,
}

impl CtState {
    pub const fn bit(self) -> u8 {
        match self {
            CtState::New => 1,
            CtState::Established => 2,
            CtState::Related => 4,
            CtState::Untracked => 8,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            CtState::New => "new",
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::Untracked => "untracked",
        }
    }
}

/// The conntrack entry's original-direction tuple: what the first packet of
/// the flow looked like before any NAT, i.e. the published host port.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CtOrig {
    pub state: CtState,
    /// The packet travels in the reply direction of its flow.
    pub reply: bool,
    /// The reply tuple differs from the original destination: DNAT applied.
    pub dnat: bool,
    pub proto: u8,
    pub src: Addr,
    pub dst: Addr,
    pub sport: u16,
    pub dport: u16,
}
