"""Real-World Kubernetes: grade course exercises against the live cluster.

    from checker import check
    check("configmaps")            # a report that shows itself in a notebook
    progress()                     # every exercise at once: score, passed, what to read next
"""

from __future__ import annotations

__all__ = ["check", "progress"]


def check(exercise: str, namespace: str | None = None, wait: float = 0, *,
          context: str | None = None, kubeconfig: str | None = None):
    """Grade `exercise` in `namespace` (default: production) of the current kube context.

    Returns a Report: it renders as a table in a notebook, has `.passed`, `.score`,
    `.max_score` and `.to_dict()`, and `.again()` checks once more.
    """
    from .grading.runner import grade   # here: the kubernetes client loads only when needed
    from .notebooks.panel import register
    register()   # in a notebook kernel, a report shows as the check panel (ipywidgets)
    return grade(exercise, namespace=namespace, context=context, kubeconfig=kubeconfig,
                 wait=wait)


def progress(namespace: str | None = None, *, context: str | None = None,
             kubeconfig: str | None = None):
    """Grade every exercise in `namespace` (default: production) at once, from one read.

    Returns a Progress: in a notebook a table (exercise, score, passed, the lesson to read
    next for the first failing one) with a Check again button; `.reports`, `.to_dict()`
    and `.again()`.
    """
    from .grading.progress import progress as grade_all
    from .notebooks.panel import register
    register()   # in a notebook kernel, progress shows as a panel with Check again
    return grade_all(namespace, context=context, kubeconfig=kubeconfig)
