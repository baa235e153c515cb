// SPDX-License-Identifier: GPL-2.0
//! Rules from text lines, then a packet from bytes: the indexed evaluation
//! decides exactly as the linear scan does, log rules included. (Whether
//! the scan itself matches correctly is the `reference` target's job.)
#![no_main]
include!("pure.rs");
#[path = "../../host/src/reference.rs"]
#[allow(dead_code)]
mod reference;
use libfuzzer_sys::fuzz_target;
use model::*;
use rules::*;

fuzz_target!(|data: &[u8]| {
    // Layout: [packet len][packet bytes][hook][ct byte][rule text...]
    if data.len() < 4 {
        return;
    }
    let plen = usize::from(data[0]).min(data.len() - 3);
    let pbytes = &data[1..1 + plen];
    let hook = Hook::ALL[usize::from(data[1 + plen]) % 5];
    let ctb = data[2 + plen];
    let Ok(text) = core::str::from_utf8(&data[3 + plen..]) else { return };
    let rs: Vec<Rule> = text
        .lines()
        .take(64)
        .enumerate()
        .filter_map(|(i, l)| rule_syntax::parse_rule(l.split_whitespace()).ok().map(|mut r| {
            r.id = i as u32 + 1;
            r
        }))
        .collect();
    let fam = if pbytes.first().map_or(false, |b| b >> 4 == 6) { Family::Ipv6 } else { Family::Ipv4 };
    let Ok(pkt) = packet::parse(pbytes, 0, fam) else { return };
    let indexed = reference::index(rs);
    let t = indexed.table();
    let ct = CtOrig {
        state: [CtState::New, CtState::Established, CtState::Related, CtState::Untracked][usize::from(ctb & 3)],
        reply: ctb & 4 != 0,
        dnat: true,
        proto: pkt.proto,
        src: pkt.saddr,
        dst: pkt.daddr,
        sport: u16::from(ctb),
        dport: u16::from(ctb) * 7,
    };
    let c = Ctx {
        hook,
        pkt: &pkt,
        ct: if ctb & 8 != 0 { Some(&ct) } else { None },
        iif: IfName::new("eth0"),
        oif: IfName::new("docker0"),
        netns: 4026531840,
        host: ctb & 16 != 0,
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    assert_eq!(t.eval(&c, |p| a.push(p)), t.eval_linear(&c, |p| b.push(p)));
    assert_eq!(a, b);
});
