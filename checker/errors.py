"""The checker's errors: one small tree, caught once by the CLI.

    RwkError                      base; carries the exit code the CLI uses
    ├── UsageError                bad input from the user              (exit 2)
    │   └── UnknownBackend        --backend names no backend           (exit 2)
    ├── ClusterUnreachable        no server, or credentials refused    (exit 3)
    ├── AccessDenied              the credentials lack one right (403): in grading, fails the
    │                             criterion that needed it; elsewhere (exit 1)
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


class AccessDenied(RwkError):
    """The API server refused one request (403): the credentials lack the right it needs.

    Not a reason to stop grading: the runner fails the criterion that needed the read and
    runs the others. The message names the missing right as `kubectl auth can-i` spells it.
    """

    def __init__(self, verb: str, resource: str, namespace: str | None = None, *,
                 all_namespaces: bool = False, name: str | None = None,
                 user: str | None = None, context: str | None = None) -> None:
        self.verb = verb
        """The verb refused: get, list, create, ..."""
        self.resource = resource
        """The resource as RBAC names it, `plural.group` (`deployments.apps`), or a path."""
        self.namespace = namespace
        """The namespace of the request; None for a cluster-scoped one."""
        self.all_namespaces = all_namespaces
        """The request spanned every namespace (a list of a namespaced kind)."""
        self.name = name
        """The object asked for, when the request named one."""
        self.user = user
        """Who the API server took the credentials for, when its answer said."""
        self.context = context
        """The kube context of the request."""
        super().__init__(self._message())

    def _message(self) -> str:
        if self.namespace:
            where, flag = f" in namespace {self.namespace}", f" -n {self.namespace}"
        elif self.all_namespaces:
            where, flag = " in all namespaces", " --all-namespaces"
        else:
            where, flag = "", ""
        said = "403 Forbidden" + (f" on {self.resource}/{self.name}" if self.name else "")
        if self.user:
            said += f", as {self.user}"
        if self.context:
            said += f", on context {self.context!r}"
        return (f"the credentials may not {self.verb} {self.resource}{where} ({said}); grade "
                "with credentials that have this right, or grant it with a Role and "
                f"RoleBinding; `kubectl auth can-i {self.verb} {self.resource}{flag}` checks it")


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
