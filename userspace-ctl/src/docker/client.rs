// SPDX-License-Identifier: GPL-2.0
//! A small Docker Engine API client over the engine's unix socket
//! (`/var/run/docker.sock`, or `DOCKER_HOST=unix:///path`): inspect one
//! container, list the running ones, and follow the event stream. HTTP/1.1
//! is hyper's, on a current-thread tokio runtime that only runs inside
//! these (blocking) calls, so the rest of dockfwctl stays synchronous.
//! Paths carry no API version prefix: the engine then answers in its own
//! (newest) version; `model` reads only fields every engine since API 1.41
//! returns. A running container's network namespace is read from
//! `/proc/PID/ns/net`.

use super::model::{container_from_inspect, engine_from, event_from_json, ids_from_list, Container, EngineInfo, Event};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Bodies larger than this are refused (a `containers/json` of thousands
/// of containers is a few MiB).
const MAX_BODY: usize = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerError {
    /// DOCKER_HOST names something other than a unix socket.
    Config(String),
    /// No engine answers on the socket, or the connection broke.
    Unreachable { socket: String, why: String },
    /// The engine answered with an error status (`message` is its text).
    Api { what: String, status: u16, message: String },
    /// The engine's answer is not what its API documents.
    BadReply { what: String, why: String },
}

impl std::fmt::Display for DockerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DockerError::Config(m) => write!(f, "{m}"),
            DockerError::Unreachable { socket, why } => write!(f, "cannot reach the Docker engine at {socket}: {why}"),
            DockerError::Api { what, status, message } => write!(f, "{what}: the Docker engine answered {status}: {message}"),
            DockerError::BadReply { what, why } => write!(f, "{what}: unexpected answer from the Docker engine: {why}"),
        }
    }
}

/// The engine's socket: `DOCKER_HOST` if it is `unix://PATH`, an error for
/// any other scheme (dockfwctl talks to the local engine only), else the
/// default.
pub fn socket_from_env(docker_host: Option<&str>) -> Result<PathBuf, DockerError> {
    match docker_host.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(PathBuf::from(DEFAULT_SOCKET)),
        Some(h) => match h.strip_prefix("unix://") {
            Some(p) if p.starts_with('/') => Ok(PathBuf::from(p)),
            _ => Err(DockerError::Config(format!(
                "DOCKER_HOST={h}: only a local engine socket (unix:///path) is supported"
            ))),
        },
    }
}

/// The namespace inode of process `pid`, as `readlink /proc/PID/ns/net`
/// shows it (`net:[INODE]`): the `st_ino` of that file.
pub fn netns_of_pid(pid: u32) -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(format!("/proc/{pid}/ns/net"))?;
    u32::try_from(md.ino()).map_err(|_| std::io::Error::other("namespace inode above 32 bits"))
}

/// Percent-encoding of a query value (RFC 3986 unreserved kept).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The container and network events that can change a container's
/// address or namespace.
pub const WATCHED_EVENTS: &[&str] = &["start", "die", "stop", "restart", "destroy", "rename", "connect", "disconnect"];

/// `/events?filters=...` for container and network events of those kinds.
pub fn events_path() -> String {
    let f = serde_json::json!({ "type": ["container", "network"], "event": WATCHED_EVENTS });
    format!("/events?filters={}", query_escape(&f.to_string()))
}

/// A client for one engine socket. Each request opens its own connection.
pub struct Client {
    socket: PathBuf,
    rt: tokio::runtime::Runtime,
    timeout: Duration,
}

impl Client {
    /// The engine named by `DOCKER_HOST`, or the default socket.
    pub fn from_env() -> Result<Client, DockerError> {
        let host = std::env::var("DOCKER_HOST").ok();
        Ok(Client::new(socket_from_env(host.as_deref())?))
    }

    pub fn new(socket: impl AsRef<Path>) -> Client {
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().expect("tokio runtime");
        Client { socket: socket.as_ref().to_path_buf(), rt, timeout: Duration::from_secs(10) }
    }

    /// Time limit of one request (connect, headers and body).
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> DockerError {
        DockerError::Unreachable { socket: self.socket.display().to_string(), why: why.to_string() }
    }

    /// Connects and sends `GET path`; returns the status and the body
    /// still to be read. The connection is driven by a task on the
    /// runtime, which runs whenever one of our calls is blocked on it.
    async fn send(&self, path: &str) -> Result<(u16, Incoming), DockerError> {
        let stream = tokio::net::UnixStream::connect(&self.socket).await.map_err(|e| self.unreachable(io_text(&e)))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| self.unreachable(e))?;
        // The connection task ends with the response body (or on error).
        self.rt.spawn(async move {
            let _ = conn.await;
        });
        // The engine (Go's net/http) wants a Host header; any name does.
        let req = hyper::Request::get(path)
            .header(hyper::header::HOST, "docker")
            .header(hyper::header::USER_AGENT, concat!("dockfwctl/", env!("CARGO_PKG_VERSION")))
            .body(Empty::<Bytes>::new())
            .expect("request");
        let resp = sender.send_request(req).await.map_err(|e| self.unreachable(e))?;
        Ok((resp.status().as_u16(), resp.into_body()))
    }

    /// `GET path`: status and whole body, within the timeout.
    fn get(&self, path: &str) -> Result<(u16, Vec<u8>), DockerError> {
        let fut = async {
            let (status, mut body) = self.send(path).await?;
            let mut out = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| self.unreachable(e))?;
                if let Ok(d) = frame.into_data() {
                    out.extend_from_slice(&d);
                    if out.len() > MAX_BODY {
                        return Err(DockerError::BadReply { what: format!("GET {path}"), why: "body too large".into() });
                    }
                }
            }
            Ok((status, out))
        };
        match self.rt.block_on(async { tokio::time::timeout(self.timeout, fut).await }) {
            Ok(r) => r,
            Err(_) => Err(self.unreachable(format!("no answer to GET {path} within {:?}", self.timeout))),
        }
    }

    /// `GET path` expecting 200 and JSON.
    fn get_json(&self, path: &str, what: &str) -> Result<(u16, Value), DockerError> {
        let (status, body) = self.get(path)?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| {
            if status == 200 {
                DockerError::BadReply { what: what.into(), why: format!("not JSON: {e}") }
            } else {
                api_error(what, status, &body)
            }
        })?;
        Ok((status, v))
    }

    /// Inspects a container by name, id or id prefix; `None` when the
    /// engine knows no such container (404). The netns is read from
    /// `/proc/PID/ns/net` when the container runs.
    pub fn inspect(&self, name: &str) -> Result<Option<Container>, DockerError> {
        let what = format!("inspect container {name}");
        let (status, body) = self.get(&format!("/containers/{}/json", query_escape(name)))?;
        match status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(api_error(&what, status, &body)),
        }
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| DockerError::BadReply { what: what.clone(), why: format!("not JSON: {e}") })?;
        let mut c = container_from_inspect(&v).map_err(|why| DockerError::BadReply { what, why })?;
        if c.running && c.pid != 0 {
            c.netns = netns_of_pid(c.pid).ok();
        }
        Ok(Some(c))
    }

    /// The engine's product, version and firewall backend.
    pub fn engine(&self) -> Result<EngineInfo, DockerError> {
        let mut got = Vec::new();
        for (path, what) in [("/version", "read the engine's version"), ("/info", "read the engine's info")] {
            let (status, v) = self.get_json(path, what)?;
            if status != 200 {
                return Err(api_error(what, status, v.to_string().as_bytes()));
            }
            got.push(v);
        }
        engine_from(&got[0], &got[1]).map_err(|why| DockerError::BadReply { what: "read the engine's version".into(), why })
    }

    /// The running containers, inspected (so with their pid and netns).
    /// A container that goes away between the list and its inspect is
    /// left out.
    pub fn running(&self) -> Result<Vec<Container>, DockerError> {
        let what = "list containers";
        let (status, v) = self.get_json("/containers/json", what)?;
        if status != 200 {
            return Err(api_error(what, status, v.to_string().as_bytes()));
        }
        let ids = ids_from_list(&v).map_err(|why| DockerError::BadReply { what: what.into(), why })?;
        let mut out = Vec::new();
        for (id, _) in ids {
            if let Some(c) = self.inspect(&id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Subscribes to the engine's events (container and network events
    /// that can move an address, see `WATCHED_EVENTS`).
    pub fn events(&self) -> Result<EventStream<'_>, DockerError> {
        let path = events_path();
        let what = "subscribe to Docker events";
        let (status, body) = match self.rt.block_on(async { tokio::time::timeout(self.timeout, self.send(&path)).await }) {
            Ok(r) => r?,
            Err(_) => return Err(self.unreachable(format!("no answer to GET /events within {:?}", self.timeout))),
        };
        if status != 200 {
            let b = body;
            let text = self.rt.block_on(async {
                tokio::time::timeout(self.timeout, async { b.collect().await.map(|c| c.to_bytes().to_vec()).unwrap_or_default() })
                    .await
                    .unwrap_or_default()
            });
            return Err(api_error(what, status, &text));
        }
        Ok(EventStream { client: self, body, buf: Vec::new(), queue: VecDeque::new() })
    }
}

fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The engine's error body is `{"message": "..."}`.
fn api_error(what: &str, status: u16, body: &[u8]) -> DockerError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    DockerError::Api { what: what.into(), status, message }
}

/// Splits complete JSON values off the front of `buf` (the engine writes
/// one object per line, but a chunk may end anywhere in one).
pub fn take_events(buf: &mut Vec<u8>) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    let mut it = serde_json::Deserializer::from_slice(buf).into_iter::<Value>();
    let mut used = 0;
    loop {
        match it.next() {
            Some(Ok(v)) => {
                used = it.byte_offset();
                out.push(event_from_json(&v));
            }
            Some(Err(e)) if e.is_eof() => break,
            Some(Err(e)) => return Err(format!("bad event JSON: {e}")),
            None => {
                used = buf.len();
                break;
            }
        }
    }
    buf.drain(..used);
    Ok(out)
}

/// A subscription to `/events`: a chunked body that stays open, one JSON
/// object per event.
pub struct EventStream<'a> {
    client: &'a Client,
    body: Incoming,
    buf: Vec<u8>,
    queue: VecDeque<Event>,
}

impl EventStream<'_> {
    /// The next event, or `Ok(None)` if none came within `wait`. An error
    /// when the stream ends (the engine stopped) or breaks.
    pub fn next(&mut self, wait: Duration) -> Result<Option<Event>, DockerError> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let body = &mut self.body;
            let frame = self.client.rt.block_on(async { tokio::time::timeout(left, body.frame()).await });
            let unreachable = |why: String| self.client.unreachable(why);
            match frame {
                Err(_) => return Ok(None),
                Ok(None) => return Err(unreachable("the event stream ended (engine stopped?)".into())),
                Ok(Some(Err(e))) => return Err(unreachable(format!("event stream: {e}"))),
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                        if self.buf.len() > MAX_BODY {
                            return Err(unreachable("event stream: an event larger than 64 MiB".into()));
                        }
                        let evs = take_events(&mut self.buf).map_err(|e| unreachable(format!("event stream: {e}")))?;
                        self.queue.extend(evs);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::docker::model::Network;
    use crate::model::parse_addr;
    use serde_json::json;
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::sync::{mpsc, Arc, Mutex};

    /// A container as `GET /containers/{id}/json` shows it (API 1.41,
    /// trimmed to the documented fields around what we read).
    pub fn inspect_json(name: &str, running: bool, pid: u32, nets: &[(&str, &str, &str)]) -> Value {
        let id = format!("{:0<64}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>());
        let mut networks = serde_json::Map::new();
        for (n, v4, v6) in nets {
            networks.insert(
                n.to_string(),
                json!({
                    "IPAMConfig": null, "Links": null, "Aliases": null,
                    "NetworkID": format!("{:0<64}", n.len()), "EndpointID": if running { "e".repeat(64) } else { String::new() },
                    "Gateway": if running { "172.17.0.1" } else { "" }, "IPAddress": v4, "IPPrefixLen": if v4.is_empty() { 0 } else { 16 },
                    "IPv6Gateway": "", "GlobalIPv6Address": v6, "GlobalIPv6PrefixLen": if v6.is_empty() { 0 } else { 64 },
                    "MacAddress": if running { "02:42:ac:11:00:02" } else { "" }, "DriverOpts": null
                }),
            );
        }
        json!({
            "Id": id, "Created": "2026-11-21T20:00:00.000000000Z", "Path": "httpd", "Args": ["-f"],
            "State": {
                "Status": if running { "running" } else { "exited" }, "Running": running, "Paused": false,
                "Restarting": false, "OOMKilled": false, "Dead": false, "Pid": pid, "ExitCode": 0, "Error": "",
                "StartedAt": "2026-11-21T20:00:01Z", "FinishedAt": "0001-01-01T00:00:00Z"
            },
            "Image": "sha256:".to_string() + &"b".repeat(64), "Name": format!("/{name}"), "RestartCount": 0,
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {
                "Bridge": "", "SandboxID": "s".repeat(64), "HairpinMode": false, "Ports": {},
                "SandboxKey": if running { "/var/run/docker/netns/0123456789ab" } else { "" },
                "IPAddress": nets.first().map_or("", |n| n.1), "IPPrefixLen": 16, "Gateway": "",
                "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "",
                "Networks": networks
            }
        })
    }

    /// `GET /containers/json`'s entry for an inspected container.
    fn list_entry(c: &Value) -> Value {
        json!({
            "Id": c["Id"], "Names": [c["Name"]], "Image": "busybox", "ImageID": c["Image"], "Command": "httpd -f",
            "Created": 1_700_000_000, "Ports": [], "Labels": {}, "State": c["State"]["Status"], "Status": "Up 2 minutes",
            "HostConfig": {"NetworkMode": "default"}, "NetworkSettings": {"Networks": c["NetworkSettings"]["Networks"]},
            "Mounts": []
        })
    }

    #[derive(Default)]
    pub struct FakeState {
        /// Inspect bodies.
        pub containers: Vec<Value>,
        /// Request lines received.
        pub requests: Vec<String>,
        streams: Vec<mpsc::Sender<Option<String>>>,
    }

    /// A fake Docker engine on a unix socket in a temporary directory,
    /// speaking HTTP/1.1: JSON bodies with Content-Length, and `/events`
    /// as a chunked body that stays open, each event split over two
    /// chunks (as a proxy or a busy engine may do).
    pub struct FakeEngine {
        _dir: tempfile::TempDir,
        pub socket: PathBuf,
        pub state: Arc<Mutex<FakeState>>,
    }

    impl FakeEngine {
        pub fn start() -> FakeEngine {
            let dir = tempfile::tempdir().unwrap();
            let socket = dir.path().join("docker.sock");
            let listener = UnixListener::bind(&socket).unwrap();
            let state = Arc::new(Mutex::new(FakeState::default()));
            let st = state.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { break };
                    let st = st.clone();
                    std::thread::spawn(move || serve(conn, st));
                }
            });
            FakeEngine { _dir: dir, socket, state }
        }

        pub fn set(&self, containers: Vec<Value>) {
            self.state.lock().unwrap().containers = containers;
        }

        /// Sends an event to every open `/events` stream.
        pub fn emit(&self, ev: Value) {
            let text = ev.to_string() + "\n";
            self.state.lock().unwrap().streams.retain(|s| s.send(Some(text.clone())).is_ok());
        }

        /// Ends every open stream (the engine stopping).
        pub fn close_streams(&self) {
            for s in self.state.lock().unwrap().streams.drain(..) {
                let _ = s.send(None);
            }
        }

        pub fn streams(&self) -> usize {
            self.state.lock().unwrap().streams.len()
        }
    }

    pub fn container_event(action: &str, name: &str) -> Value {
        let id = format!("{:0<64}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>());
        json!({
            "status": action, "id": id, "from": "busybox", "Type": "container", "Action": action,
            "Actor": {"ID": id, "Attributes": {"image": "busybox", "name": name}},
            "scope": "local", "time": 1_700_000_000, "timeNano": 1_700_000_000_000_000_000u64
        })
    }

    fn respond(conn: &mut UnixStream, status: &str, body: &Value) {
        let b = body.to_string();
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        );
    }

    fn serve(conn: UnixStream, st: Arc<Mutex<FakeState>>) {
        let mut r = BufReader::new(conn.try_clone().unwrap());
        let mut conn = conn;
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut host = false;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            host |= h.to_ascii_lowercase().starts_with("host:");
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        st.lock().unwrap().requests.push(line.trim().to_string());
        if !host {
            return respond(&mut conn, "400 Bad Request", &json!({"message": "missing Host header"}));
        }
        if path == "/containers/json" {
            let s = st.lock().unwrap();
            let list: Vec<Value> = s.containers.iter().filter(|c| c["State"]["Running"] == true).map(list_entry).collect();
            drop(s);
            return respond(&mut conn, "200 OK", &Value::Array(list));
        }
        if let Some(rest) = path.strip_prefix("/containers/").and_then(|p| p.strip_suffix("/json")) {
            let s = st.lock().unwrap();
            let found = s
                .containers
                .iter()
                .find(|c| c["Name"].as_str() == Some(&format!("/{rest}")) || c["Id"].as_str().is_some_and(|id| id.starts_with(rest)))
                .cloned();
            drop(s);
            return match found {
                Some(c) => respond(&mut conn, "200 OK", &c),
                None => respond(&mut conn, "404 Not Found", &json!({"message": format!("No such container: {rest}")})),
            };
        }
        if path.starts_with("/events?filters=") {
            let (tx, rx) = mpsc::channel();
            st.lock().unwrap().streams.push(tx);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            let _ = conn.flush();
            while let Ok(Some(text)) = rx.recv() {
                let (a, b) = text.split_at(text.len() / 2);
                for part in [a, b] {
                    if write!(conn, "{:x}\r\n{part}\r\n", part.len()).and_then(|_| conn.flush()).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            let _ = write!(conn, "0\r\n\r\n");
            return;
        }
        respond(&mut conn, "404 Not Found", &json!({"message": "page not found"}))
    }

    pub fn own_netns() -> u32 {
        netns_of_pid(std::process::id()).unwrap()
    }

    #[test]
    fn inspect_over_http() {
        let fake = FakeEngine::start();
        let me = std::process::id();
        fake.set(vec![
            inspect_json("web", true, me, &[("bridge", "172.17.0.2", "fd00::242:ac11:2")]),
            inspect_json("old", false, 0, &[("bridge", "", "")]),
        ]);
        let c = Client::new(&fake.socket);
        let web = c.inspect("web").unwrap().unwrap();
        assert_eq!(web.name, "web");
        assert!(web.running);
        assert_eq!(web.pid, me);
        assert_eq!(web.netns, Some(own_netns()));
        assert_eq!(web.networks, vec![Network { name: "bridge".into(), ipv4: parse_addr("172.17.0.2"), ipv6: parse_addr("fd00::242:ac11:2") }]);
        // By id prefix, as `docker` accepts.
        assert_eq!(c.inspect(&web.id[..12]).unwrap().unwrap().name, "web");
        let old = c.inspect("old").unwrap().unwrap();
        assert!(!old.running && old.netns.is_none() && old.networks[0].ipv4.is_none());
        assert_eq!(c.inspect("ghost").unwrap(), None);
        let reqs = fake.state.lock().unwrap().requests.clone();
        assert_eq!(reqs[0], "GET /containers/web/json HTTP/1.1");
        // Every running container, inspected.
        let all = c.running().unwrap();
        assert_eq!(all.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["web"]);
        assert_eq!(all[0].netns, Some(own_netns()));
    }

    #[test]
    fn unreachable_engine_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.sock");
        let e = Client::new(&path).inspect("web").unwrap_err();
        assert_eq!(e.to_string(), format!("cannot reach the Docker engine at {}: No such file or directory", path.display()));
        // A socket nobody listens on any more.
        let l = UnixListener::bind(&path).unwrap();
        drop(l);
        let e = Client::new(&path).inspect("web").unwrap_err();
        assert!(e.to_string().contains("Connection refused"), "{e}");
    }

    #[test]
    fn events_stream_and_end() {
        let fake = FakeEngine::start();
        let c = Client::new(&fake.socket);
        let mut s = c.events().unwrap();
        // Wait until the server registered the stream.
        let t = Instant::now();
        while fake.streams() == 0 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(s.next(Duration::from_millis(50)).unwrap(), None, "nothing yet");
        fake.emit(container_event("die", "web"));
        fake.emit(container_event("start", "web"));
        fake.emit(json!({"Type": "network", "Action": "connect", "Actor": {"ID": "n", "Attributes": {"container": "abc", "name": "front", "type": "bridge"}}, "scope": "local", "time": 1, "timeNano": 1}));
        let mut got = Vec::new();
        while got.len() < 3 {
            match s.next(Duration::from_secs(5)).unwrap() {
                Some(e) => got.push((e.kind, e.action, e.name)),
                None => panic!("events did not arrive: {got:?}"),
            }
        }
        assert_eq!(
            got,
            [
                ("container".into(), "die".into(), Some("web".into())),
                ("container".into(), "start".into(), Some("web".into())),
                ("network".into(), "connect".into(), Some("front".into()))
            ]
        );
        let req = fake.state.lock().unwrap().requests.last().cloned().unwrap();
        assert!(req.starts_with("GET /events?filters=") && req.contains("%22container%22"), "{req}");
        fake.close_streams();
        let e = s.next(Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("the event stream ended"), "{e}");
    }
}
