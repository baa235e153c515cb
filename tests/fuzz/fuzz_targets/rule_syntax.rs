// SPDX-License-Identifier: GPL-2.0
//! Any text: the parser never panics; whatever it accepts is valid and
//! prints to a canonical form that parses back to the same rule.
#![no_main]
include!("pure.rs");
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(r) = rule_syntax::parse_rule(text.split_whitespace()) {
        assert!(r.validate_shape().is_ok());
        let mut out = String::new();
        rule_syntax::write_rule(&mut out, &r, true).unwrap();
        let back = rule_syntax::parse_rule(out.split_whitespace()).expect("canonical text must parse");
        // Printing normalises prefixes (host bits cleared): compare canonically.
        let mut out2 = String::new();
        rule_syntax::write_rule(&mut out2, &back, true).unwrap();
        assert_eq!(out, out2);
    }
});
