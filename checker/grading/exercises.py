"""The graded exercises by name, as `rwk check EXERCISE` takes them (EXERCISES.md)."""

from __future__ import annotations

import dataclasses
import difflib

from ..errors import UsageError
from . import audit
from .checks import (autoscaling, configmaps, disruptions, ingress, namespaces, probes,
                     resources, rollouts, secrets, storage)
from .model import Criterion

EXERCISES: dict[str, tuple[Criterion, ...]] = {
    "namespaces": namespaces.CRITERIA,
    "configmaps": configmaps.CRITERIA,
    "secrets": secrets.CRITERIA,
    "resources": resources.CRITERIA,
    "probes": probes.CRITERIA,
    "ingress": ingress.CRITERIA,
    "autoscaling": autoscaling.CRITERIA,
    "rolling-updates": rollouts.CRITERIA,
    "storage": storage.CRITERIA,
    "disruptions": disruptions.CRITERIA + (audit.CLEAN,),
}

CAPSTONE_PARTS: dict[str, tuple[Criterion, ...] | None] = {
    "configmaps": None, "secrets": None, "ingress": None, "resources": None, "probes": None,
    "autoscaling": None, "storage": None, "disruptions": None,
    "rolling-updates": rollouts.STRATEGY,
}
"""What the capstone grades of each exercise: None for all of it, else those criteria."""


def capstone() -> tuple[Criterion, ...]:
    """Every criterion of the capstone's parts, ids prefixed by their exercise.

    Built from EXERCISES when asked, so a part whose checks are registered later joins
    without a change here.
    """
    return tuple(dataclasses.replace(criterion, id=f"{name}/{criterion.id}")
                 for name, subset in CAPSTONE_PARTS.items()
                 for criterion in (subset or EXERCISES[name]))


def criteria(exercise: str) -> tuple[Criterion, ...]:
    """The criteria of an exercise; UsageError (exit 2) for a name that is not one."""
    if exercise == "capstone":
        return capstone()
    if exercise in EXERCISES:
        return EXERCISES[exercise]
    raise UsageError(f"unknown exercise {exercise!r}; {did_you_mean(exercise)}choose one of "
                     f"{', '.join([*EXERCISES, 'capstone'])}")


def did_you_mean(name: str) -> str:
    """"did you mean configmaps? " for the exercise closest to a mistyped `name`, else ""."""
    names = [*EXERCISES, "capstone"]
    lowered = name.strip().lower()
    # A prefix or an exact name in other case is meant for sure; else the closest spelling.
    found = [n for n in names if n == lowered] or [n for n in names if n.startswith(lowered)
                                                   and len(lowered) >= 3]
    found = found or difflib.get_close_matches(lowered, names, n=1, cutoff=0.6)
    return f"did you mean {found[0]}? " if found else ""
