"""How the kind suite is spread over workers (tests/kind/groups.py) and how they share its one
cluster (tests/kind/shared.py): the grouping against the notebooks as they are, and the
creation under a lock from several processes at once."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from tests.conftest import group_of
from tests.kind import shared
from tests.kind.groups import EXAMPLE_HOSTS, LIFECYCLE, kind_group

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("api.example.com", "app.example.com")


def _routes_the_hosts(notebook: Path) -> bool:
    cells = json.loads(notebook.read_text())["cells"]
    return any(host in "".join(c["source"]) for c in cells if c["cell_type"] == "code"
               for host in HOSTS)


@pytest.mark.parametrize("notebook", sorted((ROOT / "lessons").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_a_lesson_routing_exercise_04s_hosts_takes_turns_with_the_others(notebook):
    nodeid = f"tests/kind/test_notebooks_on_kind.py::test_lesson_on_kind[{notebook.stem}]"
    if _routes_the_hosts(notebook):
        assert kind_group(nodeid) == EXAMPLE_HOSTS
    else:
        assert kind_group(nodeid) == nodeid


def test_the_solutions_chain_and_the_traffic_tests_take_turns():
    for nodeid in ("tests/kind/test_notebooks_on_kind.py::test_solution_on_kind[01-namespaces]",
                   "tests/kind/test_notebooks_on_kind.py::test_reference_gets_full_marks_on_kind"
                   "[security]",
                   "tests/kind/test_ingress_traffic.py::test_a_host_with_no_rule_gets_a_404",
                   "tests/kind/test_variants_on_kind.py::test_gateway_variant[x]",
                   "tests/kind/test_variants_on_kind.py::test_ingress_certificate_variant[y]"):
        assert group_of(nodeid) == EXAMPLE_HOSTS, nodeid


def test_other_kind_tests_run_apart_by_module_or_variant_function():
    assert group_of("tests/kind/test_real_containers.py::test_logs") == \
        "tests/kind/test_real_containers.py"
    assert group_of("tests/kind/test_variants_on_kind.py::test_probes_variant[a]") == \
        group_of("tests/kind/test_variants_on_kind.py::test_probes_variant[b]") == \
        "tests/kind/test_variants_on_kind.py::test_probes_variant"
    assert group_of(f"{LIFECYCLE}::test_down_deletes_the_cluster") == LIFECYCLE


def _create_once(folder: str, calls: str) -> str:
    import os
    os.environ[shared.STATE_ENV] = folder

    def create(_kind):
        with open(calls, "a") as record:
            record.write("created\n")
        time.sleep(0.5)

    return shared.created(create)[1]


def test_workers_starting_together_create_the_cluster_once(tmp_path, monkeypatch):
    monkeypatch.setenv(shared.STATE_ENV, str(tmp_path))
    calls = tmp_path / "calls"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        states = pool.starmap(_create_once, [(str(tmp_path), str(calls))] * 3)
    assert states == [shared.UP] * 3
    assert calls.read_text() == "created\n"


def test_a_failed_creation_is_not_tried_again_and_its_reason_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv(shared.STATE_ENV, str(tmp_path))

    def fails(_kind):
        raise RuntimeError("host port 80 is in use")

    with pytest.raises(RuntimeError):
        shared.created(fails)
    _, state = shared.created(lambda _kind: pytest.fail("created a second time"))
    assert state == "RuntimeError: host port 80 is in use"


def test_finished_tests_are_read_back_from_every_worker(tmp_path, monkeypatch):
    monkeypatch.setenv(shared.STATE_ENV, str(tmp_path))
    assert shared.finished() == set()
    shared.record_finished("tests/kind/a.py::t")
    shared.record_finished("tests/kind/b.py::t[x]")
    assert shared.finished() == {"tests/kind/a.py::t", "tests/kind/b.py::t[x]"}


def test_the_lifecycle_waits_for_the_other_kind_tests_and_names_the_late_ones(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv(shared.STATE_ENV, str(tmp_path))
    ids = ["tests/kind/a.py::t", "tests/kind/b.py::u", f"{LIFECYCLE}::test_down",
           "tests/unit/x.py::v"]
    said: list[str] = []
    shared.record_finished("tests/kind/a.py::t")
    with pytest.raises(pytest.fail.Exception, match=r"1 kind tests did not finish.*b.py::u"):
        shared.others_finished(ids, "tests/kind/", LIFECYCLE, 0.2, said.append, poll=0.05)
    assert said == [f"waiting for 1 other kind tests to finish before {LIFECYCLE}"]
    shared.record_finished("tests/kind/b.py::u")
    shared.others_finished(ids, "tests/kind/", LIFECYCLE, 0.2, said.append, poll=0.05)


def test_the_nodes_weight_is_raised_for_the_session_and_put_back(tmp_path, monkeypatch):
    monkeypatch.setenv(shared.STATE_ENV, str(tmp_path / "session"))
    (tmp_path / "session").mkdir()
    shares = tmp_path / "cpu.shares"
    shares.write_text("1024\n")
    said: list[str] = []
    shared.favour_the_nodes(said.append, shares)
    shared.favour_the_nodes(said.append, shares)      # a second worker keeps the first's record
    assert shares.read_text() == str(shared.NODES_WEIGHT)
    shared.close_session(said.append, shares)
    assert shares.read_text() == "1024"
    assert not (tmp_path / "session").exists()


def test_without_a_writable_cgroup_the_nodes_keep_their_weight_and_it_is_said(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv(shared.STATE_ENV, str(tmp_path))
    said: list[str] = []
    shared.favour_the_nodes(said.append, tmp_path / "no-such-cgroup" / "cpu.shares")
    assert said and "keep the default CPU weight" in said[0], said
