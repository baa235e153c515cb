// SPDX-License-Identifier: GPL-2.0
//! `dockfwctl trace --explain`: turns the trace events of a session into a
//! per-flow story: the path of the first packet of each direction through
//! the namespaces and hooks, where its addresses were rewritten (DNAT on
//! the way in, the reverse on the way back), and what decided its fate.
//! Pure: works on the events as decoded (with namespace names filled in).

use crate::model::Addr;
use super::event::Event;
use super::render::{endpoint, hook_at, proto_label, verdict_name};
use serde::Serialize;

/// A connection tuple; the flow key is the conntrack original tuple when
/// the events carry one, else the packet's 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuple {
    pub proto: Option<u8>,
    pub src: Option<Addr>,
    pub sport: Option<u16>,
    pub dst: Option<Addr>,
    pub dport: Option<u16>,
}

impl Tuple {
    fn reversed(&self) -> Tuple {
        Tuple { proto: self.proto, src: self.dst, sport: self.dport, dst: self.src, dport: self.sport }
    }

    pub fn text(&self) -> String {
        format!("{} {} -> {}", proto_label(self.proto), endpoint(self.src.as_ref(), self.sport), endpoint(self.dst.as_ref(), self.dport))
    }
}

fn packet_tuple(e: &Event) -> Tuple {
    Tuple { proto: e.proto, src: e.saddr, sport: e.sport, dst: e.daddr, dport: e.dport }
}

fn orig_tuple(e: &Event) -> Option<Tuple> {
    (e.orig_saddr.is_some() && e.orig_daddr.is_some()).then_some(Tuple {
        proto: e.proto,
        src: e.orig_saddr,
        sport: e.orig_sport,
        dst: e.orig_daddr,
        dport: e.orig_dport,
    })
}

/// An address rewrite seen between two consecutive hooks of one packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    /// `DNAT`, `SNAT` (request); `un-DNAT`, `un-SNAT` (reply).
    pub kind: &'static str,
    pub from: String,
    pub to: String,
    pub after: String,
    pub before: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The deciding rule; None: the default policy.
    pub rule: Option<u32>,
    pub verdict: Option<String>,
    /// Where (`host:FORWARD`): the rule's hook, or where the policy dropped.
    pub at: Option<String>,
}

/// What `--explain` says about one flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowSummary {
    pub flow: String,
    /// `ns:HOOK` steps of the first request packet.
    pub request: Vec<String>,
    /// ... and of the first reply packet (empty: none seen).
    pub reply: Vec<String>,
    pub rewrites: Vec<Rewrite>,
    pub decided_by: Decision,
    pub request_packets: usize,
    pub reply_packets: usize,
    /// Docker containers among the flow's addresses: `web 172.17.0.2`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

struct Flow {
    key: Tuple,
    request: Option<Vec<Event>>,
    reply: Option<Vec<Event>>,
    events: Vec<Event>,
    counts: (usize, usize),
}

/// Splits the events into packets: events of one skb id, in arrival
/// order. A freed skb's address, and so its id, is often reused at once by
/// the next packet, so a new packet starts under the same id when a
/// (namespace, hook) is seen again, or at LOCAL_OUT (where every locally
/// generated packet begins its path).
fn packets(events: &[Event]) -> Vec<Vec<Event>> {
    let mut out: Vec<Vec<Event>> = Vec::new();
    let mut open: Vec<(u32, usize)> = Vec::new(); // skb id -> index in out
    for e in events {
        let skb = e.skb_id.unwrap_or(0);
        let slot = open.iter().position(|(s, _)| *s == skb);
        let reuse = slot.is_some_and(|i| {
            e.hook == Some(3) // NF_INET_LOCAL_OUT
                || out[open[i].1].iter().any(|x| x.netns == e.netns && x.netns_init == e.netns_init && x.hook == e.hook)
        });
        match slot {
            Some(i) if !reuse => out[open[i].1].push(e.clone()),
            _ => {
                out.push(vec![e.clone()]);
                let idx = out.len() - 1;
                match slot {
                    Some(i) => open[i].1 = idx,
                    None => open.push((skb, idx)),
                }
            }
        }
    }
    out
}

fn rewrites(pkt: &[Event], reply: bool) -> Vec<Rewrite> {
    let mut out = Vec::new();
    for w in pkt.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let src = |e: &Event| (e.saddr, e.sport);
        let dst = |e: &Event| (e.daddr, e.dport);
        let mut push = |kind, (fa, fp): (Option<Addr>, Option<u16>), (ta, tp): (Option<Addr>, Option<u16>)| {
            out.push(Rewrite {
                kind,
                from: endpoint(fa.as_ref(), fp),
                to: endpoint(ta.as_ref(), tp),
                after: hook_at(a),
                before: hook_at(b),
            })
        };
        if dst(a) != dst(b) && a.daddr.is_some() && b.daddr.is_some() {
            push(if reply { "un-SNAT" } else { "DNAT" }, dst(a), dst(b));
        }
        if src(a) != src(b) && a.saddr.is_some() && b.saddr.is_some() {
            push(if reply { "un-DNAT" } else { "SNAT" }, src(a), src(b));
        }
    }
    out
}

/// The flows of a trace session, in order of their first packet.
pub fn explain(events: &[Event]) -> Vec<FlowSummary> {
    let mut flows: Vec<Flow> = Vec::new();
    for pkt in packets(events) {
        let (key, reply) = match pkt.iter().find_map(|e| orig_tuple(e).map(|t| (t, e.ct_reply))) {
            Some(k) => k,
            None => {
                let t = packet_tuple(&pkt[0]);
                if flows.iter().any(|f| f.key == t) {
                    (t, false)
                } else if flows.iter().any(|f| f.key == t.reversed()) {
                    (t.reversed(), true)
                } else {
                    (t, false)
                }
            }
        };
        let i = match flows.iter().position(|f| f.key == key) {
            Some(i) => i,
            None => {
                flows.push(Flow { key, request: None, reply: None, events: Vec::new(), counts: (0, 0) });
                flows.len() - 1
            }
        };
        let f = &mut flows[i];
        f.events.extend(pkt.iter().cloned());
        let (slot, count) = if reply { (&mut f.reply, &mut f.counts.1) } else { (&mut f.request, &mut f.counts.0) };
        *count += 1;
        if slot.is_none() {
            *slot = Some(pkt);
        }
    }
    flows
        .into_iter()
        .map(|f| {
            let path = |p: &Option<Vec<Event>>| p.as_deref().unwrap_or_default().iter().map(hook_at).collect::<Vec<_>>();
            let mut rw = rewrites(f.request.as_deref().unwrap_or_default(), false);
            rw.extend(rewrites(f.reply.as_deref().unwrap_or_default(), true));
            let decided_by = match f.events.iter().find(|e| e.rule_id.is_some()) {
                Some(e) => Decision { rule: e.rule_id, verdict: e.verdict.map(verdict_name), at: Some(hook_at(e)) },
                None => {
                    let drop = f.events.iter().find(|e| e.verdict == Some(crate::uapi::DOCKFW_VERDICT_DROP as u8));
                    Decision { rule: None, verdict: drop.map(|e| verdict_name(e.verdict.unwrap())), at: drop.map(hook_at) }
                }
            };
            let mut containers: Vec<String> = Vec::new();
            for e in &f.events {
                for (a, c) in [(e.saddr, &e.saddr_container), (e.daddr, &e.daddr_container)] {
                    if let (Some(a), Some(c)) = (a, c) {
                        let t = format!("{c} {a}");
                        if !containers.contains(&t) {
                            containers.push(t);
                        }
                    }
                }
            }
            FlowSummary {
                containers,
                flow: f.key.text(),
                request: path(&f.request),
                reply: path(&f.reply),
                rewrites: rw,
                decided_by,
                request_packets: f.counts.0,
                reply_packets: f.counts.1,
            }
        })
        .collect()
}

/// The text form: one block per flow.
pub fn render(flows: &[FlowSummary]) -> String {
    let mut s = String::new();
    for f in flows {
        s.push_str(&format!("flow {}\n", f.flow));
        let line = |s: &mut String, name: &str, p: &[String], kinds: &[&str]| {
            if p.is_empty() {
                s.push_str(&format!("  {name}: (none seen)\n"));
            } else {
                s.push_str(&format!("  {name}: {}\n", p.join(" -> ")));
            }
            for r in f.rewrites.iter().filter(|r| kinds.contains(&r.kind)) {
                s.push_str(&format!("  {}: {} -> {} between {} and {}\n", r.kind, r.from, r.to, r.after, r.before));
            }
        };
        if !f.containers.is_empty() {
            s.push_str(&format!("  containers: {}\n", f.containers.join(", ")));
        }
        line(&mut s, "request", &f.request, &["DNAT", "SNAT"]);
        line(&mut s, "reply", &f.reply, &["un-DNAT", "un-SNAT"]);
        let d = &f.decided_by;
        match (d.rule, &d.verdict, &d.at) {
            (Some(r), v, at) => s.push_str(&format!(
                "  decided by: rule {r} ({}) at {}\n",
                v.as_deref().unwrap_or("?"),
                at.as_deref().unwrap_or("?")
            )),
            (None, Some(v), Some(at)) => s.push_str(&format!("  decided by: default policy ({v} at {at})\n")),
            _ => s.push_str("  decided by: default policy\n"),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_addr;
    use crate::trace::event::tests::ev;
    use crate::uapi::*;

    const PRE: u8 = 0;
    const IN: u8 = 1;
    const FWD: u8 = 2;
    const OUT: u8 = 3;
    const POST: u8 = 4;

    fn ct(mut e: Event, state: u32, reply: bool, orig: (&str, u16, &str, u16)) -> Event {
        e.ct_state = Some(state);
        e.ct_reply = reply;
        e.ct_dnat = true;
        e.orig_saddr = parse_addr(orig.0);
        e.orig_sport = Some(orig.1);
        e.orig_daddr = parse_addr(orig.2);
        e.orig_dport = Some(orig.3);
        e
    }

    /// ext (10.0.0.2) connects to the published port 10.0.0.1:8081, which
    /// the host DNATs to the container 172.17.0.2:8080; the container
    /// answers. The ext and container namespaces have no conntrack.
    fn dnat_flow() -> Vec<Event> {
        let o = ("10.0.0.2", 40000, "10.0.0.1", 8081);
        let n = DOCKFW_CTSTATE_NEW;
        let est = DOCKFW_CTSTATE_ESTABLISHED;
        let ext = Some("ext");
        let ctr = Some("ctr");
        vec![
            ev(1, ext, OUT, "10.0.0.2", 40000, "10.0.0.1", 8081),
            ev(1, ext, POST, "10.0.0.2", 40000, "10.0.0.1", 8081),
            ct(ev(1, None, PRE, "10.0.0.2", 40000, "10.0.0.1", 8081), n, false, o),
            ct(ev(1, None, FWD, "10.0.0.2", 40000, "172.17.0.2", 8080), n, false, o),
            ct(ev(1, None, POST, "10.0.0.2", 40000, "172.17.0.2", 8080), n, false, o),
            ev(1, ctr, PRE, "10.0.0.2", 40000, "172.17.0.2", 8080),
            ev(1, ctr, IN, "10.0.0.2", 40000, "172.17.0.2", 8080),
            // The SYN-ACK, interleaved with nothing else.
            ev(2, ctr, OUT, "172.17.0.2", 8080, "10.0.0.2", 40000),
            ev(2, ctr, POST, "172.17.0.2", 8080, "10.0.0.2", 40000),
            ct(ev(2, None, PRE, "172.17.0.2", 8080, "10.0.0.2", 40000), est, true, o),
            ct(ev(2, None, FWD, "172.17.0.2", 8080, "10.0.0.2", 40000), est, true, o),
            ct(ev(2, None, POST, "10.0.0.1", 8081, "10.0.0.2", 40000), est, true, o),
            ev(2, ext, PRE, "10.0.0.1", 8081, "10.0.0.2", 40000),
            ev(2, ext, IN, "10.0.0.1", 8081, "10.0.0.2", 40000),
            // The ACK: a second request packet (counted, path not repeated).
            ev(3, ext, OUT, "10.0.0.2", 40000, "10.0.0.1", 8081),
        ]
    }

    #[test]
    fn dnat_flow_with_reply() {
        let f = explain(&dnat_flow());
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.flow, "TCP 10.0.0.2:40000 -> 10.0.0.1:8081");
        assert_eq!((f.request_packets, f.reply_packets), (2, 1));
        assert_eq!(
            render(std::slice::from_ref(f)),
            "flow TCP 10.0.0.2:40000 -> 10.0.0.1:8081\n\
             \x20 request: ext:LOCAL_OUT -> ext:POST_ROUTING -> host:PRE_ROUTING -> host:FORWARD -> host:POST_ROUTING -> ctr:PRE_ROUTING -> ctr:LOCAL_IN\n\
             \x20 DNAT: 10.0.0.1:8081 -> 172.17.0.2:8080 between host:PRE_ROUTING and host:FORWARD\n\
             \x20 reply: ctr:LOCAL_OUT -> ctr:POST_ROUTING -> host:PRE_ROUTING -> host:FORWARD -> host:POST_ROUTING -> ext:PRE_ROUTING -> ext:LOCAL_IN\n\
             \x20 un-DNAT: 172.17.0.2:8080 -> 10.0.0.1:8081 between host:FORWARD and host:POST_ROUTING\n\
             \x20 decided by: default policy\n"
        );
    }

    #[test]
    fn containers_are_named_per_flow() {
        let mut evs = dnat_flow();
        for e in &mut evs {
            for (a, c) in [(e.saddr, &mut e.saddr_container), (e.daddr, &mut e.daddr_container)] {
                if a == parse_addr("172.17.0.2") {
                    *c = Some("web".into());
                }
            }
        }
        let f = explain(&evs);
        assert_eq!(f[0].containers, vec!["web 172.17.0.2"]);
        assert!(render(&f).contains("\n  containers: web 172.17.0.2\n  request: "), "{}", render(&f));
        // No names: no line, and no JSON field.
        let plain = explain(&dnat_flow());
        assert!(!render(&plain).contains("containers:"));
        assert!(serde_json::to_value(&plain[0]).unwrap().get("containers").is_none());
    }

    #[test]
    fn dropped_flow() {
        let o = ("10.0.0.2", 40001, "10.0.0.1", 9000);
        let mut fwd = ct(ev(7, None, FWD, "10.0.0.2", 40001, "172.17.0.3", 9000), DOCKFW_CTSTATE_NEW, false, o);
        fwd.verdict = Some(DOCKFW_VERDICT_DROP as u8);
        fwd.rule_id = Some(3);
        let evs = vec![
            ev(7, Some("ext"), OUT, "10.0.0.2", 40001, "10.0.0.1", 9000),
            ct(ev(7, None, PRE, "10.0.0.2", 40001, "10.0.0.1", 9000), DOCKFW_CTSTATE_NEW, false, o),
            fwd.clone(),
            // The SYN is retransmitted with a new skb: same flow.
            ev(8, Some("ext"), OUT, "10.0.0.2", 40001, "10.0.0.1", 9000),
        ];
        let f = explain(&evs);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].decided_by, Decision { rule: Some(3), verdict: Some("drop".into()), at: Some("host:FORWARD".into()) });
        assert_eq!((f[0].request_packets, f[0].reply_packets), (2, 0));
        let text = render(&f);
        assert!(text.contains("\n  request: ext:LOCAL_OUT -> host:PRE_ROUTING -> host:FORWARD\n"), "{text}");
        assert!(text.contains("\n  DNAT: 10.0.0.1:9000 -> 172.17.0.3:9000 between host:PRE_ROUTING and host:FORWARD\n"), "{text}");
        assert!(text.contains("\n  reply: (none seen)\n"), "{text}");
        assert!(text.ends_with("  decided by: rule 3 (drop) at host:FORWARD\n"), "{text}");

        // Dropped by the default policy: no rule id, a drop verdict.
        let mut p = fwd;
        p.rule_id = None;
        let text = render(&explain(&[p]));
        assert!(text.ends_with("  decided by: default policy (drop at host:FORWARD)\n"), "{text}");
    }

    #[test]
    fn bridge_flow_without_dnat() {
        // ctr1 -> ctr2 over docker0: no NAT, no conntrack tuple anywhere;
        // the reply is recognised by its reversed 5-tuple.
        let (a, b) = (Some("ctr1"), Some("ctr2"));
        let mut fwd = ev(20, None, FWD, "172.17.0.2", 5000, "172.17.0.3", 53);
        fwd.iif = Some("docker0".into());
        fwd.oif = Some("docker0".into());
        fwd.rule_id = Some(5);
        fwd.proto = Some(17);
        let mut evs = vec![
            ev(20, a, OUT, "172.17.0.2", 5000, "172.17.0.3", 53),
            ev(20, a, POST, "172.17.0.2", 5000, "172.17.0.3", 53),
            fwd,
            ev(20, b, PRE, "172.17.0.2", 5000, "172.17.0.3", 53),
            ev(20, b, IN, "172.17.0.2", 5000, "172.17.0.3", 53),
            ev(21, b, OUT, "172.17.0.3", 53, "172.17.0.2", 5000),
            ev(21, a, IN, "172.17.0.3", 53, "172.17.0.2", 5000),
            // Another flow in between does not mix in.
            ev(22, a, OUT, "172.17.0.2", 5001, "172.17.0.9", 53),
        ];
        for e in &mut evs {
            e.proto = Some(17);
        }
        let f = explain(&evs);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].flow, "UDP 172.17.0.2:5000 -> 172.17.0.3:53");
        assert!(f[0].rewrites.is_empty(), "{:?}", f[0].rewrites);
        assert_eq!(f[0].request, ["ctr1:LOCAL_OUT", "ctr1:POST_ROUTING", "host:FORWARD", "ctr2:PRE_ROUTING", "ctr2:LOCAL_IN"]);
        assert_eq!(f[0].reply, ["ctr2:LOCAL_OUT", "ctr1:LOCAL_IN"]);
        assert_eq!(f[1].flow, "UDP 172.17.0.2:5001 -> 172.17.0.9:53");
        let text = render(&f);
        assert!(!text.contains("DNAT"), "{text}");
        assert!(text.contains("  decided by: rule 5 (accept) at host:FORWARD\n"), "{text}");
        assert_eq!(text.matches("flow UDP").count(), 2);
    }

    #[test]
    fn reused_skb_id_at_local_out_starts_a_new_packet() {
        // The SYN is delivered in the container, whose SYN-ACK then gets the
        // freed skb (same id): a new packet, not a continuation.
        let mut evs = vec![
            ev(9, Some("ext"), OUT, "10.0.0.2", 1, "10.0.0.1", 2),
            ev(9, None, PRE, "10.0.0.2", 1, "10.0.0.1", 2),
            ev(9, Some("ctr"), IN, "10.0.0.2", 1, "10.0.0.1", 2),
            ev(9, Some("ctr"), OUT, "10.0.0.1", 2, "10.0.0.2", 1),
        ];
        evs[3].tcp_flags = Some(0x12);
        let f = explain(&evs);
        assert_eq!(f[0].request, ["ext:LOCAL_OUT", "host:PRE_ROUTING", "ctr:LOCAL_IN"]);
        assert_eq!(f[0].reply, ["ctr:LOCAL_OUT"]);
    }

    #[test]
    fn reused_skb_id_splits_packets() {
        let evs = vec![
            ev(9, None, PRE, "10.0.0.2", 1, "10.0.0.1", 2),
            ev(9, None, IN, "10.0.0.2", 1, "10.0.0.1", 2),
            ev(9, None, PRE, "10.0.0.2", 1, "10.0.0.1", 2),
        ];
        let f = explain(&evs);
        assert_eq!(f[0].request_packets, 2);
        assert_eq!(f[0].request, ["host:PRE_ROUTING", "host:LOCAL_IN"]);
    }
}
