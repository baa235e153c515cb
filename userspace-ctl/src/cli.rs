// SPDX-License-Identifier: GPL-2.0
//! The command line (clap derive): the subcommands, their arguments and the
//! help text with the rule syntax, examples and exit codes.

use clap::{Parser, Subcommand, ValueEnum};
use std::time::Duration;

pub(crate) const AFTER_HELP: &str = "\
Rule syntax:
  [HOOK...] [ip|ip6] [tcp|udp|icmp|icmpv6|proto N] [saddr PFX] [daddr PFX]
  [sport RANGE] [dport RANGE] [iif NAME[+]] [oif NAME[+]] [netns host|INUM]
  [ct STATE[,STATE...]] [orig-daddr PFX] [orig-dport RANGE] [prio N]
  [comment WORD] [id N] accept|drop|log
  HOOK: prerouting input forward output postrouting (default: all five)
  Rules are evaluated in (prio, id) order; prio defaults to 1000, so a rule
  given a lower prio goes before every rule given none.
  orig-daddr/orig-dport match the destination before DNAT (the published port).
  Docker containers, by name or id (the engine at DOCKER_HOST=unix://PATH or
  /var/run/docker.sock resolves them when the rule is sent):
    from-container NAME[@NETWORK]  instead of saddr: the container's address
    to-container NAME[@NETWORK]    instead of daddr
    in-container NAME              instead of netns: the container's namespace
  A container on several networks needs @NETWORK. A stopped container's rule
  is added inactive (it matches nothing); `dockfwctl watch` keeps such rules
  on the containers' current addresses and activates them when they start.

Examples:
  dockfwctl add forward tcp saddr 172.16.0.0/24 orig-dport 80 accept
  dockfwctl add input iif veth+ ct new drop
  dockfwctl add forward tcp orig-dport 80 to-container web saddr 172.16.0.0/24 accept
  dockfwctl list --json
  dockfwctl del 3
  dockfwctl policy drop
  dockfwctl save > rules.txt && dockfwctl restore rules.txt
  dockfwctl stats
  dockfwctl trace tcp dport 8081 --explain
  dockfwctl trace -f 'udp dport 53' --rule 3 --json --count 100
  dockfwctl trace to-container web
  dockfwctl watch            (as a service: contrib/systemd/dockfwctl-watch.service)

Exit status:
  0  success
  1  the kernel refused the request (invalid rule, unknown rule id, ...)
  2  usage or rule syntax error (nothing was sent)
  3  the dockfw netlink family is not available (module not loaded, or not
     in the initial network namespace)
  4  permission denied (needs CAP_NET_ADMIN)
  5  other I/O or netlink error
  6  a container could not be resolved: the Docker engine is unreachable, no
     such container, several networks without @NETWORK, or no address of the
     rule's family (nothing was sent)";

#[derive(Parser)]
#[command(name = "dockfwctl", version, about = "Control the dockfw kernel module", after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PolicyArg {
    Accept,
    Drop,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Show whether the module is loaded, its trace settings and hooked
    /// namespaces, and the container engine (version, firewall backend)
    /// with what its backend changes about rules.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a rule; prints its id.
    #[command(after_help = "Example: dockfwctl add forward tcp saddr 172.16.0.0/24 orig-dport 80 accept")]
    Add {
        /// The rule, as words (see `dockfwctl --help` for the syntax).
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "RULE")]
        rule: Vec<String>,
    },
    /// Delete the rule with this id.
    Del {
        #[arg(value_parser = clap::value_parser!(u32).range(1..))]
        id: u32,
    },
    /// Delete every rule.
    Flush,
    /// List the rules in evaluation order: ID, packets, bytes, rule.
    List {
        /// Print a JSON array of rule objects instead.
        #[arg(long)]
        json: bool,
    },
    /// Show the module's counters.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Show the default policy, or set it.
    Policy {
        #[arg(value_enum)]
        policy: Option<PolicyArg>,
    },
    /// Print the ruleset as a file that `restore` reads back (with rule ids).
    Save,
    /// Replace the whole ruleset atomically with the rules of FILE (`-`: stdin).
    ///
    /// One rule per line, blank lines and `#` comments ignored. Every line is
    /// parsed before anything is sent; rules keep the ids the file gives.
    #[command(visible_alias = "replace")]
    Restore {
        /// Ruleset file, or `-` for standard input.
        file: String,
    },
    /// Trace packets through the hooks: one event per hook a matching
    /// packet crosses, with the verdict and the deciding rule.
    ///
    /// MATCH uses the rule syntax without an action (and without prio,
    /// comment and id) and is one filter; every --filter and every --rule
    /// adds another. Without any, every packet is traced. Text output groups
    /// the events of one packet (skb); --json prints one object per event
    /// and line. Stops on Ctrl-C/SIGTERM, --count or --timeout. Needs
    /// CAP_NET_ADMIN.
    #[command(
        visible_alias = "monitor",
        after_help = "Examples:\n  dockfwctl trace tcp dport 8081\n  dockfwctl trace -f 'forward udp' -f 'icmp' --timeout 10 --explain\n  dockfwctl trace --rule 3 --json --count 20"
    )]
    Trace {
        /// A filter in the rule syntax, without an action.
        #[arg(value_name = "MATCH")]
        matches: Vec<String>,
        /// Another filter (repeatable), e.g. -f 'udp dport 53'.
        #[arg(short = 'f', long = "filter", value_name = "EXPR")]
        filters: Vec<String>,
        /// Trace the packets this rule decides (repeatable).
        #[arg(long = "rule", value_name = "ID", value_parser = clap::value_parser!(u32).range(1..))]
        rules: Vec<u32>,
        /// One JSON object per event and line, printed at once.
        #[arg(long)]
        json: bool,
        /// Stop after N events.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        count: Option<u64>,
        /// Stop after SECS seconds (fractions allowed).
        #[arg(long, value_name = "SECS", value_parser = parse_secs)]
        timeout: Option<Duration>,
        /// At the end, explain each flow: its path, NAT and what decided it.
        #[arg(long)]
        explain: bool,
    },
    /// Keep rules that name containers on the containers' current
    /// addresses (a service).
    ///
    /// Follows the Docker engine's events and rewrites those rules
    /// atomically when a container starts, stops, is removed, renamed, or
    /// connected to or disconnected from a network. Runs until SIGINT/SIGTERM (as a service: see
    /// contrib/systemd/dockfwctl-watch.service). A rule whose container is
    /// not running, or cannot be resolved, is made inactive (it matches
    /// nothing) rather than left on an address Docker may give another
    /// container. Each change is logged to stderr as `rule ID (RULE): OLD
    /// -> NEW`. Updates are read-modify-write with a generation check, so a
    /// concurrent `dockfwctl add` or `restore` is never lost. Reconnects
    /// when the engine restarts. Needs CAP_NET_ADMIN and the engine's socket.
    #[command(after_help = "Examples:\n  dockfwctl watch\n  dockfwctl watch --once    # one sync, then exit (scripts, tests)")]
    Watch {
        /// Synchronise once and exit.
        #[arg(long)]
        once: bool,
        /// Also re-check every container this often, events or not (seconds).
        #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_secs)]
        interval: Duration,
        /// Also log the engine's events as they arrive.
        #[arg(short, long)]
        verbose: bool,
    },
}

pub(crate) fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}
