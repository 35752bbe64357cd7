"""Reference solutions and their broken variants, applied to a live sandbox and graded."""

from __future__ import annotations

import copy
import json
import secrets as random_secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from checker.clusters.base import Kubectl
from checker.clusters.sandbox import Sandbox
from checker.grading.runner import grade
from checker.grading.report import Report

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions" / "manifests"
Docs = list[dict]


def reference(exercise: str, namespace: str) -> Docs:
    """The reference manifests of an exercise, moved from `production` to `namespace`."""
    text = (SOLUTIONS / f"{exercise}.yaml").read_text()
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        meta = doc["metadata"]
        if doc["kind"] == "Namespace":
            meta["name"] = namespace
        elif "namespace" in meta:
            meta["namespace"] = namespace
        for subject in doc.get("subjects") or []:
            subject["namespace"] = namespace
    return docs


def find(docs: Docs, kind: str, name: str | None = None) -> dict:
    return next(d for d in docs if d["kind"] == kind and (name is None or
                                                          d["metadata"]["name"] == name))


def app_container(docs: Docs) -> dict:
    return find(docs, "Deployment", "api-server")["spec"]["template"]["spec"]["containers"][0]


QUOTA_RACE = "Operation cannot be fulfilled on resourcequotas"
"""What the API server answers when, admitting a new object in a namespace with a quota, it
loses the race to update the quota's usage (seen once in CI, on a classroom namespace under
load): the object was not created, and applying again creates it."""


def apply_docs(kubectl: Kubectl, docs: Docs) -> None:
    """kubectl apply, once more after a quota race (nothing else is retried)."""
    for attempt in range(3):
        result = kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))
        if result.ok or QUOTA_RACE not in result.output:
            break
        time.sleep(1)
    assert result.ok, result.output


def create_secret(kubectl: Kubectl, namespace: str, password: str | None = None,
                  username: str = "app", keys: dict[str, str] | None = None,
                  kind: str = "generic", extra: tuple[str, ...] = ()) -> str:
    """db-credentials from the command line, as the task asks; returns the password."""
    password = password or random_secrets.token_urlsafe(18)
    literals = keys if keys is not None else {"username": username, "password": password}
    args = ["create", "secret", kind, "db-credentials", "-n", namespace, *extra,
            *[f"--from-literal={k}={v}" for k, v in literals.items()]]
    result = kubectl(*args)
    assert result.ok, result.output
    return password


def graded(sandbox: Sandbox, exercise: str, namespace: str, wait: float = 0) -> Report:
    return grade(exercise, namespace=namespace, context=sandbox.context,
                 kubeconfig=str(sandbox.kubeconfig), wait=wait, interval=0.5)


def by_id(report: Report) -> dict:
    return {r.id: r for r in report.results}


def variant(mutate: Callable[[Docs], None]) -> Callable[[Docs], Docs]:
    def apply(docs: Docs) -> Docs:
        docs = copy.deepcopy(docs)
        mutate(docs)
        return docs
    return apply


def kubeconfig_with(sandbox: Sandbox, path: Path, user: dict) -> Path:
    """The sandbox's kubeconfig with its user's credentials replaced by `user`."""
    raw = sandbox.kubectl()("config", "view", "--raw", "--minify", "-o", "json")
    assert raw.ok, raw.output
    conf = json.loads(raw.stdout)
    conf["users"][0]["user"] = user
    path.write_text(yaml.safe_dump(conf))
    return path


@contextmanager
def read_only_kubeconfig(sandbox: Sandbox, namespace: str, path: Path,
                         review_access: bool = True) -> Iterator[Path]:
    """A kubeconfig for a ServiceAccount that may only get, list and watch everything (and,
    with `review_access`, create SubjectAccessReviews); its cluster role goes afterwards."""
    kubectl = sandbox.kubectl()
    role = f"reader-{namespace}"
    review = ("""
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]""" if review_access else "")
    applied = kubectl("apply", "-f", "-", input=f"""
apiVersion: v1
kind: ServiceAccount
metadata: {{name: reader, namespace: {namespace}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {role}}}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["get", "list", "watch"]{review}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {role}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: ServiceAccount, name: reader, namespace: {namespace}}}]
""")
    assert applied.ok, applied.output
    try:
        token = kubectl("create", "token", "reader", "-n", namespace)
        assert token.ok, token.output
        yield kubeconfig_with(sandbox, path, {"token": token.stdout.strip()})
    finally:
        kubectl("delete", "clusterrolebinding,clusterrole", role)


def passes_read_only(sandbox: Sandbox, exercise: str, namespace: str, path: Path) -> None:
    """The exercise, solved in `namespace`, passes again when graded with credentials that
    may only read (and review access): every read path of its checks, refused no write."""
    with read_only_kubeconfig(sandbox, namespace, path / "read-only") as config:
        report = grade(exercise, namespace=namespace, kubeconfig=str(config))
        assert report.passed, report.to_text()
