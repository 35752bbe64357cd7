"""The checker's errors: one small tree, caught once by the CLI.

    RwkError                      base; carries the exit code the CLI uses
    ├── UsageError                bad input from the user              (exit 2)
    │   └── UnknownBackend        --backend names no backend           (exit 2)
    ├── ClusterUnreachable        no server, or credentials refused    (exit 3)
    └── BackendError              a cluster backend could not do its job (exit 1)
        ├── DockerUnavailable     kind asked for, but no Docker daemon or no kind
        ├── BinariesUnavailable   sandbox binaries neither cached, downloadable nor buildable
        ├── PortInUse             a port the sandbox needs is taken
        └── StartFailed           a component did not come up; names it and its log

Every message says what was expected, what was found, and what to run next.
"""

from __future__ import annotations


class RwkError(Exception):
    """Base of every error the CLI reports; `exit_code` is what `rwk` exits with."""

    exit_code = 1


class UsageError(RwkError):
    """The user asked for something that does not exist or is malformed."""

    exit_code = 2


class UnknownBackend(UsageError):
    """`--backend` named a backend that does not exist."""


class ClusterUnreachable(RwkError):
    """The cluster could not be reached, or it refused the credentials."""

    exit_code = 3


class BackendError(RwkError):
    """A cluster backend could not bring the cluster up, down or report on it."""


class DockerUnavailable(BackendError):
    """The kind backend needs Docker and kind; one of them is missing."""


class BinariesUnavailable(BackendError):
    """The sandbox's binaries are not cached and cannot be downloaded or built."""


class PortInUse(BackendError):
    """A port the sandbox needs is already taken by another process."""


class StartFailed(BackendError):
    """A sandbox component did not start; the message names it and its log file."""
