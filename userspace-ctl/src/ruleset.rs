// SPDX-License-Identifier: GPL-2.0
//! Ruleset files (`dockfwctl save` output, `restore`/`replace` input): one
//! rule per line in the rule language, blank lines and `#` comment lines
//! ignored. Errors point at a line and a 1-based column.

use crate::rule_syntax::{parse_rule, SyntaxError};
use crate::rules::Rule;

pub const HEADER: &str = "# dockfw ruleset";

/// Whitespace-separated tokens of `line` with their byte offsets.
pub fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// Byte span of the token a syntax error names: the token itself, or just
/// past the end of the text when the error is about a missing token.
pub fn error_span(line: &str, toks: &[(usize, &str)], e: &SyntaxError) -> (usize, usize) {
    match toks.get(e.token) {
        Some(&(off, t)) => (off, t.len()),
        None => (line.trim_end().len() + usize::from(!toks.is_empty()), 1),
    }
}

/// 1-based column (in characters) of the token a syntax error names.
pub fn error_column(line: &str, e: &SyntaxError) -> usize {
    let toks = tokens(line);
    let (off, _) = error_span(line, &toks, e);
    line.get(..off).map_or(off, |s| s.chars().count()) + 1
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

/// A parsed rule and the 1-based line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRule {
    pub line: usize,
    pub rule: Rule,
}

/// Parses a whole file; the first error stops it.
pub fn parse_file(text: &str) -> Result<Vec<LineRule>, FileError> {
    let mut out: Vec<LineRule> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let toks = tokens(line);
        let rule = parse_rule(toks.iter().map(|&(_, t)| t)).map_err(|e| FileError {
            line: n + 1,
            col: error_column(line, &e),
            msg: e.msg.to_string(),
        })?;
        if rule.id != 0 {
            if let Some(prev) = out.iter().find(|p| p.rule.id == rule.id) {
                let pos = toks.iter().position(|&(_, t)| t == "id").map_or(0, |i| i + 1);
                return Err(FileError {
                    line: n + 1,
                    col: error_column(line, &SyntaxError { token: pos, msg: "" }),
                    msg: format!("rule id {} already used on line {}", rule.id, prev.line),
                });
            }
        }
        out.push(LineRule { line: n + 1, rule });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::rule::rule_text;

    #[test]
    fn token_offsets() {
        let t = tokens("  tcp\tdport  80 ");
        assert_eq!(t, vec![(2, "tcp"), (6, "dport"), (13, "80")]);
        assert!(tokens("   ").is_empty());
    }

    #[test]
    fn columns_point_at_the_offending_token() {
        let line = "forward tcp dport 8o accept";
        let e = parse_rule(tokens(line).iter().map(|t| t.1)).unwrap_err();
        assert_eq!(e.token, 3);
        assert_eq!(error_column(line, &e), 19);
        assert_eq!(&line[18..20], "8o");

        let line = "  tcp  bogus accept";
        let e = parse_rule(tokens(line).iter().map(|t| t.1)).unwrap_err();
        assert_eq!(error_column(line, &e), 8);

        // A missing token: the column just past the end of the text.
        let line = "tcp dport 80";
        let e = parse_rule(tokens(line).iter().map(|t| t.1)).unwrap_err();
        assert_eq!(e.msg, "missing action: accept, drop or log");
        assert_eq!(error_column(line, &e), 14);
        let line = "tcp dport";
        let e = parse_rule(tokens(line).iter().map(|t| t.1)).unwrap_err();
        assert_eq!(error_column(line, &e), 11);

        // Columns count characters, not bytes.
        let line = "comment é accept";
        let e = parse_rule(tokens(line).iter().map(|t| t.1)).unwrap_err();
        assert_eq!(e.token, 1);
        assert_eq!(error_column(line, &e), 9);
    }

    #[test]
    fn file_with_comments_blank_lines_and_ids() {
        let text = "# dockfw ruleset\n\n   # indented comment\nid 3 forward tcp dport 80 accept\r\n\t\ninput comment a#b drop\n";
        let rules = parse_file(text).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].line, 4);
        assert_eq!(rules[0].rule.id, 3);
        assert_eq!(rule_text(&rules[0].rule, true), "id 3 forward tcp dport 80 accept");
        assert_eq!(rules[1].line, 6);
        assert_eq!(rules[1].rule.comment(), "a#b");
        assert!(parse_file("").unwrap().is_empty());
        assert!(parse_file("# only\n\n").unwrap().is_empty());
    }

    #[test]
    fn file_errors_have_line_and_column() {
        let text = "# x\naccept\n\n  tcp sport 99999 accept\n";
        let e = parse_file(text).unwrap_err();
        assert_eq!((e.line, e.col), (4, 13));
        assert_eq!(e.msg, "not a port (0-65535) or N-M range");

        let text = "id 5 accept\ndrop\nid 5 drop\n";
        let e = parse_file(text).unwrap_err();
        assert_eq!((e.line, e.col), (3, 4));
        assert!(e.msg.contains("already used on line 1"), "{}", e.msg);
    }

    #[test]
    fn save_output_reads_back() {
        let rules = [
            "id 1 prerouting udp daddr fd00::/8 dport 53 netns host log",
            "id 2 tcp saddr 172.16.0.0/24 ct related orig-daddr 10.1.2.3 orig-dport 80-81 prio 5 comment x drop",
            "id 9 iif veth+ oif eth0 netns 4026532000 accept",
        ];
        let mut text = format!("{HEADER}\n");
        for r in rules {
            text.push_str(r);
            text.push('\n');
        }
        let back = parse_file(&text).unwrap();
        let texts: Vec<String> = back.iter().map(|l| rule_text(&l.rule, true)).collect();
        assert_eq!(texts, rules);
    }
}
