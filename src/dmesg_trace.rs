// SPDX-License-Identifier: GPL-2.0
//! The dmesg trace: the nftrace experiment reproduced. One line per hook a
//! matching packet crosses, in key=value form so that both people and the
//! test suite can read it:
//!
//! `dockfw: trace id=1a2b3c4d hook=FORWARD netns=4026531840 init=1 dev=veth-ext
//! in=veth-ext@4026531840 out=docker0@4026531840 TCP 10.0.0.2:40000 ->
//! 172.17.0.2:8080 [S] ipid=4711 ct=new orig=10.0.0.2:40000->10.0.0.1:8081 dnat=1`
//!
//! `id` is the same at every hook one skb crosses. Lines are rate-limited
//! (`trace_burst` per `trace_interval_ms`); the kernel reports how many were
//! suppressed.

use crate::call::Call;
use crate::pure::dmesg_filter::TraceFilter;
use crate::kernel_ext::net::NetDevice;
use crate::kernel_ext::params;
use crate::pure::model::{parse_addr, Family};
use core::fmt;
use kernel::prelude::*;

/// Reads the trace filter from the module parameters.
pub(crate) fn filter_from_params() -> Result<TraceFilter> {
    let mut buf = [0u16; 16];
    let ports = params::trace_ports(&mut buf);
    let addr = match params::trace_addr() {
        None => None,
        Some(s) if crate::kernel_ext::compat::cstr_bytes(s).is_empty() => None,
        Some(s) => {
            let text = s.to_str().map_err(|_| EINVAL)?;
            match parse_addr(text) {
                Some(a) => Some(a),
                None => {
                    pr_err!("dockfw: trace_addr={} is not an IPv4 or IPv6 address\n", text);
                    return Err(EINVAL);
                }
            }
        }
    };
    Ok(TraceFilter::new(ports, addr, params::trace_icmp()))
}

crate::kernel_ext::compat::kernel_display!(DevAt<'_>, OptName, CtField<'_>);

/// `name@netns` or `-`.
struct DevAt<'a>(Option<&'a NetDevice>);

impl fmt::Display for DevAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "{}@{}", d.name(), d.net().inum()),
            None => f.write_str("-"),
        }
    }
}

/// Prints the trace line for this hook if trace is on, the packet matches
/// the filter and the rate limit allows it. `decision` is appended (the
/// verdict and rule, once filtering has run).
pub(crate) fn log(filter: &TraceFilter, call: &Call<'_>, decision: fmt::Arguments<'_>) {
    let (skb, state, pkt) = (call.skb, call.state, &call.pkt);
    if !params::trace_on() || !filter.matches(pkt) || !params::trace_ratelimit() {
        return;
    }
    let net = state.net();
    let dev = skb.dev().map(|d| d.name());
    let fam = match pkt.family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    };
    let ct = CtField(call.ct());
    pr_info!(
        "trace id={:08x} hook={} family={} netns={} init={} dev={} in={} out={} {} ipid={}{}{}\n",
        skb.trace_id(),
        call.hook.name(),
        fam,
        net.inum(),
        net.is_init() as u8,
        OptName(dev),
        DevAt(state.in_dev()),
        DevAt(state.out_dev()),
        pkt,
        pkt.ip_id,
        ct,
        decision
    );
}

struct OptName(Option<crate::pure::model::IfName>);

impl fmt::Display for OptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("-"),
        }
    }
}

struct CtField<'a>(Option<&'a crate::pure::model::CtOrig>);

impl fmt::Display for CtField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(c) = self.0 else { return Ok(()) };
        write!(f, " ct={}{} orig=", c.state.name(), if c.reply { ",reply" } else { "" })?;
        // Ports only where the tuple has them: an ICMP or GRE tuple keeps an
        // echo id or key there, which `:0` or `:4711` would misreport.
        let ports = matches!(c.proto, crate::pure::packet::IPPROTO_TCP | crate::pure::packet::IPPROTO_UDP);
        match (c.src, ports) {
            (crate::pure::model::Addr::V4(_), true) => write!(f, "{}:{}->{}:{}", c.src, c.sport, c.dst, c.dport)?,
            (crate::pure::model::Addr::V6(_), true) => write!(f, "[{}]:{}->[{}]:{}", c.src, c.sport, c.dst, c.dport)?,
            (_, false) => write!(f, "{}->{}", c.src, c.dst)?,
        }
        write!(f, " dnat={}", c.dnat as u8)
    }
}

/// The `log` action of a rule: one rate-limited line per matching packet,
/// whether or not tracing is on.
pub(crate) fn log_rule(id: u32, call: &Call<'_>) {
    if !params::trace_ratelimit() {
        return;
    }
    let (skb, state, pkt, hook) = (call.skb, call.state, &call.pkt, call.hook);
    let net = state.net();
    pr_info!(
        "log rule={} id={:08x} hook={} netns={} init={} in={} out={} {}\n",
        id,
        skb.trace_id(),
        hook.name(),
        net.inum(),
        net.is_init() as u8,
        DevAt(state.in_dev()),
        DevAt(state.out_dev()),
        pkt
    );
}
