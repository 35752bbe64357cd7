"""The graded exercises by name, as `rwk check EXERCISE` takes them (EXERCISES.md)."""

from __future__ import annotations

from . import audit
from .checks import (autoscaling, configmaps, disruptions, ingress, namespaces, probes,
                     resources, rollouts, secrets, storage)
from .errors import UsageError
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
PLANNED = ("capstone",)
"""Exercises of EXERCISES.md whose checks this version does not have yet."""


def criteria(exercise: str) -> tuple[Criterion, ...]:
    """The criteria of an exercise; UsageError (exit 2) for a name that is not one."""
    if exercise in EXERCISES:
        return EXERCISES[exercise]
    if exercise in PLANNED:
        raise UsageError(f"exercise {exercise!r} is not gradable in this version yet; "
                         f"available: {', '.join(EXERCISES)}")
    raise UsageError(f"unknown exercise {exercise!r}; choose one of {', '.join(EXERCISES)}")
