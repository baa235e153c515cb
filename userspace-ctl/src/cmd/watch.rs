// SPDX-License-Identifier: GPL-2.0
//! `dockfwctl watch`: keeps the rules that name containers on the
//! containers' current addresses and namespaces. It subscribes to the
//! Docker engine's event stream (container start/die/stop/restart/destroy/
//! rename, network connect/disconnect) and, after any such event, when the
//! ruleset's generation moved (someone ran `add` or `restore`), and every
//! `--interval`, re-resolves every rule with a container reference. When
//! anything changed it replaces the ruleset in one read-modify-write:
//! generation read, dump, re-resolve, REPLACE BEGIN carrying that
//! generation, APPEND, COMMIT; the kernel refuses the COMMIT (EAGAIN) if
//! the ruleset moved in between, and the sync starts over, so a concurrent
//! change is never overwritten. Every rule keeps its id, and so its
//! counters.
//!
//! Subscribing comes before the first sync, so no event between the two is
//! lost. When the engine goes away (restart, upgrade) the stream ends;
//! watch reconnects with a backoff of 1 s doubling to 30 s and syncs
//! again. While the engine is unreachable the rules stay as they are.

use crate::docker::client::{Client, DockerError};
use crate::docker::model::Container;
use crate::docker::resolve::{self, Change, Lookup};
use crate::nl::rule::RuleEntry;
use crate::rules::Rule;
use super::rules::{dump_rules, replace_rules, ReplaceError};
use super::stats::stats;
use crate::error::{fail, Exit, Fail};
use crate::signals::STOP;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The kernel's side of a sync: netlink in the tool, a fake in tests.
pub trait Kernel {
    /// `STATS_GENERATION`: bumped by every ruleset change.
    fn generation(&mut self) -> Result<u32, Fail>;
    fn rules(&mut self) -> Result<Vec<Rule>, Fail>;
    /// Replaces the ruleset unless its generation is no longer `generation`.
    fn replace(&mut self, generation: u32, rules: &[Rule]) -> Result<(), ReplaceError>;
}

/// The engine's side: what a container name or id is now.
pub trait Engine {
    fn inspect(&self, name: &str) -> Result<Option<Container>, DockerError>;
}

impl Engine for Client {
    fn inspect(&self, name: &str) -> Result<Option<Container>, DockerError> {
        Client::inspect(self, name)
    }
}

#[derive(Debug)]
pub enum SyncError {
    /// The engine could not be asked: nothing was changed.
    Docker(DockerError),
    Kernel(Fail),
}

impl From<Fail> for SyncError {
    fn from(f: Fail) -> SyncError {
        SyncError::Kernel(f)
    }
}

impl From<DockerError> for SyncError {
    fn from(e: DockerError) -> SyncError {
        SyncError::Docker(e)
    }
}

/// What one sync found and did.
#[derive(Debug)]
pub struct Synced {
    /// The generation the (last) dump was read at.
    pub generation: u32,
    /// Rules naming containers.
    pub referencing: usize,
    /// Applied changes (empty: the kernel's rules were already right).
    pub changes: Vec<Change>,
    /// Stale replaces retried.
    pub retries: usize,
}

/// Read-modify-write attempts before giving up on a ruleset that keeps
/// changing under us.
pub const MAX_ATTEMPTS: usize = 20;

/// One sync: re-resolves every rule naming a container and, if anything
/// changed, replaces the ruleset with a generation check, retrying when
/// another writer got in first. Logs one line per changed rule.
pub fn sync(k: &mut dyn Kernel, e: &dyn Engine, log: &mut dyn FnMut(&str)) -> Result<Synced, SyncError> {
    for attempt in 0..MAX_ATTEMPTS {
        let generation = k.generation()?;
        let rules = k.rules()?;
        let referencing = rules.iter().filter(|r| resolve::has_refs(r)).count();
        let mut look = Lookup::new();
        for r in &rules {
            for n in resolve::names(r) {
                if let std::collections::hash_map::Entry::Vacant(v) = look.entry(n) {
                    let c = e.inspect(v.key())?;
                    v.insert(c);
                }
            }
        }
        let (set, changes) = resolve::plan(&rules, &look);
        if changes.is_empty() {
            return Ok(Synced { generation, referencing, changes, retries: attempt });
        }
        match k.replace(generation, &set) {
            Ok(()) => {
                for c in &changes {
                    log(&c.to_string());
                }
                return Ok(Synced { generation, referencing, changes, retries: attempt });
            }
            Err(ReplaceError::Stale(_)) => log("the ruleset changed meanwhile; resolving again"),
            Err(ReplaceError::Fail(f)) => return Err(SyncError::Kernel(f)),
        }
    }
    Err(SyncError::Kernel(fail(Exit::Kernel, format!("watch: the ruleset kept changing during {MAX_ATTEMPTS} attempts"))))
}

/// The kernel over netlink.
struct NlKernel {
    conn: crate::nl::conn::Conn,
}

impl Kernel for NlKernel {
    fn generation(&mut self) -> Result<u32, Fail> {
        let s = stats(&self.conn)?;
        s.iter()
            .find(|(k, _)| k == "generation")
            .map(|&(_, v)| v as u32)
            .ok_or_else(|| fail(Exit::Io, "watch: the statistics have no generation"))
    }

    fn rules(&mut self) -> Result<Vec<Rule>, Fail> {
        Ok(dump_rules(&self.conn, "watch: read rules")?.into_iter().map(|e: RuleEntry| e.rule).collect())
    }

    fn replace(&mut self, generation: u32, rules: &[Rule]) -> Result<(), ReplaceError> {
        replace_rules(&self.conn, rules.iter(), Some(generation), &|i| format!("rule {}", rules[i].id))
    }
}

fn log_line(m: &str) {
    eprintln!("dockfwctl watch: {m}");
}

/// Sleeps `d`, waking early when `stop()` says so.
fn pause(d: Duration, stop: &dyn Fn() -> bool) {
    let end = Instant::now() + d;
    while !stop() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())));
    }
}

fn summary(s: &Synced) -> String {
    format!(
        "synced: {} rule(s) name containers, {} changed{}",
        s.referencing,
        s.changes.len(),
        if s.retries > 0 { format!(" (after {} concurrent change(s))", s.retries) } else { String::new() }
    )
}

/// Events that arrive within this time of each other are handled by one
/// sync (`docker stop` alone sends kill, die, network disconnect, stop).
const SETTLE: Duration = Duration::from_millis(150);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A sync inside the event loop; `Ok(false)`: the engine is gone,
/// reconnect.
fn step(
    k: &mut dyn Kernel,
    client: &Client,
    seen: &mut Option<u32>,
    last: &mut Instant,
    log: &mut dyn FnMut(&str),
) -> Result<bool, Fail> {
    *last = Instant::now();
    match sync(k, client, log) {
        Ok(s) => {
            *seen = if s.changes.is_empty() { Some(s.generation) } else { None };
            Ok(true)
        }
        Err(SyncError::Docker(e)) => {
            log(&format!("{e}; reconnecting"));
            Ok(false)
        }
        Err(SyncError::Kernel(f)) => Err(f),
    }
}

pub fn run(once: bool, interval: Duration, verbose: bool) -> Result<(), Fail> {
    let what = "watch";
    let client = Client::from_env().map_err(|e| fail(Exit::Docker, format!("{what}: {e}")))?;
    let mut k = NlKernel { conn: super::open(what)? };
    let mut log = |m: &str| log_line(m);
    if once {
        return match sync(&mut k, &client, &mut log) {
            Ok(s) => {
                log_line(&summary(&s));
                Ok(())
            }
            Err(SyncError::Docker(e)) => Err(fail(Exit::Docker, format!("{what}: {e}"))),
            Err(SyncError::Kernel(f)) => Err(f),
        };
    }
    crate::signals::install_stop_handlers();
    follow(&mut k, &client, interval, verbose, &|| STOP.load(Ordering::SeqCst), &mut log)?;
    log_line("stopped");
    Ok(())
}

/// The service loop: subscribe, sync, then sync after events, after
/// another writer's change and every `interval`; reconnect when the
/// stream ends. Returns when `stop()` (SIGINT/SIGTERM), or with the
/// kernel's error.
pub fn follow(
    k: &mut dyn Kernel,
    client: &Client,
    interval: Duration,
    verbose: bool,
    stop: &dyn Fn() -> bool,
    log: &mut dyn FnMut(&str),
) -> Result<(), Fail> {
    let mut backoff = Duration::from_secs(1);
    'connect: while !stop() {
        let mut stream = match client.events() {
            Ok(s) => s,
            Err(e) => {
                log(&format!("{e}; retrying in {} s", backoff.as_secs()));
                pause(backoff, stop);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        log(&format!("following the Docker engine's events at {}", client.socket().display()));
        // Subscribed first, then synced: nothing in between is missed.
        // `seen_gen`: the generation our last sync left unchanged; `None`
        // after our own replace (whose new generation we did not read):
        // check again at the next quiet second.
        let mut last_sync = Instant::now();
        let mut seen_gen: Option<u32> = match sync(k, client, log) {
            Ok(s) => {
                log(&summary(&s));
                s.changes.is_empty().then_some(s.generation)
            }
            Err(SyncError::Docker(e)) => {
                log(&format!("{e}; retrying in {} s", backoff.as_secs()));
                pause(backoff, stop);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
            Err(SyncError::Kernel(f)) => return Err(f),
        };
        backoff = Duration::from_secs(1);
        while !stop() {
            match stream.next(Duration::from_secs(1)) {
                Ok(Some(ev)) => {
                    let mut evs = vec![ev];
                    let settle_end = Instant::now() + SETTLE;
                    let mut broken = None;
                    while Instant::now() < settle_end {
                        match stream.next(settle_end.saturating_duration_since(Instant::now())) {
                            Ok(Some(ev)) => evs.push(ev),
                            Ok(None) => break,
                            Err(e) => {
                                broken = Some(e);
                                break;
                            }
                        }
                    }
                    if verbose {
                        for ev in &evs {
                            log(&format!("event: {} {} {}", ev.kind, ev.action, ev.name.as_deref().unwrap_or(&ev.actor)));
                        }
                    }
                    if !step(k, client, &mut seen_gen, &mut last_sync, log)? {
                        continue 'connect;
                    }
                    if let Some(e) = broken {
                        log(&format!("{e}; reconnecting"));
                        pause(backoff, stop);
                        continue 'connect;
                    }
                }
                Ok(None) => {
                    // A quiet second: did another writer change the
                    // ruleset (a rule added with a container that has
                    // since moved), or is the periodic check due?
                    let g = k.generation()?;
                    if (seen_gen != Some(g) || last_sync.elapsed() >= interval)
                        && !step(k, client, &mut seen_gen, &mut last_sync, log)?
                    {
                        continue 'connect;
                    }
                }
                Err(e) => {
                    log(&format!("{e}; reconnecting"));
                    pause(backoff, stop);
                    continue 'connect;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_addr;
    use crate::docker::resolve::tests::{ctr, net};
    use crate::rule_syntax::parse_rule;
    use std::cell::RefCell;
    use std::collections::HashMap;

    type Interference = Box<dyn FnMut(&mut Vec<Rule>)>;

    /// A kernel holding a ruleset and a generation; `interfere` runs at the
    /// first replace, like another dockfwctl writing between our dump and
    /// our commit.
    struct FakeKernel {
        rules: Vec<Rule>,
        generation: u32,
        replaces: usize,
        interfere: Option<Interference>,
    }

    impl Kernel for FakeKernel {
        fn generation(&mut self) -> Result<u32, Fail> {
            Ok(self.generation)
        }
        fn rules(&mut self) -> Result<Vec<Rule>, Fail> {
            Ok(self.rules.clone())
        }
        fn replace(&mut self, generation: u32, rules: &[Rule]) -> Result<(), ReplaceError> {
            if let Some(mut f) = self.interfere.take() {
                f(&mut self.rules);
                self.generation += 1;
            }
            if generation != self.generation {
                return Err(ReplaceError::Stale(fail(Exit::Kernel, "ruleset changed since BEGIN")));
            }
            for r in rules {
                r.validate().map_err(|m| ReplaceError::Fail(fail(Exit::Kernel, m)))?;
            }
            self.rules = rules.to_vec();
            self.generation += 1;
            self.replaces += 1;
            Ok(())
        }
    }

    struct FakeEngine {
        containers: HashMap<String, Container>,
        down: bool,
        asked: RefCell<Vec<String>>,
    }

    impl Engine for FakeEngine {
        fn inspect(&self, name: &str) -> Result<Option<Container>, DockerError> {
            self.asked.borrow_mut().push(name.to_string());
            if self.down {
                return Err(DockerError::Unreachable { socket: "/x".into(), why: "Connection refused".into() });
            }
            Ok(self.containers.get(name).cloned())
        }
    }

    fn rule(id: u32, s: &str) -> Rule {
        let mut r = parse_rule(s.split_whitespace()).unwrap();
        r.id = id;
        r
    }

    fn engine(cs: Vec<Container>) -> FakeEngine {
        FakeEngine { containers: cs.into_iter().map(|c| (c.name.clone(), c)).collect(), down: false, asked: RefCell::new(vec![]) }
    }

    fn web(ip: &str) -> Container {
        ctr("web", true, vec![net("bridge", Some(ip), None)])
    }

    #[test]
    fn sync_rewrites_only_what_moved_and_keeps_ids() {
        let mut k = FakeKernel {
            rules: vec![rule(5, "forward tcp orig-dport 80 to-container web accept"), rule(6, "forward tcp orig-dport 80 drop")],
            generation: 7,
            replaces: 0,
            interfere: None,
        };
        // As `add` left it: resolved to .2 (done here by a first sync).
        let mut logs = Vec::new();
        let s = sync(&mut k, &engine(vec![web("172.17.0.2")]), &mut |m| logs.push(m.to_string())).unwrap();
        assert_eq!((s.referencing, s.changes.len(), k.replaces), (1, 1, 1));
        // Nothing moved: no replace.
        let e = engine(vec![web("172.17.0.2")]);
        let s = sync(&mut k, &e, &mut |m| logs.push(m.to_string())).unwrap();
        assert!(s.changes.is_empty());
        assert_eq!(k.replaces, 1);
        assert_eq!(e.asked.borrow().as_slice(), ["web"]);
        // web moved to .4.
        logs.clear();
        sync(&mut k, &engine(vec![web("172.17.0.4")]), &mut |m| logs.push(m.to_string())).unwrap();
        assert_eq!(k.rules.iter().map(|r| r.id).collect::<Vec<_>>(), [5, 6]);
        assert_eq!(k.rules[0].daddr.unwrap().addr, parse_addr("172.17.0.4").unwrap());
        assert_eq!(
            logs,
            ["rule 5 (forward tcp to-container web orig-dport 80 accept): to-container web=172.17.0.2 -> to-container web=172.17.0.4"]
        );
        // web removed: inactive, not left on .4.
        sync(&mut k, &engine(vec![]), &mut |_| {}).unwrap();
        assert!(k.rules[0].inactive && k.rules[0].daddr.is_none());
    }

    #[test]
    fn a_concurrent_add_is_not_lost() {
        let mut k = FakeKernel {
            rules: vec![rule(1, "to-container web accept")],
            generation: 1,
            replaces: 0,
            interfere: Some(Box::new(|rules: &mut Vec<Rule>| rules.push(rule(2, "udp dport 53 drop")))),
        };
        let mut logs = Vec::new();
        let s = sync(&mut k, &engine(vec![web("172.17.0.2")]), &mut |m| logs.push(m.to_string())).unwrap();
        assert_eq!(s.retries, 1);
        assert_eq!(k.rules.len(), 2, "the rule added between dump and commit survived");
        assert_eq!(k.rules[0].daddr.unwrap().addr, parse_addr("172.17.0.2").unwrap());
        assert_eq!(logs[0], "the ruleset changed meanwhile; resolving again");
        assert_eq!(logs.len(), 2);
    }

    #[test]
    fn engine_down_changes_nothing() {
        let mut k = FakeKernel { rules: vec![rule(1, "to-container web accept")], generation: 1, replaces: 0, interfere: None };
        let mut e = engine(vec![]);
        e.down = true;
        assert!(matches!(sync(&mut k, &e, &mut |_| {}), Err(SyncError::Docker(_))));
        assert_eq!(k.replaces, 0);
        e.asked.borrow_mut().clear();
        // No rule names a container: the engine is not even asked.
        let mut k = FakeKernel { rules: vec![rule(1, "udp accept")], generation: 1, replaces: 0, interfere: None };
        let s = sync(&mut k, &e, &mut |_| {}).unwrap();
        assert_eq!((s.referencing, k.replaces), (0, 0));
        assert!(e.asked.borrow().is_empty());
    }

    /// The whole loop's parts over real HTTP: an event from the fake
    /// engine's chunked stream, then a sync against the engine's new state.
    #[test]
    fn event_then_sync_over_http() {
        use crate::docker::client::tests::{container_event, inspect_json, FakeEngine};
        let fake = FakeEngine::start();
        fake.set(vec![inspect_json("web", true, std::process::id(), &[("bridge", "172.17.0.2", "")])]);
        let client = Client::new(&fake.socket);
        let mut k = FakeKernel {
            rules: vec![rule(1, "forward tcp orig-dport 80 to-container web accept"), rule(2, "forward tcp orig-dport 80 drop")],
            generation: 3,
            replaces: 0,
            interfere: None,
        };
        let mut stream = client.events().unwrap();
        sync(&mut k, &client, &mut |_| {}).unwrap();
        assert_eq!(k.rules[0].daddr.unwrap().addr, parse_addr("172.17.0.2").unwrap());
        // docker rm -f web; another container takes .2; web comes back at .3.
        fake.set(vec![
            inspect_json("squatter", true, std::process::id(), &[("bridge", "172.17.0.2", "")]),
            inspect_json("web", true, std::process::id(), &[("bridge", "172.17.0.3", "")]),
        ]);
        fake.emit(container_event("destroy", "web"));
        fake.emit(container_event("start", "web"));
        let ev = stream.next(Duration::from_secs(5)).unwrap().expect("an event");
        assert_eq!((ev.action.as_str(), ev.name.as_deref()), ("destroy", Some("web")));
        let mut logs = Vec::new();
        let s = sync(&mut k, &client, &mut |m| logs.push(m.to_string())).unwrap();
        assert_eq!(s.changes.len(), 1);
        assert_eq!(k.rules[0].daddr.unwrap().addr, parse_addr("172.17.0.3").unwrap());
        assert_eq!(k.rules[0].id, 1);
        assert!(logs[0].ends_with("to-container web=172.17.0.2 -> to-container web=172.17.0.3"), "{logs:?}");
        // docker stop web.
        fake.set(vec![inspect_json("web", false, 0, &[("bridge", "", "")])]);
        sync(&mut k, &client, &mut |_| {}).unwrap();
        assert!(k.rules[0].inactive && k.rules[0].daddr.is_none());
    }

    /// The service loop against the fake engine: an event moves the rule,
    /// the engine "restarts" (its stream ends), watch reconnects and its
    /// sync after reconnecting catches what changed while it was away.
    #[test]
    fn follow_reconnects_and_resyncs() {
        use crate::docker::client::tests::{container_event, inspect_json, FakeEngine};
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        let fake = Arc::new(FakeEngine::start());
        let me = std::process::id();
        fake.set(vec![inspect_json("web", true, me, &[("bridge", "172.17.0.2", "")])]);
        let client = Client::new(&fake.socket);
        let mut k = FakeKernel { rules: vec![rule(1, "to-container web accept")], generation: 1, replaces: 0, interfere: None };
        let done = Arc::new(AtomicBool::new(false));
        let (f, d) = (fake.clone(), done.clone());
        let wait_streams = move |f: &FakeEngine, n: usize| {
            let t = Instant::now();
            while f.streams() != n && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(f.streams(), n);
        };
        let driver = std::thread::spawn(move || {
            wait_streams(&f, 1);
            std::thread::sleep(Duration::from_millis(300));
            f.set(vec![inspect_json("web", true, me, &[("bridge", "172.17.0.3", "")])]);
            f.emit(container_event("start", "web"));
            std::thread::sleep(Duration::from_millis(800));
            // The engine goes away; web moves meanwhile, with no event.
            f.set(vec![inspect_json("web", true, me, &[("bridge", "172.17.0.4", "")])]);
            f.close_streams();
            wait_streams(&f, 1);
            std::thread::sleep(Duration::from_millis(500));
            d.store(true, Ordering::SeqCst);
        });
        let mut logs: Vec<String> = Vec::new();
        follow(&mut k, &client, Duration::from_secs(60), true, &|| done.load(Ordering::SeqCst), &mut |m| logs.push(m.to_string()))
            .unwrap();
        driver.join().unwrap();
        let text = logs.join("\n");
        assert_eq!(k.rules[0].daddr.unwrap().addr, parse_addr("172.17.0.4").unwrap(), "{text}");
        assert_eq!(logs.iter().filter(|l| l.starts_with("following the Docker engine's events at ")).count(), 2, "{text}");
        for want in [
            "rule 1 (to-container web accept): to-container web=? -> to-container web=172.17.0.2",
            "event: container start web",
            "rule 1 (to-container web accept): to-container web=172.17.0.2 -> to-container web=172.17.0.3",
            "the event stream ended (engine stopped?); reconnecting",
            "rule 1 (to-container web accept): to-container web=172.17.0.3 -> to-container web=172.17.0.4",
        ] {
            assert!(logs.iter().any(|l| l.contains(want)), "missing {want:?} in:\n{text}");
        }
    }
}
