"""The graded exercises, one value each: `EXERCISES` is the one list of them (EXERCISES.md).

Everything else that names the exercises derives from it: `rwk check`'s names, `rwk
progress` and `rwk grade --exercises all` (progress.ALL), the capstone's parts, the handed-in
notebooks (checker/classroom/handed_in.py), what a classroom grants and `verify` asks
(checker/classroom/rights.py), and every sentence that says how many there are (`in_words`).
A new exercise is one `Exercise` here, in course order; its criteria stay in their topic's
module of `checks/`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError
from . import audit
from .checks import (autoscaling, configmaps, disruptions, gateway, ingress, namespaces,
                     probes, resources, rollouts, secrets, security, storage)
from .model import Criterion

IN_NAMESPACE, NAMESPACE_ITSELF, CLUSTER_WIDE = "namespace", "namespace itself", "cluster"
"""Where a grant applies: in the student's namespace, on that Namespace object, everywhere."""


@dataclass(frozen=True)
class Grant:
    """One request an exercise needs a student's credentials to allow, as `kubectl auth
    can-i` asks it (verb, resource, group, subresource); a classroom grants it."""

    verb: str
    """The API verb: create, patch, list, get..."""
    resource: str
    """The resource, plural, as RBAC names it."""
    group: str = ""
    """The API group; "" for the core group."""
    subresource: str | None = None
    """A subresource (`eviction` of pods), else None."""
    where: str = IN_NAMESPACE
    """IN_NAMESPACE, NAMESPACE_ITSELF (the student's Namespace object) or CLUSTER_WIDE."""


@dataclass(frozen=True)
class Exercise:
    """One graded exercise of EXERCISES.md: what `rwk check NAME` grades, where a student
    reads and works, and what a classroom must let them do for it."""

    name: str
    """The name `rwk check` takes and every gradebook shows."""
    notebook: str
    """The student notebook's file name, as `exercises/` and handed-in folders name it."""
    lesson: str
    """The lesson that teaches it, whose sections the criteria's hints name."""
    criteria: tuple[Criterion, ...]
    """What it grades, in report order."""
    capstone: bool | tuple[Criterion, ...] = False
    """What the capstone grades of it: True all of it, a tuple those criteria, False none."""
    grants: tuple[Grant, ...] = ()
    """What a classroom must allow a student for it, in their own namespace or beyond."""

    @property
    def capstone_criteria(self) -> tuple[Criterion, ...]:
        """The criteria the capstone takes from this exercise (empty when none)."""
        if self.capstone is True:
            return self.criteria
        return self.capstone or ()


def _writes(*kinds: str, group: str = "") -> tuple[Grant, ...]:
    return tuple(Grant("create", kind, group) for kind in kinds)


_DEPLOYMENTS = Grant("create", "deployments", "apps")
_ROLLOUT = Grant("patch", "deployments", "apps")   # kubectl set image, rollout undo, edits

_PARTS: tuple[Exercise, ...] = (
    Exercise("namespaces", "01-namespaces.ipynb", namespaces.LESSON, namespaces.CRITERIA,
             grants=(Grant("get", "namespaces", where=NAMESPACE_ITSELF),
                     Grant("patch", "namespaces", where=NAMESPACE_ITSELF),  # the label
                     *_writes("resourcequotas", "limitranges", "serviceaccounts"),
                     *_writes("roles", "rolebindings", group="rbac.authorization.k8s.io"),
                     # The check asks a SubjectAccessReview; a student checks their own work.
                     Grant("create", "subjectaccessreviews", "authorization.k8s.io",
                           where=CLUSTER_WIDE))),
    Exercise("configmaps", "02-configmaps.ipynb", configmaps.LESSON, configmaps.CRITERIA,
             capstone=True, grants=(*_writes("configmaps"), _DEPLOYMENTS)),
    Exercise("secrets", "03-secrets.ipynb", secrets.LESSON, secrets.CRITERIA, capstone=True,
             grants=(*_writes("secrets"), Grant("get", "secrets"), _DEPLOYMENTS)),
    Exercise("resources", "05-resources.ipynb", resources.LESSON, resources.CRITERIA,
             capstone=True, grants=(_DEPLOYMENTS, _ROLLOUT)),
    Exercise("probes", "06-probes.ipynb", probes.LESSON, probes.CRITERIA, capstone=True,
             grants=(_DEPLOYMENTS, _ROLLOUT)),
    Exercise("ingress", "04-ingress.ipynb", ingress.LESSON, ingress.CRITERIA, capstone=True,
             grants=(_DEPLOYMENTS, *_writes("services", "secrets"),
                     *_writes("ingresses", group="networking.k8s.io"),
                     Grant("list", "endpoints"),
                     Grant("list", "endpointslices", "discovery.k8s.io"),
                     Grant("list", "ingressclasses", "networking.k8s.io",
                           where=CLUSTER_WIDE))),
    Exercise("autoscaling", "07-autoscaling.ipynb", autoscaling.LESSON, autoscaling.CRITERIA,
             capstone=True,
             grants=(*_writes("horizontalpodautoscalers", group="autoscaling"), _ROLLOUT)),
    Exercise("rolling-updates", "08-rolling-updates.ipynb", rollouts.LESSON,
             rollouts.CRITERIA, capstone=rollouts.STRATEGY,
             grants=(_DEPLOYMENTS, _ROLLOUT,
                     Grant("list", "replicasets", "apps"))),   # kubectl rollout history
    Exercise("storage", "09-storage.ipynb", storage.LESSON, storage.CRITERIA, capstone=True,
             grants=(*_writes("services", "persistentvolumeclaims"),
                     *_writes("statefulsets", group="apps"),
                     Grant("list", "storageclasses", "storage.k8s.io", where=CLUSTER_WIDE))),
    Exercise("disruptions", "10-disruptions.ipynb", disruptions.LESSON,
             disruptions.CRITERIA + (audit.CLEAN,), capstone=True,
             grants=(*_writes("poddisruptionbudgets", group="policy"),
                     Grant("create", "pods", subresource="eviction"),   # kubectl drain
                     # `rwk audit` reads every kind of workload.
                     Grant("list", "daemonsets", "apps"), Grant("list", "cronjobs", "batch"))),
)


def capstone(parts: Iterable[Exercise]) -> tuple[Criterion, ...]:
    """The capstone's criteria from `parts`, ids prefixed by their exercise: the exercises it
    grades whole first, in notebook order, then those it takes part of (rolling-updates'
    strategy)."""
    graded = sorted((e for e in parts if e.capstone),
                    key=lambda e: (e.capstone is not True, e.notebook))
    return tuple(dataclasses.replace(criterion, id=f"{e.name}/{criterion.id}")
                 for e in graded for criterion in e.capstone_criteria)


def _union(grants: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(dict.fromkeys(grants))


EXERCISES: tuple[Exercise, ...] = (
    *_PARTS,
    Exercise("capstone", "11-capstone.ipynb", "lessons/11-capstone.ipynb", capstone(_PARTS),
             grants=_union(g for e in _PARTS if e.capstone for g in e.grants)),
    Exercise("gateway", "12-gateway.ipynb", gateway.LESSON, gateway.CRITERIA,
             grants=(_DEPLOYMENTS, *_writes("services", "secrets"),
                     *_writes("gateways", "httproutes", group=gateway.GROUP),
                     Grant("list", "gatewayclasses", gateway.GROUP, where=CLUSTER_WIDE))),
    Exercise("security", "13-security.ipynb", security.LESSON, security.CRITERIA,
             grants=(_DEPLOYMENTS, _ROLLOUT,
                     *_writes("networkpolicies", group="networking.k8s.io"),
                     # The Pod Security label: the classroom's admission policy lets a
                     # student make it stricter only (checker/classroom/rights.py).
                     Grant("patch", "namespaces", where=NAMESPACE_ITSELF))),
)
"""Every exercise of EXERCISES.md, in the order `rwk progress` and the gradebooks list them."""

_BY_NAME = {exercise.name: exercise for exercise in EXERCISES}

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen", "twenty")


def in_words(count: int | None = None) -> str:
    """How many exercises there are (or `count`), as a sentence says it: "eleven"."""
    count = len(EXERCISES) if count is None else count
    return _WORDS[count] if 0 <= count < len(_WORDS) else str(count)


def exercise(name: str) -> Exercise:
    """The exercise called `name`; UsageError (exit 2) for a name that is not one."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    raise UsageError(f"unknown exercise {name!r}; {did_you_mean(name)}choose one of "
                     f"{', '.join(_BY_NAME)}")


def criteria(name: str) -> tuple[Criterion, ...]:
    """The criteria of an exercise; UsageError (exit 2) for a name that is not one."""
    return exercise(name).criteria


def did_you_mean(name: str) -> str:
    """"did you mean configmaps? " for the exercise closest to a mistyped `name`, else ""."""
    names = list(_BY_NAME)
    lowered = name.strip().lower()
    # A prefix or an exact name in other case is meant for sure; else the closest spelling.
    found = [n for n in names if n == lowered] or [n for n in names if n.startswith(lowered)
                                                   and len(lowered) >= 3]
    found = found or difflib.get_close_matches(lowered, names, n=1, cutoff=0.6)
    return f"did you mean {found[0]}? " if found else ""
