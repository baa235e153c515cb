// SPDX-License-Identifier: GPL-2.0
//! Tests of the command layer: constants against the header, errors and
//! exit codes, rule and trace-filter parsing, replace batching, container
//! resolution, statistics decoding, the command line.

use crate::cli::*;
use crate::cmd::rules::*;
use crate::cmd::stats::*;
use crate::cmd::trace::*;
use crate::cmd::*;
use crate::error::*;
use crate::nl::attr::*;
use crate::nl::conn::*;
use crate::nl::rule::*;
use crate::uapi::*;
use crate::rules::{self, Rule};
use crate::{docker, model, trace};
use dockfw_uapi as uapi_parse;
use clap::Parser;
use neli::attr::Attribute;
use std::time::Duration;

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

#[test]
fn generated_constants_match_the_header() {
    let h = uapi_parse::parse(include_str!("../../include/uapi/linux/dockfw.h")).unwrap();
    let check = |e: &str, table: &[(&str, u64)]| {
        let en = h.enum_named(e).unwrap();
        assert_eq!(en.items.len(), table.len(), "{e}");
        for ((n, v), (tn, tv)) in en.items.iter().zip(table) {
            assert_eq!((n.as_str(), *v as u64), (*tn, *tv), "{e}");
        }
    };
    let w = |t: &[(&'static str, u8)]| t.iter().map(|&(n, v)| (n, u64::from(v))).collect::<Vec<_>>();
    let w16 = |t: &[(&'static str, u16)]| t.iter().map(|&(n, v)| (n, u64::from(v))).collect::<Vec<_>>();
    let w32 = |t: &[(&'static str, u32)]| t.iter().map(|&(n, v)| (n, u64::from(v))).collect::<Vec<_>>();
    check("dockfw_cmd", &w(ENUM_DOCKFW_CMD));
    check("dockfw_attr", &w16(ENUM_DOCKFW_ATTR));
    check("dockfw_rule_attr", &w16(ENUM_DOCKFW_RULE_ATTR));
    check("dockfw_stats_attr", &w16(ENUM_DOCKFW_STATS_ATTR));
    check("dockfw_verdict", &w32(ENUM_DOCKFW_VERDICT));
    check("dockfw_ctstate", &w32(ENUM_DOCKFW_CTSTATE));
    check("dockfw_replace_phase", &w32(ENUM_DOCKFW_REPLACE_PHASE));
    check("dockfw_event_attr", &w16(ENUM_DOCKFW_EVENT_ATTR));
    // Implicit increments and shifts as C defines them.
    assert_eq!(DOCKFW_CMD_RULE_ADD, 1); // the spec's `value: 1`: 0 is no command
    assert_eq!(DOCKFW_CMD_RULE_DEL, DOCKFW_CMD_RULE_ADD + 1);
    assert_eq!(DOCKFW_CMD_MAX, __DOCKFW_CMD_MAX - 1);
    assert_eq!(DOCKFW_CMD_MAX, DOCKFW_CMD_TRACE_EVENT);
    assert_eq!(DOCKFW_CMD_TRACE_SET, DOCKFW_CMD_POLICY_SET + 1);
    assert_eq!(DOCKFW_A_MAX, DOCKFW_A_GENERATION);
    assert_eq!(DOCKFW_RA_MAX, DOCKFW_RA_INACTIVE);
    assert_eq!(DOCKFW_STATS_MAX, DOCKFW_STATS_HOOKS_REGISTERED);
    assert_eq!(DOCKFW_STATS_TRACE_FILTERS, DOCKFW_STATS_PAD + 1);
    assert_eq!(DOCKFW_EV_MAX, DOCKFW_EV_PAD);
    assert_eq!(DOCKFW_EV_TIMESTAMP, 1);
    assert_eq!(DOCKFW_CTSTATE_UNTRACKED, 1 << 3);
    assert_eq!(
        DOCKFW_CTSTATE_ALL,
        DOCKFW_CTSTATE_NEW | DOCKFW_CTSTATE_ESTABLISHED | DOCKFW_CTSTATE_RELATED | DOCKFW_CTSTATE_UNTRACKED
    );
    assert_eq!(DOCKFW_GENL_NAME, "dockfw");
    assert_eq!(DOCKFW_MCGRP_TRACE, "trace");
    // The shared model agrees with the uAPI conntrack bits.
    for (s, w) in [
        (model::CtState::New, DOCKFW_CTSTATE_NEW),
        (model::CtState::Established, DOCKFW_CTSTATE_ESTABLISHED),
        (model::CtState::Related, DOCKFW_CTSTATE_RELATED),
        (model::CtState::Untracked, DOCKFW_CTSTATE_UNTRACKED),
    ] {
        assert_eq!(u32::from(s.bit()), w);
    }
}

#[test]
fn add_parse_errors_show_a_caret() {
    let f = parse_add(&words("forward tcp dportt 80 accept")).unwrap_err();
    assert_eq!(f.code, Exit::Usage);
    assert_eq!(f.msg, "add rule: syntax error: unknown keyword\n  forward tcp dportt 80 accept\n              ^^^^^^");
    let f = parse_add(&words("tcp dport 80")).unwrap_err();
    assert!(f.msg.ends_with("\n  tcp dport 80\n               ^"), "{}", f.msg);
    let f = parse_add(&words("id 4 accept")).unwrap_err();
    assert!(f.msg.ends_with("  id 4 accept\n  ^^"), "{}", f.msg);
    // Words may carry several tokens.
    let r = parse_add(&["forward tcp".into(), "dport".into(), "80  accept".into()]).unwrap();
    assert_eq!(rule_text(&r, false), "forward tcp dport 80 accept");
}

#[test]
fn kernel_errors_map_to_exit_codes_and_messages() {
    let k = |errno, msg: Option<&str>| NlError::Kernel { errno, msg: msg.map(String::from), offset: None };
    let f = nl_fail("add rule", k(libc::EINVAL, Some("ports only exist for tcp and udp")));
    assert_eq!(f.code, Exit::Kernel);
    assert_eq!(f.msg, "add rule: kernel refused: ports only exist for tcp and udp (Invalid argument)");
    let f = nl_fail("delete rule 9", k(libc::ENOENT, None));
    assert_eq!((f.code, f.msg.as_str()), (Exit::Kernel, "delete rule 9: kernel refused: No such file or directory"));
    assert_eq!(nl_fail("x", k(libc::EPERM, None)).code, Exit::Perm);
    assert_eq!(nl_fail("x", k(libc::EACCES, None)).code, Exit::Perm);
    assert_eq!(nl_fail("x", NlError::NoFamily("gone".into())).code, Exit::NoFamily);
    assert_eq!(nl_fail("x", NlError::Io("boom".into())).code, Exit::Io);
}

#[test]
fn replace_batches_stay_small_and_offsets_find_rules() {
    let sizes = vec![100; 1000];
    let b = batches(&sizes);
    assert_eq!(b.iter().map(|r| r.len()).sum::<usize>(), 1000);
    assert!(b.iter().all(|r| r.len() <= BATCH_RULES && APPEND_OVERHEAD + r.len() * 100 <= BATCH_BYTES));
    assert_eq!(b[0], 0..256);
    let big = vec![10_000; 5];
    assert_eq!(batches(&big), vec![0..2, 2..4, 4..5]);
    assert!(batches(&[]).is_empty());
    // Offsets count from the start of the netlink header.
    assert_eq!(rule_at_offset(&sizes, 256..512, (APPEND_OVERHEAD + 4) as u32), Some(256));
    assert_eq!(rule_at_offset(&sizes, 256..512, (APPEND_OVERHEAD + 250) as u32), Some(258));
    assert_eq!(rule_at_offset(&sizes, 0..2, 3), None);
}

fn attr_types(a: &[Attr]) -> Vec<u16> {
    a.iter().map(|x| *x.nla_type().nla_type()).collect()
}

fn payload(a: &[Attr], ty: u16) -> Option<Vec<u8>> {
    a.iter().find(|x| *x.nla_type().nla_type() == ty).map(|x| x.payload().as_ref().to_vec())
}

#[test]
fn trace_match_parsing_and_encoding() {
    let m = parse_match(&words("tcp dport 8081"), "trace").unwrap();
    assert_eq!(attr_types(&m), vec![DOCKFW_RA_PROTO, DOCKFW_RA_DPORT_MIN, DOCKFW_RA_DPORT_MAX]);
    assert_eq!(payload(&m, DOCKFW_RA_DPORT_MIN), Some(8081u16.to_ne_bytes().to_vec()));
    // Hooks only when not all five; netns, ct, orig-dport pass through.
    let m = parse_match(&words("forward ip netns host ct new orig-daddr 10.0.0.1 orig-dport 80 iif veth+"), "trace").unwrap();
    assert_eq!(payload(&m, DOCKFW_RA_HOOKS), Some((1u32 << 2).to_ne_bytes().to_vec()));
    assert_eq!(payload(&m, DOCKFW_RA_NETNS_HOST), Some(vec![]));
    assert_eq!(payload(&m, DOCKFW_RA_CTSTATE), Some(DOCKFW_CTSTATE_NEW.to_ne_bytes().to_vec()));
    assert_eq!(payload(&m, DOCKFW_RA_ORIG_DADDR), Some(vec![10, 0, 0, 1]));
    assert_eq!(payload(&m, DOCKFW_RA_IIFNAME), Some(b"veth+\0".to_vec()));
    assert_eq!(payload(&m, DOCKFW_RA_FAMILY), Some(vec![2]));
    for t in [DOCKFW_RA_VERDICT, DOCKFW_RA_PRIORITY, DOCKFW_RA_ID, DOCKFW_RA_COMMENT] {
        assert!(payload(&m, t).is_none(), "{t}");
    }
    // Errors show the caret under the user's token, exit 2.
    let f = parse_match(&words("tcp dportt 80"), "trace").unwrap_err();
    assert_eq!(f.code, Exit::Usage);
    assert_eq!(f.msg, "trace: syntax error: unknown keyword\n  tcp dportt 80\n      ^^^^^^");
    // A missing argument points past the end (not at the dummy action).
    let f = parse_match(&words("tcp dport"), "trace filter").unwrap_err();
    assert!(f.msg.starts_with("trace filter: syntax error: "), "{}", f.msg);
    assert!(f.msg.ends_with("\n  tcp dport\n            ^"), "{}", f.msg);
    // Rule-only words are refused where they stand.
    let f = parse_match(&words("udp drop"), "trace").unwrap_err();
    assert!(f.msg.ends_with("\n  udp drop\n      ^^^^"), "{}", f.msg);
    let f = parse_match(&words("tcp prio 5"), "trace").unwrap_err();
    assert!(f.msg.contains("`prio`") && f.msg.ends_with("      ^^^^"), "{}", f.msg);
    // ... but not as the argument of another keyword.
    assert!(parse_match(&words("iif id"), "trace").is_ok());
    // Inconsistent matches are caught before anything is sent.
    assert!(parse_match(&words("icmp dport 80"), "trace").unwrap_err().msg.contains("ports only exist"));
}

/// add/restore/trace resolution against a fake engine speaking HTTP on
/// a unix socket named by DOCKER_HOST (the only test that sets it).
#[test]
fn container_references_resolve_through_the_engine() {
    use docker::client::tests::{inspect_json, FakeEngine};
    let fake = FakeEngine::start();
    fake.set(vec![
        inspect_json("web", true, std::process::id(), &[("bridge", "172.17.0.2", "")]),
        inspect_json("multi", true, std::process::id(), &[("bridge", "172.17.0.3", ""), ("front", "172.20.0.3", "")]),
        inspect_json("old", false, 0, &[("bridge", "", "")]),
    ]);
    std::env::set_var("DOCKER_HOST", format!("unix://{}", fake.socket.display()));
    let add = |s: &str| -> Result<Rule, Fail> {
        let r = parse_add(&words(s))?;
        resolve_strict(r, &lookup([&r], "add rule")?, "add rule", true)
    };
    let r = add("forward tcp orig-dport 80 to-container web saddr 172.16.0.0/24 accept").unwrap();
    assert_eq!(r.daddr.unwrap().addr, model::parse_addr("172.17.0.2").unwrap());
    assert_eq!(r.daddr.unwrap().len, 32);
    assert!(r.validate().is_ok() && !r.inactive);
    // What goes to the kernel: the name and the address.
    let a = rule_attrs(&r);
    assert_eq!(payload(&a, DOCKFW_RA_DST_CONTAINER), Some(b"web\0".to_vec()));
    assert_eq!(payload(&a, DOCKFW_RA_DADDR), Some(vec![172, 17, 0, 2]));
    let f = add("to-container ghost accept").unwrap_err();
    assert_eq!((f.code, f.msg.as_str()), (Exit::Docker, "add rule: no such container: ghost"));
    let f = add("to-container multi accept").unwrap_err();
    assert_eq!(f.code, Exit::Docker);
    assert_eq!(f.msg, "add rule: container multi is on several networks (bridge, front): name one as multi@NETWORK");
    assert_eq!(add("to-container multi@front accept").unwrap().daddr.unwrap().addr, model::parse_addr("172.20.0.3").unwrap());
    // Stopped: inactive, no address.
    let r = add("from-container old drop").unwrap();
    assert!(r.inactive && r.saddr.is_none() && r.validate().is_ok());
    assert_eq!(payload(&rule_attrs(&r), DOCKFW_RA_INACTIVE), Some(vec![]));
    // Namespaces: /proc/PID/ns/net of the container's pid.
    let r = add("in-container web input accept").unwrap();
    assert_eq!(r.netns, rules::NetnsMatch::Inum(docker::client::netns_of_pid(std::process::id()).unwrap()));
    // Trace filters carry the address only.
    let m = parse_match(&words("tcp to-container web"), "trace").unwrap();
    assert_eq!(payload(&m, DOCKFW_RA_DADDR), Some(vec![172, 17, 0, 2]));
    assert_eq!(payload(&m, DOCKFW_RA_DPREFIX), Some(vec![32]));
    assert!(payload(&m, DOCKFW_RA_DST_CONTAINER).is_none());
    let f = parse_match(&words("from-container old"), "trace").unwrap_err();
    assert_eq!((f.code, f.msg.as_str()), (Exit::Docker, "trace: container old is not running: nothing to trace"));
    // Rules without containers never ask the engine.
    let before = fake.state.lock().unwrap().requests.len();
    add("tcp dport 80 accept").unwrap();
    assert_eq!(fake.state.lock().unwrap().requests.len(), before);
    // No engine.
    std::env::set_var("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let f = add("to-container web accept").unwrap_err();
    assert_eq!(f.code, Exit::Docker);
    assert_eq!(f.msg, "add rule: cannot reach the Docker engine at /nonexistent/docker.sock: No such file or directory");
    std::env::set_var("DOCKER_HOST", "tcp://127.0.0.1:2375");
    assert_eq!(add("to-container web accept").unwrap_err().code, Exit::Docker);
    std::env::remove_var("DOCKER_HOST");
}

#[test]
fn trace_requests_one_per_filter() {
    // Nothing given: one empty match (everything).
    let r = trace_requests(&[], &[], &[]).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(attr_types(&r[0]), vec![DOCKFW_A_MATCH]);
    assert!(r[0][0].payload().as_ref().is_empty());
    assert!(*r[0][0].nla_type().nla_nested());
    let r = trace_requests(&words("tcp dport 8081"), &["udp".into(), "icmp".into()], &[3, 9]).unwrap();
    assert_eq!(r.len(), 5);
    assert!(r[..3].iter().all(|x| attr_types(x) == vec![DOCKFW_A_MATCH]));
    assert_eq!(attr_types(&r[3]), vec![DOCKFW_A_TRACE_RULE]);
    assert_eq!(payload(&r[4], DOCKFW_A_TRACE_RULE), Some(9u32.to_ne_bytes().to_vec()));
    let inner = r[1][0].get_attr_handle::<u16>().unwrap();
    let proto = inner.iter().find(|a| *a.nla_type().nla_type() == DOCKFW_RA_PROTO).unwrap();
    assert_eq!(proto.payload().as_ref(), &[17]);
    assert_eq!(trace_requests(&[], &["bogus".into()], &[]).unwrap_err().code, Exit::Usage);
}

#[test]
fn stats_decode_new_trace_fields() {
    use trace::event::tests::raw_attr;
    let mut b = Vec::new();
    b.extend(raw_attr(DOCKFW_STATS_RULES, &4u32.to_ne_bytes()));
    b.extend(raw_attr(DOCKFW_STATS_PAD, &[]));
    b.extend(raw_attr(DOCKFW_STATS_PACKETS, &1000u64.to_ne_bytes()));
    b.extend(raw_attr(DOCKFW_STATS_TRACE_FILTERS, &2u32.to_ne_bytes()));
    b.extend(raw_attr(DOCKFW_STATS_PAD, &[]));
    b.extend(raw_attr(DOCKFW_STATS_TRACE_EVENTS, &123_456_789_012u64.to_ne_bytes()));
    b.extend(raw_attr(DOCKFW_STATS_TRACE_LOST, &7u64.to_ne_bytes()));
    b.extend(raw_attr(__DOCKFW_STATS_MAX + 1, &[1]));
    let s = decode_stats(&b).unwrap();
    let want: Vec<(String, u64)> = [("rules", 4), ("packets", 1000), ("trace_filters", 2), ("trace_events", 123_456_789_012), ("trace_lost", 7)]
        .iter()
        .map(|&(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(s, want);
    assert!(decode_stats(&raw_attr(DOCKFW_STATS_TRACE_LOST, &[1, 2])).unwrap_err().contains("TRACE_LOST"));
}

#[test]
fn cli_parses() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
    let c = Cli::try_parse_from(["dockfwctl", "add", "forward", "tcp", "dport", "80", "accept"]).unwrap();
    assert!(matches!(c.cmd, Cmd::Add { ref rule } if rule.len() == 5));
    let c = Cli::try_parse_from(["dockfwctl", "replace", "-"]).unwrap();
    assert!(matches!(c.cmd, Cmd::Restore { ref file } if file == "-"));
    assert!(Cli::try_parse_from(["dockfwctl", "del", "0"]).is_err());
    assert!(Cli::try_parse_from(["dockfwctl", "policy", "log"]).is_err());
    let Err(e) = Cli::try_parse_from(["dockfwctl", "add"]) else { panic!("add without a rule parsed") };
    assert_eq!(e.exit_code(), 2);
    // trace: flags may come before or after the match words.
    let c = Cli::try_parse_from(["dockfwctl", "trace", "tcp", "dport", "8081", "--json", "-f", "udp", "--rule", "3", "--count", "5", "--timeout", "1.5", "--explain"]).unwrap();
    match c.cmd {
        Cmd::Trace { matches, filters, rules, json, count, timeout, explain } => {
            assert_eq!(matches, ["tcp", "dport", "8081"]);
            assert_eq!(filters, ["udp"]);
            assert_eq!(rules, [3]);
            assert!(json && explain);
            assert_eq!(count, Some(5));
            assert_eq!(timeout, Some(Duration::from_millis(1500)));
        }
        _ => panic!("not trace"),
    }
    let c = Cli::try_parse_from(["dockfwctl", "monitor"]).unwrap();
    assert!(matches!(c.cmd, Cmd::Trace { ref matches, .. } if matches.is_empty()));
    assert!(Cli::try_parse_from(["dockfwctl", "trace", "--rule", "0"]).is_err());
    assert!(Cli::try_parse_from(["dockfwctl", "trace", "--count", "0"]).is_err());
    assert!(Cli::try_parse_from(["dockfwctl", "trace", "--timeout", "-1"]).is_err());
    assert!(Cli::try_parse_from(["dockfwctl", "trace", "--timeout", "x"]).is_err());
    let c = Cli::try_parse_from(["dockfwctl", "watch", "--once"]).unwrap();
    assert!(matches!(c.cmd, Cmd::Watch { once: true, verbose: false, interval } if interval == Duration::from_secs(60)));
    let c = Cli::try_parse_from(["dockfwctl", "watch", "-v", "--interval", "5"]).unwrap();
    assert!(matches!(c.cmd, Cmd::Watch { once: false, verbose: true, interval } if interval == Duration::from_secs(5)));
}
