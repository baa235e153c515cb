# SPDX-License-Identifier: GPL-2.0
"""Host-side checks of the Docker scenarios (docker_*.sh, issue 5)."""
import checks
from checks import CheckFailed, ctl_json, ctl_ok, expect, expect_blocked, expect_ok  # noqa: F401

TIMEOUTS = {
    "docker_published_port": 240,
}


def docker_published_port(g):
    pass


CHECKS = {
    "docker_published_port": docker_published_port,
}
