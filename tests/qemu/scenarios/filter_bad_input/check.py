# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_bad_input scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    errors = []
    # Who refuses an attribute sent to an operation without a request
    # policy depends on the genl core (qemucheck.NO_ATTRS): 6.12's does not
    # parse them (dockfw refuses), later ones do (maxattr 0).
    rel = re.search(r"^DFW-UNAME (\S+)", g.raw, re.M)
    expect(rel is not None, "the guest did not report its kernel release")
    no_attrs = NO_ATTRS[0] if rel.group(1).startswith("6.") else NO_ATTRS[1]
    for name, (errno, words) in BAD_INPUT.items():
        if words == NO_ATTRS:
            words = no_attrs
        got = g.fact("nl:" + name)
        m = re.match(r"NLERR (\d+) ?(.*)$", got)
        # None: the kernel sends no extended-ack message for this refusal
        # (genetlink's unknown command, its CAP_NET_ADMIN check), so there
        # must be none; otherwise the message must say `words`.
        msg_ok = m and (m.group(2) == "" if words is None else words in m.group(2))
        if not m or int(m.group(1)) != errno or not msg_ok:
            errors.append(f"{name}: got {got!r}, want errno {errno} with "
                          + (f"{words!r}" if words is not None else "no message"))
    # A plain dump still answers (DONE, errno 0): the refusal of dump_unknown
    # is about its attribute.
    for name in ["replace_begin", "replace_abort", "dump_ok"]:
        if g.fact("nl:" + name) != "NLOK":
            errors.append(f"{name}: {g.fact('nl:' + name)!r}, want NLOK")
    expect(not errors, "bad input not refused as expected:\n  " + "\n  ".join(errors))
    seq = g.fact("stage_seq").strip("|").split("|")
    expect(len(seq) == 3 and seq[:2] == ["NLOK", "NLOK"] and seq[2] == "NLERR 34 integer out of range",
           f"BEGIN, a good batch, a policy-refused batch on one held socket: {seq}")
    expect(g.fact("unchanged_mid") == "yes", "the live rules changed while a replace with a refused batch was staged")
    expect(g.fact("unchanged_after_stager") == "yes", "the live rules changed when a staged replace's socket closed")
    expect(g.fact("unchanged") == "yes", "rejected requests changed the rules; now:\n" + g.fact("saved_after"))
    saved = g.fact("saved_after")
    expect("tcp dport 8081 comment keep accept" in saved and "input saddr 10.9.0.0/16 drop" in saved,
           f"the seeded rules are not intact: {saved}")
    rc, _, err = ctl(g, "parse_error")
    expect(rc == 2 and "not a port" in err and "^" in err, f"parse error: rc {rc}, {err!r}")
    rc, _, err = ctl(g, "missing_action")
    expect(rc == 2 and "missing action" in err, f"missing action: rc {rc}, {err!r}")
    rc, _, err = ctl(g, "del_missing")
    expect(rc == 1 and "no rule with this id" in err, f"del of a missing rule: rc {rc}, {err!r}")
    expect(g.fact("ctl_rc:nobody_list") == "4", f"unprivileged dockfwctl exited {g.fact('ctl_rc:nobody_list')}, want 4")
    expect(g.fact("ctl_rc:in_container") == "3", f"dockfwctl in a container netns exited {g.fact('ctl_rc:in_container')}, want 3")
    rc, _, err = ctl(g, "restore_bad")
    expect(rc == 2 and "/tmp/badfile:2:" in err, f"bad restore file: rc {rc}, {err!r}")
    expect_ok(g, "still_filtering", "c1")
    seq = g.fact("replace_seq").strip("|").split("|")
    expect(len(seq) == 5 and seq[:2] == ["NLOK", "NLOK"] and seq[3:] == ["NLOK", "NLOK"]
           and seq[2].startswith("NLERR 22 port range minimum above maximum"),
           f"one-socket replace with a bad middle batch: {seq}")
    saved = [l for l in g.fact("saved_seq").strip("|").split("|") if l]
    ports = sorted(re.search(r"dport (\d+)", l).group(1) for l in saved)
    expect(ports == ["1", "3"] and all(re.fullmatch(r"id \d+ udp dport \d+ accept", l) for l in saved),
           f"the commit after a refused batch published {saved}, want the udp dport 1 and 3 rules")
