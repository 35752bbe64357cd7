"""Which tests of the kind suite may run at the same time, on different pytest-xdist workers,
against the one kind cluster they share (conftest.py), and which must take turns.

Each group runs on one worker, in file order (tests/conftest.py). Tests that route
api.example.com or app.example.com (exercise 04's hosts, also exercise 11's and 12's) form one
group: two namespaces routing the same host through Traefik would share its requests, and the
traffic tests assert whose pods answer. Every other lesson, module or variant function is a
group of its own, each in namespaces of its own. The lifecycle module (stop, up, reset, down)
is a group of its own, handed out last, and waits until every other kind test has finished
(conftest.py: `others_finished`), since `reset` deletes every learner's namespace and `down`
the cluster.
"""

from __future__ import annotations

SUITE = "tests/kind/"
LIFECYCLE = f"{SUITE}test_zz_lifecycle.py"
EXAMPLE_HOSTS = f"{SUITE}[api.example.com]"

ROUTES_EXAMPLE_HOSTS = tuple(SUITE + prefix for prefix in (
    "test_ingress_traffic.py::",
    "test_notebooks_on_kind.py::test_lesson_on_kind[04-",
    "test_notebooks_on_kind.py::test_lesson_on_kind[11-",
    "test_notebooks_on_kind.py::test_solution_on_kind[",
    "test_notebooks_on_kind.py::test_reference_gets_full_marks_on_kind[",
    "test_variants_on_kind.py::test_ingress_",
    "test_variants_on_kind.py::test_gateway_",
))
"""Test ids that start so route exercise 04's hosts: the Ingress traffic, lessons 04 and 11,
the solutions' chain and its checks (exercises 04, 11 and 12 route them), and the Ingress and
Gateway variants."""

ONE_GROUP_PER_TEST = (f"{SUITE}test_notebooks_on_kind.py::test_lesson_on_kind[",)
ONE_GROUP_PER_FUNCTION = (f"{SUITE}test_variants_on_kind.py::",)


def kind_group(nodeid: str) -> str:
    """The group of a test under tests/kind/ (see the module's docstring)."""
    if nodeid.startswith(ROUTES_EXAMPLE_HOSTS):
        return EXAMPLE_HOSTS
    if nodeid.startswith(ONE_GROUP_PER_TEST):
        return nodeid
    if nodeid.startswith(ONE_GROUP_PER_FUNCTION):
        return nodeid.split("[")[0]
    return nodeid.split("::")[0]
