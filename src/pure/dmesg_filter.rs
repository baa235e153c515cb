// SPDX-License-Identifier: GPL-2.0
//! Which packets the dmesg trace prints: a port list (source or destination,
//! so replies are traced too), an optional address (source or destination),
//! and whether ICMP passes a port filter. Pure `core` code.

use super::model::Addr;
use super::packet::{Packet, L4};

pub const MAX_PORTS: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
pub struct TraceFilter {
    ports: [u16; MAX_PORTS],
    nports: usize,
    pub addr: Option<Addr>,
    pub icmp: bool,
}

impl TraceFilter {
    pub fn new(ports: &[u16], addr: Option<Addr>, icmp: bool) -> TraceFilter {
        let mut f = TraceFilter { addr, icmp, ..Default::default() };
        f.nports = ports.len().min(MAX_PORTS);
        f.ports[..f.nports].copy_from_slice(&ports[..f.nports]);
        f
    }

    pub fn ports(&self) -> &[u16] {
        &self.ports[..self.nports]
    }

    /// True if the packet is to be traced. An empty port list passes every
    /// packet; otherwise TCP/UDP must use a listed port on either side, ICMP
    /// passes when `icmp` is set, anything else is not traced.
    pub fn matches(&self, p: &Packet) -> bool {
        if let Some(a) = self.addr {
            if p.saddr != a && p.daddr != a {
                return false;
            }
        }
        if self.nports == 0 {
            return true;
        }
        match (p.ports(), p.l4) {
            (Some((s, d)), _) => self.ports().iter().any(|&x| x == s || x == d),
            (None, L4::Icmp { .. }) => self.icmp,
            _ => false,
        }
    }
}
