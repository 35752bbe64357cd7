"""Exercise `secrets`: db-credentials, referenced by key, and no password in plain sight.

No value of a Secret is ever put in a message: checks say which key is wrong, never what
it holds.
"""

from __future__ import annotations

from ...kube.client import decode
from ..model import Criterion, Failure
from ..state import ClusterState
from .common import (APP, all_containers, container, deployment, fail_on, listing,
                     literal_credential, near, pod_templates, require_secret)

LESSON = "lessons/03-secrets.ipynb"
NAME = "db-credentials"
ENV_KEYS = {"DB_USERNAME": "username", "DB_PASSWORD": "password"}


def _secret(state: ClusterState) -> dict:
    return require_secret(state, NAME, "a pod")


def secret_exists(state: ClusterState) -> None:
    kind = _secret(state).get("type", "Opaque")
    if kind != "Opaque":
        raise Failure(f"Secret {NAME} has type {kind!r}, expected 'Opaque'")


def secret_keys(state: ClusterState) -> None:
    secret = _secret(state)
    keys = set(secret.get("data") or {})
    problems = []
    for key in ("username", "password"):
        if key not in keys:
            problems.append(f"key {key!r} is missing{near(key, keys - {'username', 'password'})}")
        elif not decode(secret, key):
            problems.append(f"key {key!r} is empty")
    if problems:
        fail_on(problems, f"Secret {NAME}", f" (its keys: {listing(keys)})")
    if decode(secret, "username") != "app":
        raise Failure(f"Secret {NAME}: key 'username' does not decode to 'app' (remember "
                      "`echo -n`: a trailing newline counts; the value is not shown here)")


def env_refs(state: ClusterState) -> None:
    env = {e.get("name"): e for e in container(deployment(state)).get("env") or []}
    problems = []
    for var, key in ENV_KEYS.items():
        entry = env.get(var)
        if entry is None:
            problems.append(f"env {var} is missing{near(var, env)}")
            continue
        if "value" in entry and "valueFrom" not in entry:
            problems.append(f"env {var} is a literal value; take it from the Secret with "
                            "valueFrom.secretKeyRef")
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if not ref:
            problems.append(f"env {var} does not use valueFrom.secretKeyRef")
        elif ref.get("name") != NAME:
            problems.append(f"env {var} takes Secret {ref.get('name')!r}, expected {NAME!r}")
        elif ref.get("key") != key:
            problems.append(f"env {var} takes key {ref.get('key')!r} of Secret {NAME}, "
                            f"expected key {key!r}")
    fail_on(problems, f"container {APP}")


def no_literal_passwords(state: ClusterState) -> None:
    found = [f"{kind} {item['metadata']['name']}, container {c.get('name')}: env {e['name']}"
             for kind, item, template in pod_templates(state)
             for c in all_containers(template["spec"])
             for e in c.get("env") or [] if literal_credential(e)]
    fail_on(found, "a password-like value is written in plain text",
            " (the value is not shown here)")


CRITERIA = (
    Criterion("secret-exists", "Secret db-credentials exists in the namespace, type Opaque", 2,
              f"`kubectl create secret generic {NAME} -n NS --from-literal=username=app "
              f"--from-literal=password=...`; see {LESSON}, 'Creating a Secret'",
              secret_exists),
    Criterion("secret-keys", "db-credentials has non-empty username (app) and password", 2,
              f"the keys are exactly username and password; see {LESSON}, "
              "'Creating a Secret'", secret_keys),
    Criterion("secret-env-refs", "DB_USERNAME and DB_PASSWORD come from db-credentials by "
              "secretKeyRef", 2, f"env: - name: DB_PASSWORD, valueFrom: secretKeyRef: "
              f"{{name: {NAME}, key: password}}; see {LESSON}, 'Using a Secret in a pod'",
              env_refs),
    Criterion("no-literal-passwords", "No container in the namespace carries a password as a "
              "literal env value", 2, f"move the value into a Secret and reference it; see "
              f"{LESSON}, 'Pitfalls'", no_literal_passwords),
)
