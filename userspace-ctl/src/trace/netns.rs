// SPDX-License-Identifier: GPL-2.0
//! Network namespace names for trace events: the kernel reports a hook's
//! namespace by inode (`DOCKFW_EV_NETNS`); `ip netns add` names a namespace
//! by bind-mounting it under `/run/netns`, whose files have that inode as
//! their `st_ino`. The only part of `trace/` that touches the system (it
//! reads the directory it is given).

use super::event::Event;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const NETNS_DIR: &str = "/run/netns";

/// Namespace names by inode: the files of `/run/netns` (bind mounts of
/// the namespaces, `ip netns add`), whose `st_ino` is the namespace's inode.
/// The directory is read at start and again when an inode not seen before
/// turns up (at most once a second for inodes already looked up).
pub struct NetnsNames {
    dir: PathBuf,
    names: HashMap<u64, String>,
    asked: HashSet<u64>,
    scanned: Option<Instant>,
}

impl NetnsNames {
    pub fn new(dir: impl AsRef<Path>) -> NetnsNames {
        let mut n = NetnsNames { dir: dir.as_ref().to_path_buf(), names: HashMap::new(), asked: HashSet::new(), scanned: None };
        n.scan();
        n
    }

    fn scan(&mut self) {
        use std::os::unix::fs::MetadataExt;
        self.scanned = Some(Instant::now());
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return };
        let mut names = HashMap::new();
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for ent in entries {
            if let (Ok(md), Some(name)) = (std::fs::metadata(ent.path()), ent.file_name().to_str()) {
                names.entry(md.ino()).or_insert_with(|| name.to_string());
            }
        }
        self.names = names;
    }

    /// The name of the namespace with inode `ino`, if it has one.
    pub fn name(&mut self, ino: u64) -> Option<String> {
        if let Some(n) = self.names.get(&ino) {
            return Some(n.clone());
        }
        let stale = self.scanned.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if self.asked.insert(ino) || stale {
            self.scan();
        }
        self.names.get(&ino).cloned()
    }

    /// Fills in the event's `netns_name` (not for the initial namespace).
    pub fn annotate(&mut self, e: &mut Event) {
        if !e.netns_init {
            if let Some(i) = e.netns {
                e.netns_name = self.name(u64::from(i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::render::{event_line, location};

    #[test]
    fn netns_names_from_a_directory() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("dockfwctl-netns-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ctr1"), b"").unwrap();
        std::fs::write(dir.join("ext"), b"").unwrap();
        let ino = |n: &str| std::fs::metadata(dir.join(n)).unwrap().ino();
        let mut names = NetnsNames::new(&dir);
        assert_eq!(names.name(ino("ctr1")).as_deref(), Some("ctr1"));
        assert_eq!(names.name(ino("ext")).as_deref(), Some("ext"));
        // A namespace named after the start is found on its first sight.
        std::fs::write(dir.join("late"), b"").unwrap();
        assert_eq!(names.name(ino("late")).as_deref(), Some("late"));
        assert_eq!(names.name(1), None);
        // Events are annotated, except in the initial namespace.
        let mut e = Event { netns: Some(ino("ctr1") as u32), ..Default::default() };
        if u64::from(e.netns.unwrap()) == ino("ctr1") {
            names.annotate(&mut e);
            assert_eq!(e.netns_name.as_deref(), Some("ctr1"));
            assert_eq!(location(&e), "ctr1");
            assert!(event_line(&e).starts_with(&format!("  {}(ctr1) ", ino("ctr1"))));
        }
        let mut h = Event { netns: Some(ino("ctr1") as u32), netns_init: true, ..Default::default() };
        names.annotate(&mut h);
        assert_eq!(h.netns_name, None);
        assert_eq!(location(&h), "host");
        // A missing directory means no names, not an error.
        let mut none = NetnsNames::new(dir.join("missing"));
        assert_eq!(none.name(ino("ctr1")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
