// SPDX-License-Identifier: GPL-2.0
//! A small parser for the dockfw uAPI header (`include/uapi/linux/dockfw.h`):
//! `#define NAME "string"|expression` and `enum name { A, B = expr, ... };`
//! with C's implicit increments, as the kernel's ynl-gen-c.py writes them
//! from include/dockfw.yaml (`X_MAX = (__X_MAX - 1)` members included).
//! The header's one parser: dockfwctl's and dfwprobe's build scripts
//! generate their Rust constants with it (`generate`), dfwprobe prints the
//! guest scripts' shell variables with it (`shell`, for tests/qemu/run.py),
//! and dockfwctl's tests check the spec against the header it reads.
//! Expressions may use decimal/hex numbers, names defined earlier,
//! parentheses, `+`, `-`, `<<` and `|`. Depends on `std` only.

#![allow(dead_code)]

use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Num(i64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enum {
    /// The C tag, e.g. `dockfw_cmd`.
    pub name: String,
    /// Enumerators in declaration order with their values.
    pub items: Vec<(String, i64)>,
}

impl Enum {
    /// The common `NAME_` prefix of the enumerators (leading underscores of
    /// `__X_MAX` ignored), e.g. `DOCKFW_CMD_`.
    pub fn prefix(&self) -> String {
        let names: Vec<&str> = self.items.iter().map(|(n, _)| n.trim_start_matches('_')).collect();
        let Some(first) = names.first() else { return String::new() };
        let mut len = first.len();
        for n in &names[1..] {
            len = len.min(first.bytes().zip(n.bytes()).take_while(|(a, b)| a == b).count());
        }
        match first[..len].rfind('_') {
            Some(i) => first[..=i].to_string(),
            None => String::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<i64> {
        self.items.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `#define`s with a value, in order (include guards are skipped).
    pub defines: Vec<(String, Value)>,
    pub enums: Vec<Enum>,
}

impl Header {
    pub fn define(&self, name: &str) -> Option<&Value> {
        self.defines.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn enum_named(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// The enum whose enumerators share `prefix` (e.g. `DOCKFW_RA_`).
    pub fn enum_with_prefix(&self, prefix: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.prefix() == prefix)
    }
}

/// Removes `/* */` and `//` comments, keeping newlines so line numbers stay.
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c as char);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1] as char);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
        } else if c == b'"' {
            in_str = true;
            out.push('"');
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else {
            // The header is ASCII; anything else passes through unchanged.
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Ident(String),
    Op(&'static str),
}

fn lex_expr(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let lit = s[start..i].trim_end_matches(['u', 'U', 'l', 'L']);
            let v = if let Some(h) = lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
                i64::from_str_radix(h, 16)
            } else if lit.len() > 1 && lit.starts_with('0') {
                i64::from_str_radix(&lit[1..], 8)
            } else {
                lit.parse()
            };
            out.push(Tok::Num(v.map_err(|_| format!("bad number {:?}", &s[start..i]))?));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_string()));
        } else if s[i..].starts_with("<<") {
            out.push(Tok::Op("<<"));
            i += 2;
        } else {
            let op = match c {
                b'(' => "(",
                b')' => ")",
                b'+' => "+",
                b'-' => "-",
                b'|' => "|",
                _ => return Err(format!("unexpected character {:?} in {:?}", c as char, s)),
            };
            out.push(Tok::Op(op));
            i += 1;
        }
    }
    Ok(out)
}

struct ExprParser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    known: &'a HashMap<String, i64>,
}

impl ExprParser<'_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Op(o)) if *o == op)
    }

    fn or(&mut self) -> Result<i64, String> {
        let mut v = self.shift()?;
        while self.peek_op("|") {
            self.pos += 1;
            v |= self.shift()?;
        }
        Ok(v)
    }

    fn shift(&mut self) -> Result<i64, String> {
        let mut v = self.add()?;
        while self.peek_op("<<") {
            self.pos += 1;
            let n = self.add()?;
            if !(0..63).contains(&n) {
                return Err(format!("shift by {n}"));
            }
            v <<= n;
        }
        Ok(v)
    }

    fn add(&mut self) -> Result<i64, String> {
        let mut v = self.unary()?;
        loop {
            if self.peek_op("+") {
                self.pos += 1;
                v += self.unary()?;
            } else if self.peek_op("-") {
                self.pos += 1;
                v -= self.unary()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn unary(&mut self) -> Result<i64, String> {
        if self.peek_op("-") {
            self.pos += 1;
            return Ok(-self.unary()?);
        }
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(Tok::Ident(id)) => {
                self.pos += 1;
                self.known.get(&id).copied().ok_or_else(|| format!("unknown name {id}"))
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let v = self.or()?;
                if !self.peek_op(")") {
                    return Err("missing )".into());
                }
                self.pos += 1;
                Ok(v)
            }
            t => Err(format!("unexpected {t:?}")),
        }
    }
}

/// Evaluates a constant expression with the names known so far.
pub fn eval(expr: &str, known: &HashMap<String, i64>) -> Result<i64, String> {
    let toks = lex_expr(expr)?;
    let mut p = ExprParser { toks, pos: 0, known };
    let v = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("trailing tokens in {expr:?}"));
    }
    Ok(v)
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') && !s.as_bytes()[0].is_ascii_digit()
}

/// Parses the header text.
pub fn parse(src: &str) -> Result<Header, String> {
    let text = strip_comments(src);
    let mut h = Header::default();
    let mut known: HashMap<String, i64> = HashMap::new();
    let mut rest = text.as_str();
    let mut line_no = 1usize;
    while !rest.is_empty() {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(d) = trimmed.strip_prefix("#define") {
            let end = d.find('\n').unwrap_or(d.len());
            let body = d[..end].trim();
            let (name, value) = match body.find(|c: char| c.is_whitespace()) {
                Some(i) => (&body[..i], body[i..].trim()),
                None => (body, ""),
            };
            if !is_ident(name) {
                return Err(format!("line {line_no}: bad #define name {name:?}"));
            }
            if let Some(s) = value.strip_prefix('"') {
                let s = s.strip_suffix('"').ok_or_else(|| format!("line {line_no}: unterminated string"))?;
                h.defines.push((name.to_string(), Value::Str(s.to_string())));
            } else if !value.is_empty() {
                let v = eval(value, &known).map_err(|e| format!("line {line_no}: {name}: {e}"))?;
                known.insert(name.to_string(), v);
                h.defines.push((name.to_string(), Value::Num(v)));
            }
            rest = &d[end..];
            continue;
        }
        if let Some(e) = trimmed.strip_prefix("enum").filter(|e| e.starts_with(|c: char| c.is_whitespace())) {
            let open = e.find('{').ok_or_else(|| format!("line {line_no}: enum without body"))?;
            let name = e[..open].trim();
            if !is_ident(name) {
                return Err(format!("line {line_no}: enum needs a tag, got {name:?}"));
            }
            let close = e[open..].find('}').ok_or_else(|| format!("line {line_no}: enum {name} not closed"))? + open;
            let body = &e[open + 1..close];
            let mut items = Vec::new();
            let mut next = 0i64;
            for item in body.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                let (iname, v) = match item.split_once('=') {
                    Some((n, x)) => {
                        let n = n.trim();
                        (n, eval(x.trim(), &known).map_err(|err| format!("enum {name}: {n}: {err}"))?)
                    }
                    None => (item, next),
                };
                if !is_ident(iname) {
                    return Err(format!("enum {name}: bad enumerator {iname:?}"));
                }
                known.insert(iname.to_string(), v);
                items.push((iname.to_string(), v));
                next = v + 1;
            }
            let after = &e[close + 1..];
            let semi = after.trim_start();
            if !semi.starts_with(';') {
                return Err(format!("enum {name}: missing ; after }}"));
            }
            line_no += e[..close].matches('\n').count();
            h.enums.push(Enum { name: name.to_string(), items });
            rest = &after[after.find(';').unwrap_or(0) + 1..];
            continue;
        }
        // Any other line (#ifndef, #endif, blank): skip it.
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        line_no += 1;
        rest = &rest[end..];
    }
    Ok(h)
}

/// The Rust type of an enum's constants: commands are the u8 genl `cmd`,
/// attribute types are u16 `nla_type`s, everything else u32.
pub fn enum_type(e: &Enum) -> &'static str {
    if e.name.ends_with("_cmd") {
        "u8"
    } else if e.name.ends_with("_attr") {
        "u16"
    } else {
        "u32"
    }
}

/// Shell variables for guest scripts: every enumerator and numeric
/// `#define` as `NAME=value` without the `DOCKFW_` prefix (`RA_VERDICT=3`),
/// the `__X_MAX` counters left out. The QEMU runner writes this for the
/// guest (`dfwprobe uapi-shell`), so no script copies a number by hand and
/// the header has one parser.
pub fn shell(h: &Header) -> String {
    let mut out = String::new();
    let mut put = |name: &str, v: i64| {
        if let Some(short) = name.strip_prefix("DOCKFW_") {
            out.push_str(&format!("{short}={v}\n"));
        }
    };
    for (name, v) in &h.defines {
        if let Value::Num(n) = v {
            put(name, *n);
        }
    }
    for e in &h.enums {
        for (name, v) in &e.items {
            put(name, *v);
        }
    }
    out
}

/// Generates the Rust source of `mod uapi`.
pub fn generate(h: &Header) -> String {
    let mut out = String::from("// Generated by build.rs from include/uapi/linux/dockfw.h. Do not edit.\n");
    for e in &h.enums {
        let ty = enum_type(e);
        out.push_str(&format!("\n// enum {}\n", e.name));
        for (n, v) in &e.items {
            out.push_str(&format!("pub const {n}: {ty} = {v};\n"));
        }
        out.push_str(&format!(
            "/// Every enumerator of `enum {}` with its value.\npub const ENUM_{}: &[(&str, {ty})] = &[{}];\n",
            e.name,
            e.name.to_uppercase(),
            e.items.iter().map(|(n, _)| format!("(\"{n}\", {n})")).collect::<Vec<_>>().join(", ")
        ));
    }
    out.push('\n');
    for (n, v) in &h.defines {
        match v {
            Value::Str(s) => out.push_str(&format!("pub const {n}: &str = {s:?};\n")),
            Value::Num(x) => {
                // A define named like an enum's members (`DOCKFW_CMD_MAX`)
                // takes that enum's type.
                let ty = h
                    .enums
                    .iter()
                    .find(|e| {
                        let p = e.prefix();
                        !p.is_empty() && n.trim_start_matches('_').starts_with(&p)
                    })
                    .map_or("u32", enum_type);
                out.push_str(&format!("pub const {n}: {ty} = {x};\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
/* a comment with enum and #define inside: enum x { Y }; */
#ifndef _GUARD_H
#define _GUARD_H
#define FOO_NAME	"foo"  /* trailing comment */
#define FOO_VERSION 3
enum foo_cmd {
	FOO_CMD_UNSPEC,
	FOO_CMD_A,	/* 1 */
	FOO_CMD_B = 7,
	FOO_CMD_C,	// 8
	__FOO_CMD_MAX,
};
#define FOO_CMD_MAX (__FOO_CMD_MAX - 1)
enum foo_flags {
	FOO_F_X = 1 << 0,
	FOO_F_Y = 1 << 3,
	FOO_F_Z,
	FOO_F_XY = FOO_F_X | FOO_F_Y,
	FOO_F_H = 0x20,
};
enum foo_attr { FOO_A_UNSPEC, FOO_A_ONE, FOO_A_TWO };
#endif
"#;

    #[test]
    fn parses_defines_and_enums_with_implicit_values() {
        let h = parse(SMALL).unwrap();
        assert_eq!(h.define("FOO_NAME"), Some(&Value::Str("foo".into())));
        assert_eq!(h.define("FOO_VERSION"), Some(&Value::Num(3)));
        assert_eq!(h.define("_GUARD_H"), None, "include guard has no value");
        assert_eq!(h.define("FOO_CMD_MAX"), Some(&Value::Num(8)));
        let cmd = h.enum_named("foo_cmd").unwrap();
        assert_eq!(
            cmd.items,
            vec![
                ("FOO_CMD_UNSPEC".to_string(), 0),
                ("FOO_CMD_A".to_string(), 1),
                ("FOO_CMD_B".to_string(), 7),
                ("FOO_CMD_C".to_string(), 8),
                ("__FOO_CMD_MAX".to_string(), 9),
            ]
        );
        assert_eq!(cmd.prefix(), "FOO_CMD_");
        let f = h.enum_named("foo_flags").unwrap();
        assert_eq!(f.get("FOO_F_X"), Some(1));
        assert_eq!(f.get("FOO_F_Y"), Some(8));
        assert_eq!(f.get("FOO_F_Z"), Some(9));
        assert_eq!(f.get("FOO_F_XY"), Some(9));
        assert_eq!(f.get("FOO_F_H"), Some(32));
        let a = h.enum_named("foo_attr").unwrap();
        assert_eq!(a.get("FOO_A_TWO"), Some(2));
        assert_eq!(h.enums.len(), 3, "the enum in the comment is not parsed");
    }

    #[test]
    fn generates_typed_constants() {
        let src = generate(&parse(SMALL).unwrap());
        assert!(src.contains("pub const FOO_CMD_B: u8 = 7;"), "{src}");
        assert!(src.contains("pub const FOO_A_ONE: u16 = 1;"), "{src}");
        assert!(src.contains("pub const FOO_F_Y: u32 = 8;"), "{src}");
        assert!(src.contains("pub const FOO_NAME: &str = \"foo\";"), "{src}");
        assert!(src.contains("pub const FOO_CMD_MAX: u8 = 8;"), "{src}");
        assert!(src.contains("pub const FOO_VERSION: u32 = 3;"), "{src}");
        assert!(src.contains("pub const ENUM_FOO_ATTR: &[(&str, u16)] = &[(\"FOO_A_UNSPEC\", FOO_A_UNSPEC)"), "{src}");
    }

    #[test]
    fn rejects_broken_input() {
        assert!(parse("enum x { A = NOPE, };").is_err());
        assert!(parse("enum x { A, B }").is_err(), "missing semicolon");
        assert!(parse("#define X (1 + \n").is_err());
        assert!(eval("1 << 2 | 1", &HashMap::new()) == Ok(5));
        assert!(eval("(3 - 1) << 1 + 1", &HashMap::new()) == Ok(8), "+ binds tighter than <<");
    }
}
