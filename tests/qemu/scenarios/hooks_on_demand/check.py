# SPDX-License-Identifier: GPL-2.0
"""Checks of the hooks_on_demand scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect(g.fact("nft_control") == "2", f"`nft list hooks` in init listed {g.fact('nft_control')} of conntrack's "
           "PRE_ROUTING hook and Docker's filter FORWARD chain, want both: the kernel's hook list cannot be read")
    m = re.search(r"dockfw: loaded: following (\d+) namespaces, (\d+) hooks registered", g.dmesg)
    expect(m and m.groups() == ("4", "0"), f"load message: {m.group(0) if m else None!r}, want 4 namespaces, 0 hooks")

    def hooks(step, ns):
        # Every dockfw entry the kernel lists, duplicates kept: a hook point
        # registered twice shows twice and fails "exactly once" below.
        return sorted(g.fact(f"hooks:{step}:{ns}").split())

    def step(name, want, nss=("init", "c1", "c2", "ext")):
        """Every namespace has exactly `want` (nft's view), each hook point
        once; the module's own count agrees with the kernel's lists."""
        for ns in nss:
            have = hooks(name, ns)
            expect(have == sorted(want), f"after {name}: dockfw hooks in {ns} are {have or 'none'}, "
                                         f"want {sorted(want) or 'none'}, each once")
        if name == "rmmod":
            return
        reg = int(g.fact(f"registered:{name}"))
        expect(reg == len(want) * len(nss), f"after {name}: stats hooks_registered {reg}, the kernel lists "
                                            f"{len(want) * len(nss)}")
        expect(int(g.fact(f"netns:{name}")) == len(nss), f"after {name}: hooked_netns {g.fact(f'netns:{name}')}, "
                                                         f"want {len(nss)}")

    five = ("init", "c1", "c2", "ext", "late")
    step("loaded", set())
    expect_ok(g, "loaded_ext_to_published", "c1")
    ctl_ok(g, "fwd")
    step("fwd", {"ip:forward"})
    expect_blocked(g, "fwd_ext_to_published")
    expect_ok(g, "fwd_c1_to_c2", "c2")
    step("late", {"ip:forward"}, five)
    ctl_ok(g, "out")
    step("out", {"ip:forward", "ip:output"}, five)
    expect_blocked(g, "out_c1_to_c2")
    ctl_ok(g, "del_fwd")
    step("del_fwd", {"ip:output"}, five)
    expect_ok(g, "del_ext_to_published", "c1")
    expect_blocked(g, "del_c1_to_c2")
    ctl_ok(g, "flush")
    step("flush", set(), five)
    expect_ok(g, "flush_c1_to_c2", "c2")
    ctl_ok(g, "drop")
    step("drop", ALL_HOOKS, five)
    expect_blocked(g, "drop_c1_to_c2")
    ctl_ok(g, "accept")
    step("accept", set(), five)
    expect_ok(g, "accept_c1_to_c2", "c2")
    step("trace", {"ip:input"}, five)
    expect_ok(g, "trace_c1_to_c2", "c2")
    evs, _ = stream_events(g, "t1")
    expect(any(e.ns == "c2" and e.hook == "LOCAL_IN" and e.dst == "172.17.0.3:8080" for e in evs),
           f"the trace session saw no c2 LOCAL_IN event of c1 -> c2:8080 ({len(evs)} events)")
    expect(all(e.hook == "LOCAL_IN" for e in evs), f"the input filter saw {sorted({e.hook for e in evs})}")
    step("trace_gone", set(), five)
    expect(g.fact("holder_filters") == "1", f"{g.fact('holder_filters')} trace filters with the holder, want 1")
    step("holder", set(), five)
    step("holder_listened", ALL_HOOKS, five)
    expect(g.fact("holder_filters_after") == "1",
           f"{g.fact('holder_filters_after')} trace filters after the session left, want the holder's 1")
    step("holder_alone", set(), five)
    step("hook_cost", ALL_HOOKS, five)
    expect(g.fact("bogus_rc") == "1", "writing 'bogus' to the trace parameter succeeded")
    expect(g.fact("trace_after_bogus") == "N", f"trace is {g.fact('trace_after_bogus')} after a refused write")
    step("bogus", set(), five)
    step("trace_on", ALL_HOOKS, five)
    on = g.dmesg_after("trace-on")
    on = on[:on.find("DFW-MARK trace-off")]
    seen = {(e.ns, e.hook) for e in g.parse_events(on) if "8080" in e.dst}
    want = {("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING"), ("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")}
    expect(want <= seen, f"trace=1 printed {sorted(seen)} for c1 -> c2:8080, missing {sorted(want - seen)}")
    step("trace_off", set(), five)
    ctl_ok(g, "again")
    step("again", {"ip:forward"}, five)
    step("rmmod", set(), five)
    expect_ok(g, "rmmod_ext_to_published", "c1")
