"""No Secret value of the graded namespace appears in anything the checker says, for every
exercise and the audit, in every output form, whether a check read the Secret or not.

Each case puts a canary (a Secret's value, in a Secret no check reads) where that exercise's
messages would show it: a value a criterion prints, a name, a label, a TLS field. Each first
proves the placement works, by grading with masking switched off and finding the canary in
the report (so the test can fail); then grades for real and finds it in no output.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets as random_secrets
import subprocess
import sys
from collections.abc import Callable

import pytest

from checker.grading import audit as audit_module
from checker.grading import runner
from checker.grading.audit import audit

from .exercise_helpers import (Docs, app_container, apply_docs, create_secret, find, graded,
                               reference)
from .tls_helpers import create_tls_secret

pytestmark = pytest.mark.cluster

CANARY = f"canary{random_secrets.token_hex(6)}"
"""A Secret's value that is also a valid name, label value and image tag."""


def _label(docs: Docs) -> None:
    find(docs, "Namespace")["metadata"]["labels"]["environment"] = CANARY


def _config_value(docs: Docs) -> None:
    find(docs, "ConfigMap", "api-config")["data"]["LOG_LEVEL"] = CANARY


def _secret_ref(docs: Docs) -> None:
    env = {e["name"]: e for e in app_container(docs)["env"]}
    env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] = CANARY


def _container_name(docs: Docs) -> None:
    app_container(docs)["name"] = CANARY


def _probe_path(docs: Docs) -> None:
    app_container(docs)["readinessProbe"]["httpGet"]["path"] = f"/{CANARY}"


def _tls_secret_name(docs: Docs) -> None:
    find(docs, "Ingress")["spec"]["tls"][0]["secretName"] = CANARY


def _hpa_target(docs: Docs) -> None:
    find(docs, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] = CANARY


def _image_tag(docs: Docs) -> None:
    app_container(docs)["image"] = f"ghcr.io/stefanprodan/podinfo:{CANARY}"


def _database_image(docs: Docs) -> None:
    find(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]["image"] = \
        f"postgres:{CANARY}"


def _budget_selector(docs: Docs) -> None:
    find(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]["app"] = CANARY


def _credential_map_name(docs: Docs) -> None:
    # The audit names the ConfigMap that holds a credential; the map is named by the canary.
    docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": CANARY, "namespace": docs[0]["metadata"]["namespace"]},
                 "data": {"DB_PASSWORD": "not-the-canary"}})


Case = tuple[str, Callable[[Docs], None], tuple[str, ...]]
CASES: dict[str, Case] = {
    # id: (exercise, where the canary goes, what the namespace needs first)
    "namespaces-label": ("namespaces", _label, ()),
    "configmaps-value": ("configmaps", _config_value, ()),
    "secrets-reference-name": ("secrets", _secret_ref, ("db",)),
    "resources-container-name": ("resources", _container_name, ()),
    "probes-path": ("probes", _probe_path, ()),
    "ingress-tls-field": ("ingress", _tls_secret_name, ("tls",)),
    "autoscaling-target-name": ("autoscaling", _hpa_target, ()),
    "rolling-updates-image-tag": ("rolling-updates", _image_tag, ()),
    "storage-image": ("storage", _database_image, ("db",)),
    "disruptions-selector-label": ("disruptions", _budget_selector, ()),
    "disruptions-audit-name": ("disruptions", _credential_map_name, ()),
    "capstone-value": ("capstone", _config_value, ("db", "tls")),
}


def rwk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ), timeout=120)


def spellings(value: str) -> list[str]:
    encoded = base64.b64encode(value.encode()).decode()
    return [value, encoded, encoded.rstrip("=")]


def unmasked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Masking switched off, in this process: what the outputs would say without it."""
    monkeypatch.setattr(runner, "redact", lambda text, secrets: text)
    monkeypatch.setattr(audit_module, "redact", lambda text, secrets: text)


@pytest.mark.parametrize("case", CASES)
def test_a_secret_value_never_appears(sandbox, kubectl, namespace, tmp_path, capfd, caplog,
                                      monkeypatch, case):
    exercise, place, needs = CASES[case]
    # The canary lives in a Secret of its own, which no criterion reads.
    done = kubectl("create", "secret", "generic", "canary", "-n", namespace,
                   f"--from-literal=value={CANARY}")
    assert done.ok, done.output
    if "db" in needs:
        create_secret(kubectl, namespace)
    if "tls" in needs:
        create_tls_secret(kubectl, namespace, tmp_path)
    docs = reference(exercise, namespace)
    place(docs)
    apply_docs(kubectl, docs)
    auditing = case.endswith("-audit-name")
    kc = ("--namespace", namespace, "--kubeconfig", str(sandbox.kubeconfig), "--context",
          sandbox.context)

    with monkeypatch.context() as off:   # the proof that this case can fail
        unmasked(off)
        said = (audit(namespace, sandbox.context, str(sandbox.kubeconfig)).to_text() if auditing
                else graded(sandbox, exercise, namespace).to_text())
        assert CANARY in said, f"the canary is not where {case} puts it:\n{said}"

    caplog.set_level(logging.DEBUG)
    capfd.readouterr()
    report = graded(sandbox, exercise, namespace)
    assert not report.passed
    outputs = {"text": report.to_text(), "colour text": report.to_text(color=True),
               "json": report.to_json(), "html": report.to_html(),
               "notebook repr": repr(report) + report._repr_html_()}
    for output in ("text", "json"):
        done = rwk("check", exercise, *kc, "--output", output)
        assert done.returncode == 1, done.stdout + done.stderr
        outputs[f"rwk check --output {output}"] = done.stdout + done.stderr
    if auditing:
        found = audit(namespace, sandbox.context, str(sandbox.kubeconfig))
        assert any(f.rule == "credential-in-configmap" for f in found.findings), found.to_text()
        outputs["audit"] = found.to_text() + found.to_json() + repr(found)
        for output in ("text", "json"):
            done = rwk("audit", *kc, "--output", output)
            assert done.returncode == 1, done.stdout + done.stderr
            outputs[f"rwk audit --output {output}"] = done.stdout + done.stderr
    captured = capfd.readouterr()
    outputs["printed"] = captured.out + captured.err
    outputs["logs"] = caplog.text
    for output, text in outputs.items():
        for form in spellings(CANARY):
            assert form not in text, f"{output} shows the canary ({form}):\n{text}"
    assert "***" in outputs["text"] + outputs.get("audit", "")
