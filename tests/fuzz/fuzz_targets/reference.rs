// SPDX-License-Identifier: GPL-2.0
//! The independent reference matcher (tests/host/src/reference.rs) against
//! the module's parser, matcher and index, with the fuzzer's bytes as the
//! choices that make the rules and packets (one byte per choice).
#![no_main]
include!("pure.rs");
#[path = "../../host/src/reference.rs"]
mod reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut g = reference::Rng::from_tape(data);
    let n = 1 + g.below(12) as usize;
    let rules: Vec<_> = (0..n).map(|_| reference::random_rule(&mut g)).collect();
    let packets: Vec<_> = (0..6).map(|_| reference::random_packet(&mut g)).collect();
    if let Err(e) = reference::check(&rules, &packets) {
        panic!("{e}");
    }
});
