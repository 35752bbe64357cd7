"""`rwk classroom delete`: remove what `create` made for the roster's students and nothing
else, found by the labels `create` set (never a namespace without them); then, once no
classroom namespace is left on the cluster, the admission policy they shared; and the
students' kubeconfig files `create` wrote, whose tokens died with their namespaces.

The recipe: find the roster's namespaces and cluster-wide rights, ask (unless `yes`),
delete, wait for the namespaces to go (bounded), remove the shared policy if none is left,
remove the kubeconfig files of the students whose namespace is gone (a file someone changed
since `create` wrote it stays, and is named).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from ..gradebook.model import Roster, Student
from ..kube.writer import Writer
from . import kubeconfigs
from .names import POLICY, SELECTOR, STUDENT
from .parallel import WORKERS, for_each

Say = Callable[[str], None]
Confirm = Callable[[str], bool]
WAIT = 180.0
"""Seconds to wait for the namespaces to go (the namespace controller empties them)."""
RBAC = "rbac.authorization.k8s.io/v1"
ADMISSION = "admissionregistration.k8s.io/v1"


def delete(roster: Roster, yes: bool = False, context: str | None = None,
           kubeconfig: str | os.PathLike | None = None, say: Say = print,
           confirm: Confirm | None = None, wait: float = WAIT,
           workers: int = WORKERS,
           kubeconfigs_dir: str | os.PathLike | None = None) -> bool:
    """Delete the roster's classroom; True when it is gone. Without `yes`, `confirm` is
    asked; with neither, nothing is done (UsageError: no one can answer). With
    `kubeconfigs_dir`, the students' files in it go too, once their namespace has."""
    if not yes and confirm is None:
        raise UsageError("delete needs confirming and no one can answer (stdin is not a "
                         "terminal); run it again with --yes")
    writer = Writer(context, kubeconfig, connections=workers)
    ids = {student.file_id for student in roster.students}
    namespaces = [ns["metadata"]["name"]
                  for ns in writer.list_labelled("v1", "Namespace", SELECTOR)
                  if (ns["metadata"].get("labels") or {}).get(STUDENT) in ids
                  and ns["metadata"]["name"] in ids]
    cluster_wide = [(obj["kind"], obj["metadata"]["name"])
                    for kind in ("ClusterRoleBinding", "ClusterRole")
                    for obj in writer.list_labelled(RBAC, kind, SELECTOR)
                    if (obj["metadata"].get("labels") or {}).get(STUDENT) in ids]
    say(f"classroom: {len(namespaces)} of the roster's {len(ids)} namespace(s) found, and "
        f"{len(cluster_wide)} cluster role(s) and binding(s)")
    if not yes:
        shown = ", ".join(sorted(namespaces)[:5]) + (", ..." if len(namespaces) > 5 else "")
        question = (f"Delete {len(namespaces)} student namespace(s) ({shown or 'none'}) "
                    "with everything in them" + (f", and their kubeconfig files in "
                                                 f"{kubeconfigs_dir}/?" if kubeconfigs_dir
                                                 else "?"))
        if not confirm(question):
            say("classroom: nothing deleted")
            return False
    for_each(namespaces, lambda name: writer.delete("v1", "Namespace", name), workers)
    for_each(cluster_wide, lambda found: writer.delete(RBAC, *found), workers)
    for name in sorted(namespaces):
        say(f"{name}: deleting")
    left = _wait_until_gone(writer, set(namespaces), wait, say)
    if kubeconfigs_dir is not None:
        gone = [s for s in roster.students if s.namespace in set(namespaces) - left]
        _remove_kubeconfigs(Path(kubeconfigs_dir), gone, say)
    if left:
        say(f"classroom: {len(left)} namespace(s) still terminating after {wait:.0f} s: "
            f"{', '.join(sorted(left)[:5])}; the cluster goes on deleting them")
        return False
    remaining = writer.list_labelled("v1", "Namespace", SELECTOR)
    if remaining:
        say(f"classroom: {len(remaining)} other classroom namespace(s) remain; the shared "
            f"admission policy {POLICY} stays")
    else:
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            if writer.delete(ADMISSION, kind, POLICY):
                say(f"classroom: deleted {kind} {POLICY}")
    say(f"classroom: deleted {len(namespaces)} namespace(s)"
        + ("" if kubeconfigs_dir is not None else
           "; their kubeconfig files no longer work and may be removed"))
    return True


def _remove_kubeconfigs(directory: Path, students: list[Student], say: Say) -> None:
    """Remove the file `create` wrote for each of `students`; leave, and name, one that is
    not (any more) such a file."""
    found = [(s, path) for s in students if (path := kubeconfigs.path_of(directory, s)).exists()]
    if not found:
        say(f"classroom: no kubeconfig file of theirs in {directory}/ (--kubeconfigs)")
        return
    kept = []
    for student, path in found:
        if kubeconfigs.made_for(kubeconfigs.read(path), student):
            path.unlink()
        else:
            kept.append(path.name)
    say(f"classroom: removed {len(found) - len(kept)} kubeconfig file(s) from {directory}/")
    if kept:
        say(f"classroom: left {len(kept)} file(s) that create did not write as they are now: "
            f"{', '.join(sorted(kept)[:5])}")


def _wait_until_gone(writer: Writer, names: set[str], wait: float, say: Say) -> set[str]:
    """The namespaces of `names` still there after at most `wait` seconds."""
    deadline = time.monotonic() + wait
    left = set(names)
    reported = len(left)
    while left:
        found = {ns["metadata"]["name"]
                 for ns in writer.list_labelled("v1", "Namespace", SELECTOR)}
        left &= found
        if not left or time.monotonic() > deadline:
            break
        if reported - len(left) >= 10:
            say(f"classroom: {len(names) - len(left)} of {len(names)} namespace(s) gone")
            reported = len(left)
        time.sleep(1)
    return left
