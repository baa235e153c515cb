// SPDX-License-Identifier: GPL-2.0
//! Load generators of the benchmarks (`make bench`, tests/bench/): a UDP
//! flooder and a windowed UDP counter, a TCP request/response server, and
//! two TCP transaction clients (ping-pong on one connection; connect,
//! request, reply, close). Every client is bounded in time (and the
//! flooder in count); each prints one line of numbers for the host to parse:
//!
//!   SENT n                      udp-flood
//!   RATES r1 r2 ... (per s)     udp-rx, tcp-rr, tcp-crr: one rate per window
//!
//! Measurement: a client waits for the first packet/transaction, lets a
//! warm-up pass, then counts events in `windows` consecutive fixed windows.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

fn num<T: std::str::FromStr>(a: &[String], i: usize, what: &str) -> T {
    a.get(i).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        eprintln!("dfwprobe: {what} expected (argument {i})");
        std::process::exit(64)
    })
}

fn sockaddr(host: &str, port: u16) -> SocketAddr {
    SocketAddr::new(host.parse().unwrap_or_else(|_| {
        eprintln!("dfwprobe: bad address {host}");
        std::process::exit(64)
    }), port)
}

/// Window plan: (warm-up, window length, window count).
struct Plan {
    warm: Duration,
    win: Duration,
    windows: usize,
}

impl Plan {
    fn from(a: &[String], i: usize) -> Plan {
        let windows: usize = num(a, i, "WINDOWS");
        let win: u64 = num(a, i + 1, "WIN_MS");
        let warm: u64 = a.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(200);
        Plan { warm: Duration::from_millis(warm), win: Duration::from_millis(win.max(1)), windows: windows.clamp(1, 1000) }
    }

    /// Counts events per window. `step` performs one event (or times out
    /// briefly) and returns how many events it saw; `start` is when the
    /// first event was seen.
    fn run(&self, start: Instant, mut step: impl FnMut() -> u64) -> Vec<f64> {
        let t0 = start + self.warm;
        while Instant::now() < t0 {
            step();
        }
        let mut out = Vec::with_capacity(self.windows);
        let mut begin = Instant::now();
        for _ in 0..self.windows {
            let end = begin + self.win;
            let mut n = 0u64;
            while Instant::now() < end {
                n += step();
            }
            let now = Instant::now();
            out.push(n as f64 / now.duration_since(begin).as_secs_f64());
            begin = now;
        }
        out
    }
}

fn print_rates(r: &[f64]) {
    let s: Vec<String> = r.iter().map(|x| format!("{x:.1}")).collect();
    println!("RATES {}", s.join(" "));
}

/// `udp-flood HOST PORT MS [SIZE]`: sends SIZE-byte datagrams (default 64)
/// as fast as it can for MS milliseconds (at most 100 million).
pub fn udp_flood(a: &[String]) -> i32 {
    let dst = sockaddr(&a[0], num(a, 1, "PORT"));
    let ms: u64 = num(a, 2, "MS");
    let size: usize = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(64).min(65000);
    let s = UdpSocket::bind(if dst.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).expect("udp bind");
    let _ = s.connect(dst);
    let buf = vec![0x5au8; size];
    let end = Instant::now() + Duration::from_millis(ms);
    let (mut sent, mut errors) = (0u64, 0u64);
    while sent < 100_000_000 {
        // Check the clock every 64 sends only: the clock costs under TCG.
        for _ in 0..64 {
            if s.send(&buf).is_ok() {
                sent += 1;
            } else {
                errors += 1;
            }
        }
        if Instant::now() >= end {
            break;
        }
    }
    println!("SENT {sent} ERRORS {errors}");
    0
}

/// `udp-rx PORT WINDOWS WIN_MS [WARM_MS]`: counts datagrams per window,
/// starting at the first one (gives up after 10 s without any).
pub fn udp_rx(a: &[String]) -> i32 {
    let port: u16 = num(a, 0, "PORT");
    let plan = Plan::from(a, 1);
    let s = UdpSocket::bind(format!("0.0.0.0:{port}")).expect("udp bind");
    let mut buf = [0u8; 2048];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    println!("READY");
    let _ = std::io::stdout().flush();
    if s.recv_from(&mut buf).is_err() {
        println!("RATES none");
        return 2;
    }
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let r = plan.run(Instant::now(), || u64::from(s.recv_from(&mut buf).is_ok()));
    print_rates(&r);
    0
}

/// `rr-serve PORT`: TCP server; each connection echoes every message it
/// reads until the peer closes (one thread per connection).
pub fn rr_serve(a: &[String]) -> i32 {
    let port: u16 = num(a, 0, "PORT");
    let l = TcpListener::bind(format!("0.0.0.0:{port}")).unwrap_or_else(|e| {
        eprintln!("dfwprobe: cannot listen on {port}: {e}");
        std::process::exit(70)
    });
    for c in l.incoming() {
        let Ok(mut c) = c else { continue };
        std::thread::spawn(move || {
            let _ = c.set_nodelay(true);
            let _ = c.set_read_timeout(Some(Duration::from_secs(30)));
            let mut buf = [0u8; 512];
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 || c.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
    0
}

const MSG: [u8; 64] = [0x42; 64];

fn transact(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    s.write_all(&MSG).is_ok() && s.read_exact(&mut buf).is_ok()
}

fn open(dst: SocketAddr) -> Option<TcpStream> {
    let s = TcpStream::connect_timeout(&dst, Duration::from_secs(2)).ok()?;
    let _ = s.set_nodelay(true);
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    Some(s)
}

/// `tcp-rr HOST PORT WINDOWS WIN_MS [WARM_MS]`: one connection, 64-byte
/// request, 64-byte reply, repeated; transactions per second per window.
pub fn tcp_rr(a: &[String]) -> i32 {
    let dst = sockaddr(&a[0], num(a, 1, "PORT"));
    let plan = Plan::from(a, 2);
    let Some(mut s) = open(dst) else {
        println!("RATES none");
        return 2;
    };
    let mut broken = false;
    let r = plan.run(Instant::now(), || {
        if broken || !transact(&mut s) {
            broken = true;
            std::thread::sleep(Duration::from_millis(1));
            return 0;
        }
        1
    });
    print_rates(&r);
    i32::from(broken) * 3
}

/// `tcp-crr HOST PORT WINDOWS WIN_MS [WARM_MS]`: connect, 64-byte request,
/// 64-byte reply, close (with RST, so that neither TIME_WAIT nor conntrack
/// entries pile up); transactions per second per window.
pub fn tcp_crr(a: &[String]) -> i32 {
    let dst = sockaddr(&a[0], num(a, 1, "PORT"));
    let plan = Plan::from(a, 2);
    let mut failures = 0u64;
    let r = plan.run(Instant::now(), || match open(dst) {
        Some(mut s) => {
            let ok = transact(&mut s);
            let _ = socket_linger0(&s);
            drop(s);
            if !ok {
                failures += 1;
            }
            u64::from(ok)
        }
        None => {
            failures += 1;
            std::thread::sleep(Duration::from_millis(1));
            0
        }
    });
    print_rates(&r);
    if failures > 0 {
        eprintln!("dfwprobe: tcp-crr: {failures} failed transactions");
    }
    0
}

fn socket_linger0(s: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let l = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket descriptor and a correctly sized option.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            core::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// `time-cmd REPS CMD [ARGS...]`: runs CMD REPS times (output discarded)
/// and prints the wall time of each run in microseconds, and the worst
/// exit status: `TIMES t1 t2 ... RC n`.
pub fn time_cmd(a: &[String]) -> i32 {
    let reps: usize = num(a, 0, "REPS");
    let mut times = Vec::new();
    let mut worst = 0;
    for _ in 0..reps.clamp(1, 1000) {
        let t = Instant::now();
        let rc = std::process::Command::new(&a[1])
            .args(&a[2..])
            .stdout(std::process::Stdio::null())
            .status()
            .map(|s| s.code().unwrap_or(128))
            .unwrap_or(127);
        times.push(t.elapsed().as_micros().to_string());
        if rc != 0 {
            worst = rc;
        }
    }
    println!("TIMES {} RC {worst}", times.join(" "));
    0
}
