"""`capstone`: the whole production-ready api-server in one namespace passes every criterion
of every part; a namespace with only some parts done earns partial credit; a mistake in one
part fails that part's criterion, under its prefixed id, and nothing else."""

from __future__ import annotations

import subprocess

import pytest

from checker.grading import exercises

from .exercise_helpers import (apply_docs, by_id, create_secret, find, graded, passes_read_only,
                               reference)
from .grading_helpers import settled
from .rollout_helpers import fast, rollout

pytestmark = [pytest.mark.cluster, pytest.mark.cost(26)]   # about 52 s for the module

METRICS_WAIT = 240   # 150 s was enough before CI ran the kind suite beside it
"""metrics-server has figures for new pods after about a minute; the HPA then syncs."""


def tls_secret(kubectl, namespace: str, tmp_path) -> None:
    """tls-cert for both hosts, made with openssl as the manifest's header shows."""
    key, cert = tmp_path / "tls.key", tmp_path / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "90",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=api.example.com",
                    "-addext", "subjectAltName=DNS:api.example.com,DNS:app.example.com"],
                   check=True, capture_output=True)
    done = kubectl("create", "secret", "tls", "tls-cert", "-n", namespace, f"--cert={cert}",
                   f"--key={key}")
    assert done.ok, done.output


def test_reference_passes_every_part_then_one_mistake_fails_its_criterion(
        sandbox, kubectl, namespace, tmp_path):
    create_secret(kubectl, namespace)
    tls_secret(kubectl, namespace, tmp_path)
    docs = reference("capstone", namespace)
    apply_docs(kubectl, docs)
    report = settled(sandbox, "capstone", namespace, timeout=METRICS_WAIT)
    assert report.passed and report.score == report.max_score, report.to_text()
    parts = {result.id.split("/")[0] for result in report.results}
    assert parts == {e.name for e in exercises.EXERCISES if e.capstone}
    passes_read_only(sandbox, "capstone", namespace, tmp_path)

    # A budget that allows nothing: the disruptions part says so, and the audit with it.
    find(docs, "PodDisruptionBudget", "api-server-pdb")["spec"] = {
        "minAvailable": "100%", "selector": {"matchLabels": {"app": "api-server"}}}
    apply_docs(kubectl, docs)
    report = graded(sandbox, "capstone", namespace)
    failing = {r.id: r.message for r in report.results if not r.passed}
    assert set(failing) == {"disruptions/pdb-allows-one", "disruptions/audit-clean"}, failing
    assert "minAvailable 100% with" in failing["disruptions/pdb-allows-one"]
    assert "allows no disruption" in failing["disruptions/pdb-allows-one"]
    assert 0 < report.score < report.max_score


def test_partial_credit_for_the_parts_that_are_done(sandbox, kubectl, namespace):
    create_secret(kubectl, namespace)
    apply_docs(kubectl, fast(reference("storage", namespace)))
    rollout(kubectl, namespace, target="statefulset/postgres")
    report = graded(sandbox, "capstone", namespace)
    results = by_id(report)
    storage = [r for r in report.results if r.id.startswith("storage/")]
    assert storage and all(r.passed for r in storage), report.to_text()
    assert not results["rolling-updates/rollout-strategy"].passed
    assert "no Deployment 'api-server'" in results["rolling-updates/rollout-strategy"].message
    assert report.score == sum(r.points for r in report.results if r.passed)
    assert 0 < report.score < report.max_score
    assert not report.passed
    assert [c["id"] for c in report.to_dict()["criteria"]] == \
        [c.id for c in exercises.criteria("capstone")]
