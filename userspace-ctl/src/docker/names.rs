// SPDX-License-Identifier: GPL-2.0
//! Container names for what traces show: which running container has an
//! address, and whose network namespace an inode is. An index of the
//! engine's running containers, refreshed on a miss at a bounded rate, so a
//! trace of busy traffic costs the engine no request per packet.

use super::client::Client;
use super::model::Container;
use crate::model::Addr;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Container names for what traces show: addresses and namespace inodes
/// of running containers, from `/containers/json` and an inspect of each.
/// Refreshed when a key never looked up before is missing, at most once a
/// second (and a key missed before is tried again after ten seconds), so
/// traffic from addresses that are no container's costs no request per
/// packet. Without an engine it just finds no names.
pub struct ContainerNames {
    client: Option<Client>,
    by_addr: HashMap<Vec<u8>, String>,
    by_netns: HashMap<u32, String>,
    refreshed: Option<Instant>,
    asked: HashSet<(u8, Vec<u8>)>,
}

const NAMES_MIN_AGE: Duration = Duration::from_secs(1);

const NAMES_RETRY_AGE: Duration = Duration::from_secs(10);

impl ContainerNames {
    /// Names from the engine of `DOCKER_HOST` (none if it is not a unix
    /// socket).
    pub fn from_env() -> ContainerNames {
        let client = Client::from_env().ok().map(|mut c| {
            // A trace must not stall on a slow engine.
            c.set_timeout(Duration::from_secs(2));
            c
        });
        ContainerNames::new(client)
    }

    pub fn new(client: Option<Client>) -> ContainerNames {
        ContainerNames { client, by_addr: HashMap::new(), by_netns: HashMap::new(), refreshed: None, asked: HashSet::new() }
    }

    /// Replaces the index with these containers.
    pub fn set(&mut self, cs: &[Container]) {
        self.by_addr.clear();
        self.by_netns.clear();
        for c in cs.iter().filter(|c| c.running) {
            for n in &c.networks {
                for a in [n.ipv4, n.ipv6].into_iter().flatten() {
                    self.by_addr.insert(a.bytes().to_vec(), c.name.clone());
                }
            }
            if let Some(ns) = c.netns {
                self.by_netns.insert(ns, c.name.clone());
            }
        }
    }

    fn refresh_for(&mut self, key: (u8, Vec<u8>)) {
        // Bounded memory under traffic from very many addresses.
        if self.asked.len() > 100_000 {
            self.asked.clear();
        }
        let age = self.refreshed.map(|t| t.elapsed());
        let first_ask = self.asked.insert(key);
        let due = match age {
            None => true,
            Some(a) => a >= NAMES_MIN_AGE && (first_ask || a >= NAMES_RETRY_AGE),
        };
        if !due {
            return;
        }
        self.refreshed = Some(Instant::now());
        if let Some(c) = &self.client {
            if let Ok(cs) = c.running() {
                self.set(&cs);
            }
        }
    }

    /// The running container that has this address.
    pub fn addr(&mut self, a: &Addr) -> Option<String> {
        let k = a.bytes().to_vec();
        if !self.by_addr.contains_key(&k) {
            self.refresh_for((0, k.clone()));
        }
        self.by_addr.get(&k).cloned()
    }

    /// The running container whose network namespace this is.
    pub fn netns(&mut self, ino: u32) -> Option<String> {
        if !self.by_netns.contains_key(&ino) {
            self.refresh_for((1, ino.to_ne_bytes().to_vec()));
        }
        self.by_netns.get(&ino).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::client::tests::{inspect_json, own_netns, FakeEngine};
    use crate::model::parse_addr;

    #[test]
    fn container_names_for_traces() {
        let fake = FakeEngine::start();
        let me = std::process::id();
        fake.set(vec![inspect_json("web", true, me, &[("bridge", "172.17.0.2", "")])]);
        let mut n = ContainerNames::new(Some(Client::new(&fake.socket)));
        assert_eq!(n.addr(&parse_addr("172.17.0.2").unwrap()).as_deref(), Some("web"));
        assert_eq!(n.netns(own_netns()).as_deref(), Some("web"));
        let before = fake.state.lock().unwrap().requests.len();
        // A miss right after a refresh asks nothing (at most once a second).
        assert_eq!(n.addr(&parse_addr("10.0.0.2").unwrap()), None);
        assert_eq!(fake.state.lock().unwrap().requests.len(), before);
        // Without an engine: no names, no error.
        let mut none = ContainerNames::new(Some(Client::new("/nonexistent/docker.sock")));
        assert_eq!(none.addr(&parse_addr("172.17.0.2").unwrap()), None);
    }
}
