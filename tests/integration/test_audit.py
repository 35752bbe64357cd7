"""`rwk audit` on a live namespace: each rule finds its pitfall in a manifest made to have it,
naming workload, container and rule, and finds nothing once it is fixed; the CLI's output
and exit codes, run as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from checker.grading.audit import audit

from .exercise_helpers import apply_docs, find, reference

pytestmark = pytest.mark.cluster

SECRET_LOOKING = "hunter2-plain-text"


def run_audit(sandbox, namespace: str):
    return audit(namespace=namespace, context=sandbox.context,
                 kubeconfig=str(sandbox.kubeconfig))


def apply_in(kubectl, namespace: str, docs) -> None:
    """Apply, with the objects a case added put in the test's namespace too."""
    for doc in docs:
        doc["metadata"].setdefault("namespace", namespace)
    apply_docs(kubectl, docs)


def places(report, rule: str) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.workload, f.container) for f in report.findings if f.rule == rule]


def clean_docs(namespace: str) -> list[dict]:
    """The disruptions reference: api-server with probes, limits and its budget."""
    return reference("disruptions", namespace)


def app(docs) -> dict:
    return find(docs, "Deployment", "api-server")["spec"]["template"]["spec"]["containers"][0]


def claim(name: str, mode: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": [mode], "resources": {"requests": {"storage": "1Gi"}}}}


def with_claim(mode: str):
    def mutate(docs):
        docs.append(claim("shared-data", mode))
        pod = find(docs, "Deployment", "api-server")["spec"]["template"]["spec"]
        pod["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "shared-data"}}]
        app(docs)["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return mutate


def literal_password(docs):
    app(docs)["env"] = [{"name": "DB_PASSWORD", "value": SECRET_LOOKING}]


def password_by_reference(docs):
    app(docs)["env"] = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "db-credentials", "key": "password"}}}]


def configmap(data: dict):
    def mutate(docs):
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"},
                     "data": data})
    return mutate


def liveness(**fields):
    def mutate(docs):
        app(docs)["livenessProbe"].update(fields)
    return mutate


def budget(**spec):
    def mutate(docs):
        find(docs, "PodDisruptionBudget")["spec"] = {
            "selector": {"matchLabels": {"app": "api-server"}}, **spec}
    return mutate


def no_budget(docs):
    docs.remove(find(docs, "PodDisruptionBudget"))


def limit_range_default(docs):
    app(docs)["resources"]["limits"].pop("memory")
    docs.append({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
                 "spec": {"limits": [{"type": "Container", "default": {"memory": "512Mi"},
                                      "defaultRequest": {"memory": "128Mi"}}]}})


def startup_probe(docs):
    liveness(initialDelaySeconds=0)(docs)
    app(docs)["startupProbe"] = {"httpGet": {"path": "/healthz", "port": 8080},
                                 "failureThreshold": 30, "periodSeconds": 2}


DEPLOYMENT = ("Deployment", "api-server", "api-server")
WHOLE_DEPLOYMENT = ("Deployment", "api-server", None)

# rule -> (the pitfall, where it is found, the message's words, the fix)
CASES = {
    "no-readiness-probe": (lambda d: app(d).pop("readinessProbe"), DEPLOYMENT,
                           "no readinessProbe", None),
    "no-memory-limit": (lambda d: app(d)["resources"]["limits"].pop("memory"), DEPLOYMENT,
                        "resources.limits.memory is not set", limit_range_default),
    "aggressive-liveness-probe": (liveness(failureThreshold=1), DEPLOYMENT,
                                  "livenessProbe.failureThreshold is 1", None),
    "state-in-deployment": (with_claim("ReadWriteOnce"), DEPLOYMENT,
                            "3 replicas mount claim shared-data (ReadWriteOnce)",
                            with_claim("ReadWriteMany")),
    "literal-password-env": (literal_password, DEPLOYMENT, "env DB_PASSWORD is a literal value",
                             password_by_reference),
    "credential-in-configmap": (configmap({"LOG_LEVEL": "info", "DB_PASSWORD": SECRET_LOOKING}),
                                ("ConfigMap", "api-config", None), "key DB_PASSWORD looks "
                                "like a credential", configmap({"LOG_LEVEL": "info"})),
    "no-pdb": (no_budget, WHOLE_DEPLOYMENT, "3 replicas and no PodDisruptionBudget", None),
    "pdb-allows-no-disruption": (budget(minAvailable=3), WHOLE_DEPLOYMENT,
                                 "PodDisruptionBudget api-server-pdb (minAvailable 3) allows "
                                 "no disruption", budget(minAvailable=2)),
}


def test_the_clean_namespace_has_no_finding(sandbox, kubectl, namespace):
    apply_docs(kubectl, clean_docs(namespace))
    report = run_audit(sandbox, namespace)
    assert report.clean, report.to_text()


@pytest.mark.parametrize("rule", CASES)
def test_rule_finds_its_pitfall_and_not_the_fix(sandbox, kubectl, namespace, rule):
    mutate, where, words, fix = CASES[rule]
    docs = clean_docs(namespace)
    mutate(docs)
    apply_in(kubectl, namespace, docs)
    report = run_audit(sandbox, namespace)
    assert [f.rule for f in report.findings] == [rule], report.to_text()
    assert places(report, rule) == [where]
    finding = report.findings[0]
    assert words in finding.message, finding.message
    assert finding.lesson.startswith("lessons/10-pitfalls.ipynb, '")
    assert SECRET_LOOKING not in report.to_text() + report.to_json()
    # The fix: the reference itself, or the fix this pitfall is taught with.
    fixed = clean_docs(namespace)
    if fix is not None:
        fix(fixed)
    if rule == "state-in-deployment":   # a claim's access modes cannot change in place
        kubectl("delete", "-n", namespace, "deployment/api-server", "pvc/shared-data",
                "--wait=true")
    apply_in(kubectl, namespace, fixed)
    after = run_audit(sandbox, namespace)
    assert after.clean, after.to_text()


def test_a_startup_probe_guards_a_short_liveness_delay(sandbox, kubectl, namespace):
    docs = clean_docs(namespace)
    liveness(initialDelaySeconds=0)(docs)
    apply_docs(kubectl, docs)
    report = run_audit(sandbox, namespace)
    assert places(report, "aggressive-liveness-probe") == [DEPLOYMENT]
    # The API server serves a 0 as a field left out, so the message cannot tell them apart.
    assert "initialDelaySeconds is 0 (the default) and no startupProbe guards it" in \
        report.findings[0].message
    docs = clean_docs(namespace)
    startup_probe(docs)
    apply_docs(kubectl, docs)
    assert run_audit(sandbox, namespace).clean


def test_every_kind_of_workload_is_read(sandbox, kubectl, namespace):
    """A StatefulSet, a DaemonSet, a CronJob and a bare pod are audited like a Deployment."""
    container = {"name": "worker", "image": "busybox:1.36", "command": ["sleep", "3600"]}
    template = {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [container]}}
    apply_docs(kubectl, [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {
            "name": "db", "namespace": namespace}, "spec": {
            "serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "w"}},
            "template": template}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {
            "name": "agent", "namespace": namespace}, "spec": {
            "selector": {"matchLabels": {"app": "w"}}, "template": template}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {
            "name": "nightly", "namespace": namespace}, "spec": {
            "schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [container]}}}}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug",
                                                        "namespace": namespace},
         "spec": {"containers": [container]}},
    ])
    report = run_audit(sandbox, namespace)
    assert places(report, "no-memory-limit") == [
        ("CronJob", "nightly", "worker"), ("DaemonSet", "agent", "worker"),
        ("Pod", "debug", "worker"), ("StatefulSet", "db", "worker")]
    # A batch job serves no traffic: it needs no readiness probe.
    assert places(report, "no-readiness-probe") == [
        ("DaemonSet", "agent", "worker"), ("Pod", "debug", "worker"),
        ("StatefulSet", "db", "worker")]


# --- the command line ---------------------------------------------------------------------

def rwk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env={**os.environ}, timeout=120)


def test_cli_exit_codes_and_outputs(sandbox, kubectl, namespace, tmp_path):
    target = ["--namespace", namespace, "--context", sandbox.context,
              "--kubeconfig", str(sandbox.kubeconfig)]
    apply_docs(kubectl, clean_docs(namespace))
    done = rwk("audit", *target)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no pitfall found" in done.stdout
    assert "Deployment api-server, container api-server: may-run-as-root" in done.stdout
    done = rwk("audit", *target, "--strict")
    assert done.returncode == 1 and "hardening advice (counted: --strict)" in done.stdout, \
        done.stdout + done.stderr

    docs = clean_docs(namespace)
    literal_password(docs)
    no_budget(docs)
    apply_docs(kubectl, docs)
    assert kubectl("delete", "pdb", "api-server-pdb", "-n", namespace).ok
    done = rwk("audit", *target)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Deployment api-server, container api-server: literal-password-env" in done.stdout
    assert "Deployment api-server: no-pdb" in done.stdout
    assert "lesson: lessons/10-pitfalls.ipynb, 'Secrets in Git'" in done.stdout
    done = rwk("audit", *target, "--output", "json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["namespace"] == namespace and data["clean"] is False
    assert {(f["rule"], f["workload"], f["container"]) for f in data["findings"]} == {
        ("literal-password-env", "api-server", "api-server"), ("no-pdb", "api-server", None)}
    assert SECRET_LOOKING not in done.stdout + done.stderr

    done = rwk("audit", "--namespace", "no-such-namespace", *target[2:])
    assert done.returncode == 2 and "namespace 'no-such-namespace' does not exist" in done.stderr
    done = rwk("audit", *target, "--output", "yaml")
    assert done.returncode == 2
    done = rwk("audit", *target[:2], "--context", "no-such-context", *target[4:])
    assert done.returncode == 2 and "no such context" in done.stderr

    unreachable = tmp_path / "unreachable"
    unreachable.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "gone", "user": {"token": "x"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}]}))
    done = rwk("audit", "--kubeconfig", str(unreachable))
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_audit_and_the_new_exercises_need_only_read_access(sandbox, kubectl, namespace,
                                                           tmp_path):
    """The audit and the rolling-updates, storage, disruptions and capstone checks read;
    under credentials that may only get, list and review access, they all still work."""
    from checker.grading.runner import grade

    from .exercise_helpers import create_secret, read_only_kubeconfig

    create_secret(kubectl, namespace)
    apply_docs(kubectl, clean_docs(namespace) + reference("storage", namespace))
    # Without SubjectAccessReview rights: none of these checks asks one.
    with read_only_kubeconfig(sandbox, namespace, tmp_path / "reader",
                              review_access=False) as config:
        report = audit(namespace=namespace, kubeconfig=str(config))
        assert report.clean, report.to_text()
        for exercise in ("rolling-updates", "storage", "disruptions", "capstone"):
            graded = grade(exercise, namespace=namespace, kubeconfig=str(config))
            errors = [r.message for r in graded.results if "unexpected error" in r.message]
            assert not errors, errors
        for exercise in ("storage", "disruptions"):
            assert grade(exercise, namespace=namespace, kubeconfig=str(config),
                         wait=60, interval=0.5).passed


# --- advice: lessons 12 and 13, shown apart, counted only with --strict --------------------

def advice(report, rule: str) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.workload, f.container) for f in report.advice if f.rule == rule]


def test_the_clean_reference_gets_advice_and_stays_clean(sandbox, kubectl, namespace):
    """The disruptions reference predates lesson 13: clean as a pitfall audit, with the
    advice of a container that may run as root and pods served with no NetworkPolicy."""
    apply_in(kubectl, namespace, clean_docs(namespace))
    report = run_audit(sandbox, namespace)
    assert report.clean and report.findings == (), report.to_text()
    assert advice(report, "may-run-as-root") == [("Deployment", "api-server", "api-server")]
    assert advice(report, "no-network-policy") == [("Deployment", "api-server", None)]
    strict = audit(namespace=namespace, context=sandbox.context,
                   kubeconfig=str(sandbox.kubeconfig), strict=True)
    assert not strict.clean


def test_the_security_reference_leaves_no_advice(sandbox, kubectl, namespace):
    apply_in(kubectl, namespace, reference("security", namespace))
    report = run_audit(sandbox, namespace)
    assert report.advice == (), report.to_text()


def test_the_ingress_reference_is_told_its_annotation_is_ingress_nginx_s(sandbox, kubectl,
                                                                         namespace):
    apply_in(kubectl, namespace, [find(reference("ingress", namespace), "Ingress")])
    report = run_audit(sandbox, namespace)
    assert advice(report, "ingress-nginx-annotations") == [("Ingress", "app-ingress", None)]
    assert "nginx.ingress.kubernetes.io/ssl-redirect" in report.advice[0].message
