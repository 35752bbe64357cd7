"""The classroom: a class on one shared cluster (CLASSROOM.md).

- `roster.py`: `load_roster`, the CSV of students;
- `provision.py`: `create`, each student's namespace, rights, budget and kubeconfig;
- `verify.py`: `verify`, each kubeconfig's rights asked of the API as the student;
- `teardown.py`: `delete`, exactly what `create` made;
- `grading.py`: `grade_class`, `rwk grade` live: the whole class from one snapshot;
- `rights.py` (RBAC, the admission policy, the rights `verify` asks), `budget.py` (the
  budgets' sizes), `kubeconfigs.py` (the students' files), `names.py` (names and labels),
  `parallel.py` (every student at once).

It writes to the cluster through `checker.kube.writer` and reads the roster into
`checker.gradebook.model`'s values: layers cli -> classroom -> gradebook -> grading. The
grading core never imports it (.importlinter).
"""

from __future__ import annotations

from .provision import create
from .roster import load_roster
from .teardown import delete
from .verify import verify

__all__ = ["create", "delete", "load_roster", "verify"]
