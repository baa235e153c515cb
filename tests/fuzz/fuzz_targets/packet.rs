// SPDX-License-Identifier: GPL-2.0
//! Any bytes as an IPv4 or IPv6 packet at any offset: parsing never panics
//! and never reads outside the buffer (the slice source bounds-checks).
#![no_main]
include!("pure.rs");
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let off = usize::from(data[0] % 16);
    let body = &data[1..];
    for fam in [model::Family::Ipv4, model::Family::Ipv6] {
        if let Ok(p) = packet::parse(body, off, fam) {
            let _ = format!("{p}");
        }
    }
});
