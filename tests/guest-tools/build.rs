// SPDX-License-Identifier: GPL-2.0
//! Generates `$OUT_DIR/uapi.rs` from the family's uAPI header with the same
//! parser dockfwctl's build uses: the guest tools copy no number by hand.

use dockfw_uapi as uapi_parse;

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let header = dir.join("../../include/uapi/linux/dockfw.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let src = fs::read_to_string(&header).unwrap_or_else(|e| panic!("reading {}: {e}", header.display()));
    let parsed = uapi_parse::parse(&src).unwrap_or_else(|e| panic!("parsing {}: {e}", header.display()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("uapi.rs");
    fs::write(&out, uapi_parse::generate(&parsed)).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    // The guest scripts' variables (`dfwprobe uapi-shell`, written by run.py).
    let sh = out.with_file_name("uapi.sh");
    fs::write(&sh, uapi_parse::shell(&parsed)).unwrap_or_else(|e| panic!("writing {}: {e}", sh.display()));
}
