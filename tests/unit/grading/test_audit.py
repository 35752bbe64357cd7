"""The pitfall audit: each rule on a fake namespace (found, and not found once fixed), the
report's text and JSON, and `rwk audit`'s exit codes with the cluster faked away. What looks
like a credential, which the secrets check asks too, is tested in test_common.py."""

from __future__ import annotations

import copy
import json

import pytest

from checker.grading import audit as audit_module
from checker import cli
from checker.grading.audit import AuditReport, Finding, find_pitfalls
from checker.errors import ClusterUnreachable, UsageError

from . import fakes
from .fakes import FakeState, pdb


# --- the rules on a fake namespace --------------------------------------------------------

GOOD_CONTAINER = fakes.container(
    readinessProbe={"httpGet": {"path": "/readyz", "port": 8080}},
    livenessProbe={"httpGet": {"path": "/healthz", "port": 8080},
                   "initialDelaySeconds": 15, "failureThreshold": 3},
    resources={"limits": {"memory": "512Mi"}})


def workload(kind="Deployment", name="api-server", replicas=3, container=None,
             volumes=None) -> dict:
    return fakes.workload(name, replicas, [container or GOOD_CONTAINER], volumes, kind)


def clean(**extra) -> dict:
    return {"deployment": [workload()], "poddisruptionbudget": [pdb()], **extra}


def rules_found(**kinds) -> list[tuple[str, str, str, str | None]]:
    return [(f.rule, f.kind, f.workload, f.container) for f in find_pitfalls(FakeState(**kinds))]


def test_the_clean_namespace_has_no_finding():
    assert rules_found(**clean()) == []


def without(field: str) -> dict:
    container = copy.deepcopy(GOOD_CONTAINER)
    container.pop(field)
    return container


def test_no_readiness_probe():
    found = rules_found(**clean(deployment=[workload(container=without("readinessProbe"))]))
    assert found == [("no-readiness-probe", "Deployment", "api-server", "api-server")]


def test_jobs_need_no_readiness_probe():
    job = {"metadata": {"name": "migrate"}, "spec": {"template": {
        "metadata": {}, "spec": {"containers": [without("readinessProbe")]}}}}
    assert rules_found(**clean(job=[job])) == []


def test_no_memory_limit_and_a_limit_range_that_fixes_it():
    loads = [workload(container=without("resources"))]
    assert rules_found(**clean(deployment=loads)) == [
        ("no-memory-limit", "Deployment", "api-server", "api-server")]
    ranges = [{"metadata": {"name": "defaults"}, "spec": {"limits": [
        {"type": "Container", "default": {"memory": "512Mi"}}]}}]
    assert rules_found(**clean(deployment=loads, limitrange=ranges)) == []


@pytest.mark.parametrize("probe, fragment", [
    ({"failureThreshold": 1, "initialDelaySeconds": 15}, "failureThreshold is 1"),
    ({"initialDelaySeconds": 2}, "initialDelaySeconds is 2 and no startupProbe"),
    ({}, "initialDelaySeconds is 0"),
])
def test_aggressive_liveness(probe, fragment):
    container = copy.deepcopy(GOOD_CONTAINER)
    container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}, **probe}
    findings = find_pitfalls(FakeState(**clean(deployment=[workload(container=container)])))
    assert [f.rule for f in findings] == ["aggressive-liveness-probe"]
    assert fragment in findings[0].message
    container["startupProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
    if "failureThreshold" not in probe:   # a startupProbe guards a short delay
        assert rules_found(**clean(deployment=[workload(container=container)])) == []


def test_state_in_deployment():
    container = copy.deepcopy(GOOD_CONTAINER)
    container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "pg"}}]
    claim = {"metadata": {"name": "pg"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    loads = [workload(container=container, volumes=volumes)]
    assert rules_found(**clean(deployment=loads, persistentvolumeclaim=[claim])) == [
        ("state-in-deployment", "Deployment", "api-server", "api-server")]
    shared = copy.deepcopy(claim)
    shared["spec"]["accessModes"] = ["ReadWriteMany"]
    assert rules_found(**clean(deployment=loads, persistentvolumeclaim=[shared])) == []
    single = [workload(replicas=1, container=container, volumes=volumes)]
    assert rules_found(deployment=single, persistentvolumeclaim=[claim]) == []


def test_literal_password_env_never_shows_the_value():
    container = copy.deepcopy(GOOD_CONTAINER)
    container["env"] = [{"name": "DB_PASSWORD", "value": "hunter2-plain"},
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "REQUIRE_PASSWORD", "value": "true"}]
    findings = find_pitfalls(FakeState(**clean(deployment=[workload(container=container)])))
    assert [(f.rule, f.container) for f in findings] == [("literal-password-env", "api-server")]
    assert "env DB_PASSWORD" in findings[0].message
    report = AuditReport(namespace="production", context="c", findings=findings)
    assert "hunter2" not in report.to_text() + report.to_json() + repr(report)
    container["env"][0] = {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "db-credentials", "key": "password"}}}
    assert rules_found(**clean(deployment=[workload(container=container)])) == []


def test_credential_in_configmap():
    maps = [{"metadata": {"name": "api-config"}, "data": {"LOG_LEVEL": "info",
                                                          "DB_PASSWORD": "hunter2"}},
            {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "..."}}]
    found = find_pitfalls(FakeState(**clean(configmap=maps)))
    assert [(f.rule, f.kind, f.workload, f.container) for f in found] == [
        ("credential-in-configmap", "ConfigMap", "api-config", None)]
    assert "key DB_PASSWORD" in found[0].message and "hunter2" not in found[0].message
    maps[0]["data"] = {"app.properties": "db.url=jdbc:x\ndb.password=hunter2\n"}
    found = find_pitfalls(FakeState(**clean(configmap=maps)))
    assert "sets db.password" in found[0].message and "hunter2" not in found[0].message
    maps[0]["data"] = {"LOG_LEVEL": "info", "PASSWORD_FILE": "/etc/secrets/password"}
    assert rules_found(**clean(configmap=maps)) == []


def test_no_pdb_and_one_that_allows_nothing():
    assert rules_found(deployment=[workload()]) == [
        ("no-pdb", "Deployment", "api-server", None)]
    assert rules_found(deployment=[workload(replicas=1)]) == []
    assert rules_found(deployment=[workload()],
                       poddisruptionbudget=[pdb(minAvailable=3)]) == [
        ("pdb-allows-no-disruption", "Deployment", "api-server", None)]
    assert rules_found(deployment=[workload()], poddisruptionbudget=[pdb(minAvailable=2)]) == []
    # A budget that selects other pods does not count.
    assert rules_found(deployment=[workload()], poddisruptionbudget=[pdb(app="web")]) == [
        ("no-pdb", "Deployment", "api-server", None)]


def test_an_hpa_makes_a_single_replica_deployment_multi_replica():
    hpa = {"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {
        "kind": "Deployment", "name": "api-server"}, "minReplicas": 2, "maxReplicas": 5}}
    assert rules_found(deployment=[workload(replicas=1)], horizontalpodautoscaler=[hpa]) == [
        ("no-pdb", "Deployment", "api-server", None)]


def test_every_finding_names_its_lesson_section():
    container = {"name": "c", "image": "x", "livenessProbe": {"failureThreshold": 1}}
    findings = find_pitfalls(FakeState(deployment=[workload(container=container)]))
    assert {f.rule for f in findings} == {"no-readiness-probe", "no-memory-limit",
                                           "aggressive-liveness-probe", "no-pdb"}
    for finding in findings:
        assert finding.lesson.startswith("lessons/10-pitfalls.ipynb, '")


# --- report and CLI -----------------------------------------------------------------------

FINDING = Finding("no-readiness-probe", "Deployment", "api-server", "api-server",
                  "no readinessProbe", "lessons/10-pitfalls.ipynb, 'Missing readiness probes'")


def test_report_text_and_json():
    report = AuditReport(namespace="production", context="kwok-rwk", findings=(FINDING,))
    text = report.to_text()
    assert "Deployment api-server, container api-server: no-readiness-probe" in text
    assert "lesson: lessons/10-pitfalls.ipynb, 'Missing readiness probes'" in text
    data = json.loads(report.to_json())
    assert data["clean"] is False and data["namespace"] == "production"
    assert data["findings"] == [{"rule": "no-readiness-probe", "kind": "Deployment",
                                 "workload": "api-server", "container": "api-server",
                                 "message": "no readinessProbe",
                                 "lesson": "lessons/10-pitfalls.ipynb, 'Missing readiness "
                                           "probes'"}]
    assert len(data["rules"]) == len(audit_module.RULES)
    empty = AuditReport(namespace="production", context="kwok-rwk", findings=())
    assert empty.clean and "no pitfall found" in empty.to_text()


ADVICE = Finding("may-run-as-root", "Deployment", "api-server", "api-server",
                 "may run as root", "lessons/13-security.ipynb, 'Who the process is'")


@pytest.mark.parametrize("outcome, code, strict", [
    ((), 0, False), ((FINDING,), 1, False), (UsageError("namespace 'x' does not exist"), 2, False),
    (ClusterUnreachable("cannot reach the cluster"), 3, False),
    ((), 0, True)])
def test_cli_exit_codes(monkeypatch, capsys, outcome, code, strict):
    def fake_audit(namespace=None, context=None, kubeconfig=None, strict=False):
        assert namespace == "team-a" and context == "ctx" and kubeconfig == "kc"
        if isinstance(outcome, Exception):
            raise outcome
        return AuditReport(namespace=namespace, context=context, findings=outcome,
                           strict=strict)

    monkeypatch.setattr(audit_module, "audit", fake_audit)
    assert cli.main(["audit", "--namespace", "team-a", "--context", "ctx",
                     "--kubeconfig", "kc", "--output", "json",
                     *(["--strict"] if strict else [])]) == code
    out, err = capsys.readouterr()
    if isinstance(outcome, Exception):
        assert err.startswith("rwk audit: ") and len(err.strip().splitlines()) == 1
    else:
        assert json.loads(out)["clean"] is (code == 0)


@pytest.mark.parametrize("strict, code", [(False, 0), (True, 1)])
def test_advice_is_shown_apart_and_counts_only_when_strict(monkeypatch, capsys, strict, code):
    def fake_audit(namespace=None, context=None, kubeconfig=None, strict=False):
        return AuditReport(namespace="production", context="ctx", findings=(), advice=(ADVICE,),
                           strict=strict)

    monkeypatch.setattr(audit_module, "audit", fake_audit)
    assert cli.main(["audit", *(["--strict"] if strict else [])]) == code
    text = capsys.readouterr().out
    assert "no pitfall found" in text and "hardening advice" in text
    assert "Deployment api-server, container api-server: may-run-as-root" in text
    assert ("--strict counts it" in text) is not strict
    data = AuditReport(namespace="p", context=None, findings=(), advice=(ADVICE,)).to_dict()
    assert data["clean"] is True and data["findings"] == []
    assert data["advice"][0]["rule"] == "may-run-as-root"
    assert [r["id"] for r in data["advice_rules"]] == [r.id for r in audit_module.ADVICE]


def test_cli_bad_output_exits_2(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["audit", "--output", "yaml"])
    assert done.value.code == 2


def test_each_rule_names_a_section_of_the_pitfalls_lesson_once_it_exists():
    """The lesson is written separately; once it exists, every rule's section must be one
    of its headings (as the hints of the exercises are checked)."""
    from pathlib import Path

    import nbformat

    lesson = Path(__file__).resolve().parents[3] / audit_module.LESSON
    if not lesson.is_file():
        pytest.skip(f"{audit_module.LESSON} is not written yet")
    notebook = nbformat.read(str(lesson), as_version=4)
    headings = {line.lstrip("#").strip() for cell in notebook.cells
                if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("#")}
    missing = [f"{rule.id}: {rule.section!r}" for rule in audit_module.RULES
               if rule.section not in headings]
    assert not missing, missing


class Knowing(FakeState):
    """A FakeState that, like the state view, says the namespace's Secret values."""

    def __init__(self, values: list[str] | Exception, **kinds) -> None:
        super().__init__(**kinds)
        self.values = values

    def secret_values(self) -> list[str]:
        if isinstance(self.values, Exception):
            raise self.values
        return self.values


def test_findings_mask_every_secret_value_of_the_namespace():
    # A Deployment whose name and its container's name are a Secret's value.
    findings = (Finding("no-pdb", "Deployment", "hunter2-name", "hunter2-name",
                        "Deployment hunter2-name has no PodDisruptionBudget", "l"),)
    masked = audit_module.masked(findings, Knowing(["hunter2-name"]))
    assert masked[0].workload == masked[0].container == "***"
    assert masked[0].message == "Deployment *** has no PodDisruptionBudget"
    withheld = audit_module.masked(findings, Knowing(UsageError("refused")))
    assert "hunter2" not in repr(withheld)
    assert withheld[0].workload == "(name withheld)"
    assert withheld[0].message.startswith("message withheld")


# --- advice: lessons 12 and 13 --------------------------------------------------------------

def advice_found(**kinds) -> list[tuple[str, str, str, str | None]]:
    return [(f.rule, f.kind, f.workload, f.container)
            for f in audit_module.find_advice(FakeState(**kinds))]


LOCKED = {"runAsNonRoot": True, "runAsUser": 10001}
SERVICE = {"metadata": {"name": "api-server"}, "spec": {"selector": {"app": "api-server"}}}
POLICY = {"metadata": {"name": "allow-api"},
          "spec": {"podSelector": {"matchLabels": {"app": "api-server"}},
                   "policyTypes": ["Ingress"]}}


def locked(pod_context=None, container_context=None) -> dict:
    item = workload(container=dict(GOOD_CONTAINER, **(
        {"securityContext": container_context} if container_context else {})))
    if pod_context:
        item["spec"]["template"]["spec"]["securityContext"] = pod_context
    return item


@pytest.mark.parametrize("pod_context, container_context, found", [
    (None, None, True),                                     # the image decides
    (LOCKED, None, False),
    (None, {"runAsUser": 10001}, False),                    # a non-zero user alone
    ({"runAsNonRoot": True}, None, False),                  # the kubelet refuses root
    (LOCKED, {"runAsUser": 0}, True),                       # the container's wins
    (LOCKED, {"runAsNonRoot": False, "runAsUser": None}, False),
    ({"runAsNonRoot": True}, {"runAsNonRoot": False}, True),
])
def test_may_run_as_root(pod_context, container_context, found):
    rules = advice_found(deployment=[locked(pod_context, container_context)])
    assert (("may-run-as-root", "Deployment", "api-server", "api-server") in rules) is found


def test_may_run_as_root_says_runs_as_root_for_user_zero():
    found = audit_module.find_advice(FakeState(deployment=[locked({"runAsUser": 0})]))
    assert [f.message for f in found] == ["runs as root: runAsUser is 0"]


def test_no_network_policy_for_pods_a_service_sends_traffic_to():
    served = dict(deployment=[locked(LOCKED)], service=[SERVICE])
    assert advice_found(**served) == [("no-network-policy", "Deployment", "api-server", None)]
    assert advice_found(**served, networkpolicy=[POLICY]) == []
    # A policy for other pods, or for egress only, does not guard these.
    other = copy.deepcopy(POLICY)
    other["spec"]["podSelector"] = {"matchLabels": {"app": "frontend"}}
    egress = copy.deepcopy(POLICY)
    egress["spec"]["policyTypes"] = ["Egress"]
    for policy in (other, egress):
        assert advice_found(**served, networkpolicy=[policy]) != []
    everyone = copy.deepcopy(POLICY)
    everyone["spec"]["podSelector"] = {}
    assert advice_found(**served, networkpolicy=[everyone]) == []
    # No Service sends it traffic: nothing to fence.
    assert advice_found(deployment=[locked(LOCKED)]) == []


def test_ingress_nginx_annotations():
    ingress = {"metadata": {"name": "app-ingress", "annotations": {
        "nginx.ingress.kubernetes.io/ssl-redirect": "true"}}, "spec": {}}
    assert advice_found(ingress=[ingress]) == [
        ("ingress-nginx-annotations", "Ingress", "app-ingress", None)]
    legacy = {"metadata": {"name": "old", "annotations": {
        "kubernetes.io/ingress.class": "nginx"}}, "spec": {}}
    assert advice_found(ingress=[legacy]) == [
        ("ingress-nginx-annotations", "Ingress", "old", None)]
    plain = {"metadata": {"name": "app-ingress"}, "spec": {"ingressClassName": "nginx"}}
    assert advice_found(ingress=[plain]) == []


def test_advice_never_counts_in_the_pitfalls_nor_in_audit_clean():
    namespace = clean(service=[SERVICE])
    assert rules_found(**namespace) == []
    assert {r for r, *_ in advice_found(**namespace)} == {"may-run-as-root",
                                                          "no-network-policy"}
    assert audit_module.CLEAN.check(FakeState(**namespace)) is None


@pytest.mark.parametrize("rule", audit_module.ADVICE, ids=lambda r: r.id)
def test_each_piece_of_advice_names_a_section_of_its_lesson(rule):
    from pathlib import Path

    import nbformat

    notebook = nbformat.read(str(Path(__file__).resolve().parents[3] / rule.notebook),
                             as_version=4)
    headings = {line.lstrip("#").strip() for cell in notebook.cells
                if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("#")}
    assert rule.section in headings, (rule.id, rule.section)
