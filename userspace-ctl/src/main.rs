// SPDX-License-Identifier: GPL-2.0
//! dockfwctl: drives the dockfw kernel module. For now it reports the
//! module's state from sysfs; rule commands come with the generic-netlink
//! family.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dockfwctl", version, about = "Control the dockfw kernel module")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show whether the module is loaded, its trace settings and hooked namespaces.
    Status,
}

const PARAMS: &str = "/sys/module/dockfw/parameters";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Status => {
            let read = |p: &str| std::fs::read_to_string(format!("{PARAMS}/{p}")).map(|s| s.trim().to_string());
            match read("hooked_netns") {
                Ok(n) => {
                    println!("module: loaded");
                    println!("hooked_netns: {n}");
                    for p in ["trace", "trace_ports", "trace_addr", "trace_icmp"] {
                        println!("{p}: {}", read(p).unwrap_or_else(|_| "?".into()));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("dockfwctl: reading {PARAMS}/hooked_netns: {e} (is dockfw.ko loaded?)");
                    ExitCode::from(3)
                }
            }
        }
    }
}
