# SPDX-License-Identifier: GPL-2.0
"""Checks of the stream_lifecycle scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    import base64
    expect(g.fact("nobody_rc") == "4", f"an unprivileged listener exited {g.fact('nobody_rc')}, want 4")
    err = base64.b64decode(g.fact("nobody_err")).decode()
    expect("permission denied" in err.lower(), f"unprivileged trace: {err!r}")
    expect(g.fact("filters_intr") == "1" and g.fact("filters_after_intr") == "0", "Ctrl-C did not clear the filter")
    rc, _, err = trace_run(g, "intr")
    expect(rc == 0 and re.search(r"^0 events, 0 lost", err, re.M), f"after Ctrl-C: rc {rc}, {err!r}")
    expect(g.fact("filters_killed") == "2", f"{g.fact('filters_killed')} filters while the killed session ran")
    # 137 = killed by the script's SIGKILL, which says only that the session
    # was still running then (had it failed on its own, rc would be its exit
    # code); what the kernel did about it is the next check.
    expect(g.fact("trace_rc:killed") == "137",
           f"the session ended by itself (rc {g.fact('trace_rc:killed')}) before it was SIGKILLed")
    expect(g.fact("filters_after_kill") == "0", "the kernel kept a SIGKILLed session's filters")
    before, after = ctl_json(g, "stats_before"), ctl_json(g, "stats_flood")
    expect(after["trace_lost"] - before["trace_lost"] > 0, f"a listener that stopped reading lost nothing? {after}")
    expect(after["dropped"] == before["dropped"], "the trace flood made dockfw drop packets")
    expect(g.fact("udp_sent") == "SENT 20000", f"sender: {g.fact('udp_sent')}")
    rec = int(g.fact("udp_received").split()[1])
    expect(rec > 0, "nothing arrived while traced")
    # Not dropped, from the kernel's own counters: all 20000 datagrams
    # reached c2's UDP layer (delivered, refused for a full buffer, or past
    # the end of the receiver's count: NoPorts).
    b = [int(x) for x in g.fact("snmp_c2_before").split()]
    a = [int(x) for x in g.fact("snmp_c2_after").split()]
    backlog = backlog_drops(g)
    expect(sum(a) - sum(b) + backlog == 20000,
           f"c2's UDP saw {sum(a) - sum(b)} of the 20000 traced datagrams (InDatagrams, InErrors, NoPorts deltas "
           f"{[x - y for x, y in zip(a, b)]}) and the input backlogs dropped {backlog}: "
           f"{20000 - sum(a) + sum(b) - backlog} unaccounted for")
    expect(g.fact("filters_after_slow") == "0", "the slow session's filter outlived it")
    # The late session: one datagram, sent right after it was ready, while
    # a silent filter holder had made the hooks cache "nobody listens".
    expect(g.fact("silent_filters") == "1", f"{g.fact('silent_filters')} filters held by the silent socket, want 1")
    evs, _ = stream_events(g, "late")
    mine = [e for e in evs if e.dst and e.dst.endswith(":9997")]
    expect(any(e.ns == "c1" and e.hook == "LOCAL_OUT" for e in mine),
           f"the late session missed the datagram's first hook (c1 LOCAL_OUT): {mine}")
