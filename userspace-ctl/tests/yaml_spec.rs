// SPDX-License-Identifier: GPL-2.0
//! Checks that the uAPI header, as the header's one parser (crate dockfw_uapi) reads
//! it, says what include/dockfw.yaml, the source of truth, says: family
//! name and version, every command, every attribute of every set, the enum
//! and flags definitions and the multicast groups, in both directions. The
//! header is generated from the spec (scripts/ynl-gen.py), so a failure here
//! is the parser misreading the generator's C.

use dockfw_uapi as uapi_parse;

use serde_yaml::Value;
use std::collections::BTreeMap;
use uapi_parse::{Enum, Header};

const HEADER: &str = include_str!("../../include/uapi/linux/dockfw.h");
const SPEC: &str = include_str!("../../include/dockfw.yaml");

fn load() -> (Header, Value) {
    let h = uapi_parse::parse(HEADER).expect("header parses");
    let y: Value = serde_yaml::from_str(SPEC).expect("YAML parses");
    (h, y)
}

/// YNL naming: `name-prefix` + `name`, upper case, `-` to `_`.
fn c_name(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}").to_uppercase().replace('-', "_")
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_sequence).map_or(&[], |x| x.as_slice())
}

fn num_define(h: &Header, name: &str) -> Option<i64> {
    match h.define(name)? {
        uapi_parse::Value::Num(n) => Some(*n),
        uapi_parse::Value::Str(_) => None,
    }
}

/// The header enum whose members carry `prefix`, as name -> value, without
/// the `__X_MAX` count member and the generator's `X_MAX = __X_MAX - 1`
/// alias after it (checked on their own below).
fn header_members<'a>(h: &'a Header, prefix: &str) -> (&'a Enum, BTreeMap<String, i64>) {
    let e = h.enum_with_prefix(prefix).unwrap_or_else(|| panic!("no header enum with prefix {prefix}"));
    let alias = format!("{prefix}MAX");
    let counted = e.items.iter().any(|(n, _)| *n == format!("__{alias}"));
    let m = e.items.iter().filter(|(n, _)| !n.starts_with("__") && !(counted && *n == alias)).cloned().collect();
    (e, m)
}

/// Assigns YNL values: explicit `value`, else the previous one plus one,
/// starting at `start`.
fn numbered(items: &[Value], start: i64) -> Vec<(String, i64)> {
    let mut next = start;
    items
        .iter()
        .map(|it| {
            let name = s(it, "name").expect("entry name").to_string();
            let v = it.get("value").and_then(Value::as_i64).unwrap_or(next);
            next = v + 1;
            (name, v)
        })
        .collect()
}

#[test]
fn family_name_version_and_mcast_groups() {
    let (h, y) = load();
    let name = s(&y, "name").unwrap();
    assert_eq!(s(&y, "protocol"), Some("genetlink-legacy"));
    assert!(s(&y, "doc").is_some_and(|d| !d.is_empty()));
    let fam_define = c_name("", s(&y, "c-family-name").unwrap());
    assert_eq!(h.define(&fam_define), Some(&uapi_parse::Value::Str(name.to_string())));
    let ver_define = c_name("", s(&y, "c-version-name").unwrap());
    assert_eq!(num_define(&h, &ver_define), y.get("version").and_then(Value::as_i64));

    let yaml_groups: Vec<&str> = list(y.get("mcast-groups").unwrap(), "list").iter().map(|g| s(g, "name").unwrap()).collect();
    let header_groups: Vec<&str> = h
        .defines
        .iter()
        .filter(|(n, _)| n.starts_with("DOCKFW_MCGRP_"))
        .map(|(_, v)| match v {
            uapi_parse::Value::Str(s) => s.as_str(),
            uapi_parse::Value::Num(_) => panic!("group name must be a string"),
        })
        .collect();
    assert_eq!(yaml_groups, header_groups);
    assert_eq!(yaml_groups, ["trace"]);
}

#[test]
fn operations_match_the_command_enum() {
    let (h, y) = load();
    let ops = y.get("operations").unwrap();
    let prefix = s(ops, "name-prefix").unwrap();
    let (e, header) = header_members(&h, &c_name(prefix, ""));
    assert_eq!(e.name, c_name("", s(ops, "enum-name").unwrap()).to_lowercase());
    // YNL numbers operations from 1 (0 is the reserved UNSPEC).
    let yaml: BTreeMap<String, i64> = numbered(list(ops, "list"), 1).into_iter().map(|(n, v)| (c_name(prefix, &n), v)).collect();
    let mut expect = header.clone();
    expect.retain(|n, _| !n.ends_with("_UNSPEC"));
    assert_eq!(yaml, expect, "operations vs enum {}", e.name);
    let last = yaml.values().max().copied().unwrap();
    // The generator writes `X_MAX = __X_MAX - 1` into the enum.
    assert_eq!(e.get(&c_name("", s(&y, "cmd-max-name").unwrap())), Some(last));
    assert_eq!(e.get(&c_name("", s(&y, "cmd-cnt-name").unwrap())), Some(last + 1));

    // Every attribute an operation lists exists in its attribute set.
    let sets = list(&y, "attribute-sets");
    for op in list(ops, "list") {
        let set_name = s(op, "attribute-set").unwrap();
        let set = sets.iter().find(|x| s(x, "name") == Some(set_name)).unwrap();
        let names: Vec<&str> = list(set, "attributes").iter().map(|a| s(a, "name").unwrap()).collect();
        if let Some(ev) = op.get("event") {
            for a in list(ev, "attributes") {
                let a = a.as_str().unwrap();
                assert!(names.contains(&a), "{} event: unknown attribute {a}", s(op, "name").unwrap());
            }
            let g = s(op, "mcgrp").expect("an event operation names its multicast group");
            assert!(list(y.get("mcast-groups").unwrap(), "list").iter().any(|x| s(x, "name") == Some(g)), "unknown mcgrp {g}");
        }
        for mode in ["do", "dump"] {
            for dir in ["request", "reply"] {
                let Some(d) = op.get(mode).and_then(|m| m.get(dir)) else { continue };
                for a in list(d, "attributes") {
                    let a = a.as_str().unwrap();
                    assert!(names.contains(&a), "{} {mode} {dir}: unknown attribute {a}", s(op, "name").unwrap());
                }
            }
        }
    }
}

#[test]
fn attribute_sets_match_the_attribute_enums() {
    let (h, y) = load();
    let sets = list(&y, "attribute-sets");
    let set_names: Vec<&str> = sets.iter().map(|x| s(x, "name").unwrap()).collect();
    for want in ["dockfw", "rule", "stats", "match", "event"] {
        assert!(set_names.contains(&want), "attribute set {want} missing");
    }
    let types = ["unused", "pad", "flag", "u8", "u16", "u32", "u64", "string", "binary", "nest"];
    let mut checked = Vec::new();
    for set in sets {
        let name = s(set, "name").unwrap();
        for a in list(set, "attributes") {
            if let Some(n) = s(a, "nested-attributes") {
                assert!(set_names.contains(&n), "{name}: nest of unknown set {n}");
                assert_eq!(s(a, "type"), Some("nest"));
            }
        }
        if let Some(parent) = s(set, "subset-of") {
            let p = sets.iter().find(|x| s(x, "name") == Some(parent)).expect("subset parent");
            for a in list(set, "attributes") {
                let an = s(a, "name").unwrap();
                assert!(list(p, "attributes").iter().any(|x| s(x, "name") == Some(an)), "{name}: {an} not in {parent}");
            }
            continue;
        }
        let prefix = s(set, "name-prefix").unwrap();
        let (e, header) = header_members(&h, &c_name(prefix, ""));
        assert_eq!(e.name, c_name("", s(set, "enum-name").unwrap()).to_lowercase());
        for a in list(set, "attributes") {
            let t = s(a, "type").unwrap();
            assert!(types.contains(&t), "{name}: attribute {} has type {t}", s(a, "name").unwrap());
        }
        // YNL numbers attributes from 1 unless told otherwise.
        let yaml: BTreeMap<String, i64> = numbered(list(set, "attributes"), 1).into_iter().map(|(n, v)| (c_name(prefix, &n), v)).collect();
        assert_eq!(yaml, header, "attribute set {name} vs enum {}", e.name);
        let last = yaml.values().max().copied().unwrap();
        assert_eq!(e.get(&c_name("", s(set, "attr-max-name").unwrap())), Some(last), "{name}");
        assert_eq!(e.get(&c_name("", s(set, "attr-cnt-name").unwrap())), Some(last + 1), "{name}");
        checked.push(e.name.clone());
    }
    checked.sort();
    assert_eq!(checked, ["dockfw_attr", "dockfw_event_attr", "dockfw_rule_attr", "dockfw_stats_attr"]);

    // A few types the wire format depends on.
    let rule = sets.iter().find(|x| s(x, "name") == Some("rule")).unwrap();
    let ty = |n: &str| list(rule, "attributes").iter().find(|a| s(a, "name") == Some(n)).and_then(|a| s(a, "type"));
    assert_eq!(ty("verdict"), Some("u8"));
    assert_eq!(ty("hooks"), Some("u32"));
    assert_eq!(ty("saddr"), Some("binary"));
    assert_eq!(ty("sport-min"), Some("u16"));
    assert_eq!(ty("iifname"), Some("string"));
    assert_eq!(ty("netns-host"), Some("flag"));
    assert_eq!(ty("packets"), Some("u64"));

    // Trace filters are rule matches without verdict, id or priority.
    let m = sets.iter().find(|x| s(x, "name") == Some("match")).unwrap();
    assert_eq!(s(m, "subset-of"), Some("rule"));
    let names: Vec<&str> = list(m, "attributes").iter().map(|a| s(a, "name").unwrap()).collect();
    for no in ["verdict", "id", "priority", "packets", "bytes", "comment"] {
        assert!(!names.contains(&no), "match set must not hold {no}");
    }
    for yes in ["hooks", "family", "proto", "saddr", "dport-min", "iifname", "netns", "netns-host", "ctstate", "orig-dport-min"] {
        assert!(names.contains(&yes), "match set must hold {yes}");
    }
    let ev = sets.iter().find(|x| s(x, "name") == Some("event")).unwrap();
    let ty = |n: &str| list(ev, "attributes").iter().find(|a| s(a, "name") == Some(n)).and_then(|a| s(a, "type"));
    assert_eq!(ty("timestamp"), Some("u64"));
    assert_eq!(ty("skb-id"), Some("u32"));
    assert_eq!(ty("hook"), Some("u8"));
    assert_eq!(ty("netns-init"), Some("flag"));
    assert_eq!(ty("saddr"), Some("binary"));
    assert_eq!(ty("sport"), Some("u16"));
    assert_eq!(ty("ct-reply"), Some("flag"));
    assert_eq!(ty("pad"), Some("pad"));
    let dockfw = sets.iter().find(|x| s(x, "name") == Some("dockfw")).unwrap();
    let nested = |n: &str| list(dockfw, "attributes").iter().find(|a| s(a, "name") == Some(n)).and_then(|a| s(a, "nested-attributes"));
    assert_eq!(nested("match"), Some("match"));
    assert_eq!(nested("event"), Some("event"));
}

#[test]
fn definitions_match_the_header_enums() {
    let (h, y) = load();
    let mut seen = Vec::new();
    for d in list(&y, "definitions") {
        let name = s(d, "name").unwrap();
        match s(d, "type").unwrap() {
            "const" => {
                let v = d.get("value").and_then(Value::as_i64).unwrap();
                assert_eq!(num_define(&h, &c_name("dockfw-", name)), Some(v), "const {name}");
            }
            kind @ ("enum" | "flags") => {
                let prefix = s(d, "name-prefix").unwrap();
                let (e, header) = header_members(&h, &c_name(prefix, ""));
                assert_eq!(e.name, c_name("", s(d, "enum-name").unwrap()).to_lowercase());
                let entries: Vec<Value> = list(d, "entries")
                    .iter()
                    .map(|x| match x {
                        Value::String(n) => {
                            let mut m = serde_yaml::Mapping::new();
                            m.insert("name".into(), n.clone().into());
                            Value::Mapping(m)
                        }
                        other => other.clone(),
                    })
                    .collect();
                let yaml: BTreeMap<String, i64> = if kind == "flags" {
                    entries.iter().enumerate().map(|(i, x)| (c_name(prefix, s(x, "name").unwrap()), 1i64 << i)).collect()
                } else {
                    let start = d.get("value-start").and_then(Value::as_i64).unwrap_or(0);
                    numbered(&entries, start).into_iter().map(|(n, v)| (c_name(prefix, &n), v)).collect()
                };
                assert_eq!(yaml, header, "definition {name} vs enum {}", e.name);
                if d.get("render-max").and_then(Value::as_bool) == Some(true) {
                    let max = yaml.values().max().copied().unwrap();
                    assert_eq!(e.get(&format!("__{}MAX", c_name(prefix, ""))), Some(max + 1), "{name}");
                }
                seen.push(e.name.clone());
            }
            t => panic!("definition {name}: unexpected type {t}"),
        }
    }
    seen.sort();
    assert_eq!(seen, ["dockfw_ctstate", "dockfw_hook", "dockfw_replace_phase", "dockfw_verdict"]);
}

#[test]
fn checker_catches_a_wrong_value() {
    // The comparison above is only worth something if a mismatch shows.
    let (h, _) = load();
    let bad: Value = serde_yaml::from_str("list: [{name: rule-add, value: 2}, {name: rule-del}]").unwrap();
    let yaml: BTreeMap<String, i64> =
        numbered(list(&bad, "list"), 1).into_iter().map(|(n, v)| (c_name("dockfw-cmd-", &n), v)).collect();
    let (_, header) = header_members(&h, "DOCKFW_CMD_");
    assert_ne!(yaml.get("DOCKFW_CMD_RULE_ADD"), header.get("DOCKFW_CMD_RULE_ADD"));
    assert_ne!(yaml.get("DOCKFW_CMD_RULE_DEL"), header.get("DOCKFW_CMD_RULE_DEL"));
}
