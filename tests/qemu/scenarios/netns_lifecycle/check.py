# SPDX-License-Identifier: GPL-2.0
"""Checks of the netns_lifecycle scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    n0 = int(g.fact("hooked_after_insmod"))
    expect(n0 == 4, f"after insmod hooks in {n0} namespaces, want 4")
    expect(int(g.fact("hooked_after_late")) == n0 + 1, "a namespace created after insmod was not hooked")
    expect(int(g.fact("hooked_after_del")) == n0, "a deleted namespace still counts as hooked")
    expect_ok(g, "c1_to_late", "late")
    late = [e.hook for e in g.events if e.ns == "late"]
    expect("PRE_ROUTING" in late and "LOCAL_IN" in late and "LOCAL_OUT" in late,
           f"hooks seen in the late namespace: {sorted(set(late))}")
    expect(g.fact("module_gone") == "yes", "dockfw still in /sys/module after rmmod")
    expect_ok(g, "ext_after_rmmod", "c1")
    expect_ok(g, "c1_to_c2_after_rmmod", "c2")
    # "No hook left behind", from the kernel's own hook lists: in every
    # namespace, as many hook functions after rmmod as before insmod, and
    # more while loaded (so the count does see dockfw's).
    for ns in ["init", "c1", "c2", "ext"]:
        before, loaded, after = (int(g.fact(f"hooks_{when}:{ns}"))
                                 for when in ["before_insmod", "before_rmmod", "after_rmmod"])
        expect(loaded > before, f"{ns}: {loaded} hooks listed while loaded, {before} before insmod: "
                                "the kernel's list does not show dockfw's")
        expect(after == before, f"{ns}: {after} hooks listed after rmmod, {before} before insmod: "
                                "a hook was left behind")
