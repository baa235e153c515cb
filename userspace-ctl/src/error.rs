// SPDX-License-Identifier: GPL-2.0
//! How a dockfwctl command fails: a message that names what was attempted
//! and an exit code from a fixed set that scripts can rely on (listed in
//! `dockfwctl --help` and the README).

/// The exit status of a failed command (0 is success).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// The kernel refused the request (invalid rule, unknown id, ...).
    Kernel = 1,
    /// Usage or rule syntax error: nothing was sent.
    Usage = 2,
    /// The dockfw family is not available (module not loaded, or unloaded
    /// while a trace ran).
    NoFamily = 3,
    /// Permission denied (CAP_NET_ADMIN).
    Perm = 4,
    /// Other I/O or netlink error.
    Io = 5,
    /// A container could not be resolved through the Docker engine.
    Docker = 6,
}

/// A failure: the message (without the `dockfwctl: ` prefix) and exit code.
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) code: Exit,
    pub(crate) msg: String,
}

pub(crate) fn fail(code: Exit, msg: impl Into<String>) -> Fail {
    Fail { code, msg: msg.into() }
}
