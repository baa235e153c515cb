// SPDX-License-Identifier: GPL-2.0
//! dfwprobe: the traffic tool of the dockfw QEMU scenarios. Busybox `nc`
//! cannot tell a refused connection from a filtered one, so the scenarios use
//! this instead: every client prints exactly one outcome line
//! (`OUTCOME ok <reply>`, `OUTCOME refused`, `OUTCOME timeout`, ...) and exits
//! with a matching code. Also a TCP server that names itself in its reply, a
//! UDP sender/counter, and a userland proxy like docker-proxy.

mod craft;
mod fuzz;
mod load;
mod nl;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!(
        "usage:\n  dfwprobe serve PORT NAME            TCP server replying \"hello from NAME\"\n  \
         dfwprobe connect HOST PORT [MS]      TCP client, prints OUTCOME\n  \
         dfwprobe proxy PORT HOST TPORT       TCP forwarder (docker-proxy)\n  \
         dfwprobe udp-send HOST PORT COUNT [SIZE]\n  \
         dfwprobe udp-count PORT MS           count datagrams for MS milliseconds\n  \
         dfwprobe nl CMD [TYPE:ID=VALUE...]   raw dockfw genetlink request (see src/nl.rs)\n  \
         dfwprobe as-nobody PROG [ARGS...]    run PROG as uid 65534 without capabilities\n  \
         dfwprobe fuzz SEED COUNT [FAMILY]    hostile netlink requests (see src/fuzz.rs); fuzz family\n  \
         dfwprobe craft IFNAME DSTMAC DST4    hostile packet corpus (see src/craft.rs); craft bulk-serve|bulk-send"
    );
    std::process::exit(64)
}

fn addr(host: &str, port: &str) -> SocketAddr {
    let p: u16 = port.parse().unwrap_or_else(|_| usage());
    let ip: std::net::IpAddr = host.parse().unwrap_or_else(|_| usage());
    SocketAddr::new(ip, p)
}

fn listen(port: &str) -> TcpListener {
    let a = format!("[::]:{port}");
    TcpListener::bind(&a)
        .or_else(|_| TcpListener::bind(format!("0.0.0.0:{port}")))
        .unwrap_or_else(|e| {
            eprintln!("dfwprobe: cannot listen on {port}: {e}");
            std::process::exit(70)
        })
}

fn serve(port: &str, name: &str) {
    let l = listen(port);
    for s in l.incoming() {
        if let Ok(mut s) = s {
            let peer = s.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            let _ = writeln!(s, "hello from {name} to {peer}");
        }
    }
}

fn connect(host: &str, port: &str, ms: u64) -> i32 {
    let a = addr(host, port);
    match TcpStream::connect_timeout(&a, Duration::from_millis(ms)) {
        Ok(mut s) => {
            let _ = s.set_read_timeout(Some(Duration::from_millis(ms)));
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf).trim().to_string();
            if text.is_empty() {
                println!("OUTCOME empty");
                4
            } else {
                println!("OUTCOME ok {text}");
                0
            }
        }
        Err(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                println!("OUTCOME refused");
                1
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                println!("OUTCOME timeout");
                2
            }
            _ => {
                println!("OUTCOME error {e}");
                3
            }
        },
    }
}

fn proxy(port: &str, host: &str, tport: &str) {
    let target = addr(host, tport);
    let l = listen(port);
    for s in l.incoming() {
        let Ok(client) = s else { continue };
        std::thread::spawn(move || {
            let Ok(server) = TcpStream::connect_timeout(&target, Duration::from_secs(3)) else {
                return;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let t = std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(std::net::Shutdown::Write);
            });
            let (mut s3, mut c3) = (server, client);
            let _ = std::io::copy(&mut s3, &mut c3);
            let _ = c3.shutdown(std::net::Shutdown::Write);
            let _ = t.join();
        });
    }
}

fn udp_send(host: &str, port: &str, count: &str, size: Option<&String>) {
    let a = addr(host, port);
    let n: u64 = count.parse().unwrap_or_else(|_| usage());
    let size: usize = size.map(|s| s.parse().unwrap_or_else(|_| usage())).unwrap_or(64);
    let bind = if a.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let s = UdpSocket::bind(bind).expect("udp bind");
    let buf = vec![0x5au8; size];
    let mut sent = 0u64;
    for _ in 0..n {
        if s.send_to(&buf, a).is_ok() {
            sent += 1;
        }
    }
    println!("SENT {sent}");
}

fn udp_count(port: &str, ms: &str) {
    let ms: u64 = ms.parse().unwrap_or_else(|_| usage());
    let s = UdpSocket::bind(format!("[::]:{port}"))
        .or_else(|_| UdpSocket::bind(format!("0.0.0.0:{port}")))
        .expect("udp bind");
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let end = Instant::now() + Duration::from_millis(ms);
    let mut n = 0u64;
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if s.recv_from(&mut buf).is_ok() {
            n += 1;
        }
    }
    println!("RECEIVED {n}");
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize| a.get(i).map(String::as_str).unwrap_or_else(|| usage());
    match a.get(1).map(String::as_str) {
        Some("serve") => serve(arg(2), arg(3)),
        Some("connect") => {
            let ms = a.get(4).and_then(|m| m.parse().ok()).unwrap_or(2000);
            std::process::exit(connect(arg(2), arg(3), ms))
        }
        Some("proxy") => proxy(arg(2), arg(3), arg(4)),
        Some("udp-send") => udp_send(arg(2), arg(3), arg(4), a.get(5)),
        Some("udp-count") => udp_count(arg(2), arg(3)),
        Some("nl") => std::process::exit(nl::run(&a[2..])),
        Some("fuzz") => std::process::exit(fuzz::run(&a[2..])),
        Some("craft") => std::process::exit(craft::run(&a[2..])),
        Some("udp-flood") if a.len() > 4 => std::process::exit(load::udp_flood(&a[2..])),
        Some("udp-rx") if a.len() > 4 => std::process::exit(load::udp_rx(&a[2..])),
        Some("rr-serve") if a.len() > 2 => std::process::exit(load::rr_serve(&a[2..])),
        Some("tcp-rr") if a.len() > 5 => std::process::exit(load::tcp_rr(&a[2..])),
        Some("tcp-crr") if a.len() > 5 => std::process::exit(load::tcp_crr(&a[2..])),
        Some("time-cmd") if a.len() > 3 => std::process::exit(load::time_cmd(&a[2..])),
        Some("as-nobody") if a.len() > 2 => std::process::exit(nl::as_nobody(&a[2..])),
        _ => usage(),
    }
}
