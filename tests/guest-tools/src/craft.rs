// SPDX-License-Identifier: GPL-2.0
//! `dfwprobe craft IFNAME DSTMAC DST4`: a corpus of hostile packets, sent
//! once each from the namespace it runs in, for the robust_packets scenario.
//! Two ways out, because the kernel's own checks differ:
//!
//! - `raw4`: an IPPROTO_RAW socket with IP_HDRINCL. The header is taken as
//!   written (for an IHL below 5 the kernel does not even fix the length or
//!   checksum), so bogus headers reach this namespace's LOCAL_OUT and
//!   POST_ROUTING hooks; valid ones (fragments, options, ICMP errors, cut
//!   transport headers) go on to the next namespace's PRE_ROUTING.
//! - `pkt`: an AF_PACKET frame to DSTMAC (the gateway), for what a socket
//!   could not send: IPv6 extension-header chains and fragments, IPv4 total
//!   lengths that disagree with the frame. The receiving stack validates
//!   (ip_rcv_core, ipv6_rcv) before PRE_ROUTING: what it lets through is
//!   what a hook must survive.
//!
//! IPv4 cases come from 172.17.0.99 with a distinct IP id per case (the
//! trace prints `ipid=`); IPv6 ones from 2001:db8::<case> to 2001:db8::1
//! (fragments carry the case number as their id). Prints one line per case:
//! `CASE NAME sent` or `CASE NAME refused ERRNO`.
//!
//! `dfwprobe craft bulk-serve PORT` / `dfwprobe craft bulk-send HOST PORT BYTES`: one
//! large TCP transfer (GSO/TSO skbs through veth), `RECEIVED N` / `SENT N`.
//! `dfwprobe craft udp-sink PORT IDLE_MS`: a UDP counter that stops once the
//! senders have been quiet for IDLE_MS.

use std::io::{Read, Write};
use std::mem::size_of;

const SRC4: [u8; 4] = [172, 17, 0, 99];

fn csum(data: &[u8]) -> u16 {
    let mut s = 0u32;
    for c in data.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IPv4 header (IHL from `opts`), checksummed, followed by `payload`.
/// `tot` overrides the total length, `ihl` the header length field.
fn ipv4(id: u16, frag: u16, proto: u8, dst: [u8; 4], opts: &[u8], payload: &[u8], tot: Option<u16>, ihl: Option<u8>, ver: u8) -> Vec<u8> {
    let hl = 20 + opts.len();
    let mut h = vec![0u8; hl];
    h[0] = (ver << 4) | ihl.unwrap_or((hl / 4) as u8);
    h[2..4].copy_from_slice(&tot.unwrap_or((hl + payload.len()) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&frag.to_be_bytes());
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&SRC4);
    h[16..20].copy_from_slice(&dst);
    h[20..].copy_from_slice(opts);
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    u
}

fn v6addr(last: u16) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[14..16].copy_from_slice(&last.to_be_bytes());
    a
}

/// An IPv6 header from 2001:db8::`case` to 2001:db8::1; `plen` overrides
/// the payload length.
fn ipv6(case: u16, next: u8, payload: &[u8], plen: Option<u16>) -> Vec<u8> {
    let mut h = vec![0u8; 40];
    h[0] = 0x60;
    h[4..6].copy_from_slice(&plen.unwrap_or(payload.len() as u16).to_be_bytes());
    h[6] = next;
    h[7] = 64;
    h[8..24].copy_from_slice(&v6addr(case));
    h[24..40].copy_from_slice(&v6addr(1));
    h.extend_from_slice(payload);
    h
}

/// An 8-byte extension header (destination options, hop-by-hop: PadN).
fn ext8(next: u8) -> Vec<u8> {
    vec![next, 0, 1, 4, 0, 0, 0, 0]
}

fn frag6(next: u8, offset8: u16, more: bool, id: u32) -> Vec<u8> {
    let mut f = vec![next, 0];
    f.extend_from_slice(&((offset8 << 3) | u16::from(more)).to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f
}

enum Out {
    Raw4([u8; 4]),
    Pkt4,
    Pkt6,
}

struct Case {
    name: &'static str,
    out: Out,
    bytes: Vec<u8>,
}

fn corpus(dst4: [u8; 4]) -> Vec<Case> {
    let host = dst4;
    let dport = 7777u16;
    let mut v = Vec::new();
    let mut c = |name, out, bytes| v.push(Case { name, out, bytes });
    // IPv4 fragments: a first one (ports visible), a later one whose bytes
    // look like a UDP header to 7777, and two that overlap.
    c("v4_frag_first", Out::Raw4(host), ipv4(4101, 0x2000, 17, host, &[], &udp(4101, dport, &[0; 16]), None, None, 4));
    c("v4_frag_later", Out::Raw4(host), ipv4(4102, 3, 17, host, &[], &udp(4102, dport, &[0; 8]), None, None, 4));
    c("v4_overlap_a", Out::Raw4(host), ipv4(4103, 0x2000, 17, host, &[], &udp(4103, 9, &[0; 16]), None, None, 4));
    c("v4_overlap_b", Out::Raw4(host), ipv4(4103, 1, 17, host, &[], &udp(4103, dport, &[0; 8]), None, None, 4));
    // IP options (NOP NOP NOP EOL): the ports are after IHL*4 bytes.
    c("v4_options", Out::Raw4(host), ipv4(4104, 0, 17, host, &[1, 1, 1, 0], &udp(4104, dport, &[0; 8]), None, None, 4));
    // Transport header cut short: TCP with its ports but not its flags.
    c("v4_tcp_truncated", Out::Raw4(host), ipv4(4105, 0, 6, host, &[], &[0x10, 0x09, 0x1e, 0x61, 0, 0], None, None, 4));
    // An ICMP error (port unreachable) quoting a UDP header to port 7777.
    let inner = ipv4(4199, 0, 17, [172, 17, 0, 77], &[], &udp(5555, dport, &[]), None, None, 4);
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&inner);
    let ck = csum(&icmp);
    icmp[2..4].copy_from_slice(&ck.to_be_bytes());
    c("v4_icmp_error", Out::Raw4(host), ipv4(4106, 0, 1, host, &[], &icmp, None, None, 4));
    // Bogus headers: IHL 3 (the kernel passes it on untouched), version 6
    // in an IPv4 header.
    c("v4_bad_ihl", Out::Raw4(host), ipv4(4107, 0, 17, host, &[], &udp(4107, dport, &[0; 8]), Some(200), Some(3), 4));
    c("v4_bad_version", Out::Raw4(host), ipv4(4108, 0, 17, host, &[], &udp(4108, dport, &[0; 8]), None, None, 6));
    // Total length: larger than the frame (ip_rcv drops it), smaller (the
    // stack trims the packet to it: 2 bytes of UDP remain).
    c("v4_totlen_long", Out::Pkt4, ipv4(4109, 0, 17, host, &[], &udp(4109, dport, &[0; 8]), Some(1400), None, 4));
    c("v4_totlen_short", Out::Pkt4, ipv4(4110, 0, 17, host, &[], &udp(4110, dport, &[0; 8]), Some(22), None, 4));
    // IPv6: a hop-by-hop and a destination-options header before UDP; a
    // chain of 40 destination-options headers (dockfw walks it to the UDP
    // header, as the kernel's ipv6_skip_exthdr does); a
    // destination-options header claiming 2 KiB in a short packet.
    let mut p = ext8(60);
    p.extend_from_slice(&ext8(17));
    p.extend_from_slice(&udp(6201, dport, &[0; 8]));
    c("v6_ext_chain", Out::Pkt6, ipv6(0x6201, 0, &p, None));
    let mut p = Vec::new();
    for i in 0..40 {
        p.extend_from_slice(&ext8(if i == 39 { 17 } else { 60 }));
    }
    p.extend_from_slice(&udp(6202, dport, &[0; 8]));
    c("v6_ext_long", Out::Pkt6, ipv6(0x6202, 60, &p, None));
    let mut p = vec![17, 255, 1, 4, 0, 0, 0, 0];
    p.extend_from_slice(&udp(6203, dport, &[0; 8]));
    c("v6_ext_truncated", Out::Pkt6, ipv6(0x6203, 60, &p, None));
    // IPv6 fragments: first (ports visible), later (no ports).
    let mut p = frag6(17, 0, true, 0x6204);
    p.extend_from_slice(&udp(6204, dport, &[0; 16]));
    c("v6_frag_first", Out::Pkt6, ipv6(0x6204, 44, &p, None));
    let mut p = frag6(17, 3, false, 0x6205);
    p.extend_from_slice(&udp(6205, dport, &[0; 8]));
    c("v6_frag_later", Out::Pkt6, ipv6(0x6205, 44, &p, None));
    // An ICMPv6 error (destination unreachable) quoting IPv6/UDP to 7777.
    let mut p = vec![1, 4, 0, 0, 0, 0, 0, 0];
    p.extend_from_slice(&ipv6(0x6299, 17, &udp(5555, dport, &[]), None));
    c("v6_icmp_error", Out::Pkt6, ipv6(0x6206, 58, &p, None));
    // Payload length larger than the frame: ipv6_rcv drops it.
    c("v6_plen_long", Out::Pkt6, ipv6(0x6207, 17, &udp(6207, dport, &[0; 8]), Some(1200)));
    v
}

fn ifindex(name: &str) -> i32 {
    let c = std::ffi::CString::new(name).unwrap();
    // SAFETY: a valid NUL-terminated name.
    unsafe { libc::if_nametoindex(c.as_ptr()) as i32 }
}

fn send_raw4(dst: [u8; 4], bytes: &[u8]) -> Result<(), i32> {
    // SAFETY: plain socket syscalls with valid buffers.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW);
        if fd < 0 {
            return Err(*libc::__errno_location());
        }
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as u16;
        sa.sin_addr.s_addr = u32::from_ne_bytes(dst);
        let n = libc::sendto(fd, bytes.as_ptr().cast(), bytes.len(), 0, (&sa as *const libc::sockaddr_in).cast(), size_of::<libc::sockaddr_in>() as u32);
        let e = *libc::__errno_location();
        libc::close(fd);
        if n < 0 {
            Err(e)
        } else {
            Ok(())
        }
    }
}

fn send_pkt(ifidx: i32, dmac: [u8; 6], ethertype: u16, bytes: &[u8]) -> Result<(), i32> {
    // SAFETY: plain socket syscalls with valid buffers.
    unsafe {
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(ethertype.to_be()));
        if fd < 0 {
            return Err(*libc::__errno_location());
        }
        let mut sa: libc::sockaddr_ll = std::mem::zeroed();
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = ethertype.to_be();
        sa.sll_ifindex = ifidx;
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&dmac);
        let n = libc::sendto(fd, bytes.as_ptr().cast(), bytes.len(), 0, (&sa as *const libc::sockaddr_ll).cast(), size_of::<libc::sockaddr_ll>() as u32);
        let e = *libc::__errno_location();
        libc::close(fd);
        if n < 0 {
            Err(e)
        } else {
            Ok(())
        }
    }
}

pub fn run(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("bulk-serve") if args.len() > 1 => return bulk_serve(&args[1..]),
        Some("bulk-send") if args.len() > 3 => return bulk_send(&args[1..]),
        Some("udp-sink") if args.len() > 2 => return udp_sink(&args[1..]),
        _ => {}
    }
    let (Some(ifname), Some(mac), Some(dst)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: dfwprobe craft IFNAME DSTMAC DST4");
        return 64;
    };
    let m: Vec<u8> = mac.split(':').filter_map(|h| u8::from_str_radix(h, 16).ok()).collect();
    let d: Vec<u8> = dst.split('.').filter_map(|o| o.parse().ok()).collect();
    if m.len() != 6 || d.len() != 4 {
        eprintln!("craft: bad MAC or address");
        return 64;
    }
    let dmac: [u8; 6] = m.try_into().unwrap();
    let dst4: [u8; 4] = d.try_into().unwrap();
    let idx = ifindex(ifname);
    for case in corpus(dst4) {
        let r = match case.out {
            Out::Raw4(d) => send_raw4(d, &case.bytes),
            Out::Pkt4 => send_pkt(idx, dmac, 0x0800, &case.bytes),
            Out::Pkt6 => send_pkt(idx, dmac, 0x86dd, &case.bytes),
        };
        match r {
            Ok(()) => println!("CASE {} sent", case.name),
            Err(e) => println!("CASE {} refused {e}", case.name),
        }
        // One at a time: fragments of one datagram must arrive in order.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    0
}

fn bulk_serve(args: &[String]) -> i32 {
    let l = std::net::TcpListener::bind(format!("0.0.0.0:{}", args[0])).expect("listen");
    if let Ok((mut s, _)) = l.accept() {
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0u64;
        while let Ok(k) = s.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k as u64;
        }
        println!("RECEIVED {n}");
        let _ = s.write_all(format!("{n}\n").as_bytes());
    }
    0
}

fn bulk_send(args: &[String]) -> i32 {
    let a: std::net::SocketAddr = format!("{}:{}", args[0], args[1]).parse().expect("address");
    let total: u64 = args[2].parse().expect("bytes");
    let mut s = match std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(5)) {
        Ok(s) => s,
        Err(e) => {
            println!("SENT 0 ({e})");
            return 2;
        }
    };
    // 64 KiB writes: tcp_sendmsg builds GSO skbs of page fragments.
    let buf = vec![0x42u8; 1 << 16];
    let mut sent = 0u64;
    while sent < total {
        let k = (total - sent).min(buf.len() as u64) as usize;
        if s.write_all(&buf[..k]).is_err() {
            break;
        }
        sent += k as u64;
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut ack = String::new();
    let _ = s.read_to_string(&mut ack);
    println!("SENT {sent} ACKED {}", ack.trim());
    0
}

/// `dfwprobe craft udp-sink PORT IDLE_MS`: counts datagrams until none came
/// for IDLE_MS after the first (or for 60 s before any); `RECEIVED N`.
fn udp_sink(args: &[String]) -> i32 {
    let s = std::net::UdpSocket::bind(format!("0.0.0.0:{}", args[0])).expect("udp bind");
    let idle: u64 = args[1].parse().expect("idle ms");
    s.set_read_timeout(Some(std::time::Duration::from_millis(50))).unwrap();
    let start = std::time::Instant::now();
    let mut last: Option<std::time::Instant> = None;
    let mut n = 0u64;
    let mut buf = [0u8; 2048];
    loop {
        if s.recv_from(&mut buf).is_ok() {
            n += 1;
            last = Some(std::time::Instant::now());
            continue;
        }
        match last {
            Some(t) if t.elapsed().as_millis() as u64 >= idle => break,
            None if start.elapsed().as_secs() >= 60 => break,
            _ => {}
        }
    }
    println!("RECEIVED {n}");
    0
}
