"""The existing backend: whatever cluster the current kubeconfig context reaches, as it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterUnreachable
from . import _proc
from .base import COURSE_LABEL, ClusterStatus, Kubectl, Progress, read_status, reset_namespaces


@dataclass
class Existing:
    """A cluster the course did not start and will not stop (a workshop's shared cluster)."""

    context_name: str | None = None
    kubeconfig: Path | None = None
    runner: _proc.Runner = _proc.run
    backend_name: str = "existing"

    @property
    def context(self) -> str:
        if self.context_name:
            return self.context_name
        args = ["kubectl", "config", "current-context"]
        if self.kubeconfig:
            args += ["--kubeconfig", str(self.kubeconfig)]
        result = self.runner(args, timeout=10)
        if not result.ok or not result.stdout.strip():
            raise ClusterUnreachable(
                "the existing backend uses your current kubeconfig context, and there is none: "
                + (result.output or "kubectl printed nothing")
                + ". Set one with `kubectl config use-context NAME`.")
        return result.stdout.strip()

    def kubectl(self) -> Kubectl:
        return Kubectl(self.context, self.kubeconfig, runner=self.runner)

    def up(self, say: Progress) -> None:
        kubectl = self.kubectl()
        if not kubectl.reachable():
            raise ClusterUnreachable(f"context {kubectl.context!r} does not answer "
                                     "(`kubectl get --raw /readyz` fails); check the kubeconfig, "
                                     "the VPN or the workshop's cluster address")
        say(f"using the existing cluster of context {kubectl.context!r}; the course will not "
            "stop it, and `rwk reset` deletes only namespaces labelled " + COURSE_LABEL)

    def stop(self, say: Progress) -> None:
        say("the existing backend does not stop a cluster the course did not start")

    def down(self, say: Progress) -> None:
        say("the existing backend does not stop a cluster the course did not start")

    def work(self) -> list[str]:
        """Nothing: `down` deletes nothing of a cluster the course did not start."""
        return []

    def status(self) -> ClusterStatus:
        return read_status(self.backend_name, self.kubectl())

    def reset(self, say: Progress) -> list[str]:
        return reset_namespaces(self.kubectl(), owned_cluster=False, say=say)
