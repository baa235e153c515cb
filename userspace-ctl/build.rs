// SPDX-License-Identifier: GPL-2.0
//! Generates `$OUT_DIR/uapi.rs` (the `uapi` module of dockfwctl) from the
//! family's uAPI header, the single source of truth for its numbers.

use dockfw_uapi as uapi_parse;

use std::{env, fs, path::PathBuf};

fn main() {
    let header = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../include/uapi/linux/dockfw.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let src = fs::read_to_string(&header).unwrap_or_else(|e| panic!("reading {}: {e}", header.display()));
    let parsed = uapi_parse::parse(&src).unwrap_or_else(|e| panic!("parsing {}: {e}", header.display()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("uapi.rs");
    fs::write(&out, uapi_parse::generate(&parsed)).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
