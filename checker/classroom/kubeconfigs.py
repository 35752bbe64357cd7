"""The students' kubeconfig files: `DIR/<file-id>.kubeconfig`, mode 0600, one context whose
namespace is the student's and whose user is a token of the student's ServiceAccount.

A file is rewritten only when it would change: a token that belongs to the ServiceAccount as
it is now (its uid) and has at least half its life left is kept (`reusable_token`).
The token is never printed: only the file holds it.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import yaml

from ..gradebook._files import write_text
from ..gradebook.model import Student
from ..kube.writer import Endpoint, token_claims
from .names import username

CLUSTER = "classroom"
"""The cluster's name inside every student's kubeconfig."""


def path_of(directory: str | os.PathLike, student: Student) -> Path:
    return Path(directory) / f"{student.file_id}.kubeconfig"


def build(student: Student, endpoint: Endpoint, token: str, server: str | None = None) -> dict:
    """A kubeconfig for `student`: the instructor's CA, `server` or the instructor's
    address, the student's namespace as the context's default, the token as the user."""
    cluster: dict = {"server": server or endpoint.server}
    if endpoint.insecure:
        cluster["insecure-skip-tls-verify"] = True
    elif endpoint.ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(endpoint.ca_pem).decode()
    if endpoint.tls_server_name:
        cluster["tls-server-name"] = endpoint.tls_server_name
    name = student.file_id
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": CLUSTER, "cluster": cluster}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": CLUSTER, "user": name,
                                                    "namespace": student.namespace}}],
            "preferences": {}}


def read(path: Path) -> dict | None:
    """The kubeconfig in `path`, or None when there is none or it is not one."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return loaded if isinstance(loaded, dict) else None


def made_for(config: dict | None, student: Student) -> bool:
    """Whether `config` is the file `build` makes for `student` (any token, any server):
    what `rwk classroom delete` may remove. A file someone has since changed is not."""
    if not config:
        return False
    try:
        context = config["contexts"][0]
        return (config.get("current-context") == student.file_id
                and context["name"] == student.file_id
                and context["context"].get("cluster") == CLUSTER
                and context["context"].get("namespace") == student.namespace
                and [user["name"] for user in config["users"]] == [student.file_id])
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def token_of(config: dict | None) -> str | None:
    try:
        return config["users"][0]["user"]["token"] if config else None
    except (KeyError, IndexError, TypeError):
        return None


def reusable_token(existing: dict | None, wanted: dict, student: Student, account_uid: str,
                   seconds: int, now: float | None = None) -> str | None:
    """The token of `existing` when the file can stay as it is: everything but the token as
    `wanted` (built with any token), the token the student's ServiceAccount's (same uid),
    and at least half of `seconds` left (or half of its own life, when the cluster gave it
    less than `seconds`). None when a new token is needed."""
    token = token_of(existing)
    if not token or _without_token(existing) != _without_token(wanted):
        return None
    claims = token_claims(token)
    account = (claims.get("kubernetes.io") or {}).get("serviceaccount") or {}
    if claims.get("sub") != username(student) or account.get("uid") != account_uid:
        return None
    now = time.time() if now is None else now
    try:
        expires, issued = float(claims["exp"]), float(claims["iat"])
    except (KeyError, TypeError, ValueError):
        return None
    lifetime = expires - issued
    enough = min(seconds, lifetime) / 2
    return token if expires - now >= enough and expires > now else None


def _without_token(config: dict) -> dict:
    copy = yaml.safe_load(yaml.safe_dump(config))
    for user in copy.get("users") or []:
        (user.get("user") or {}).pop("token", None)
    return copy


def write(path: Path, config: dict) -> None:
    """Write the kubeconfig atomically, readable by its owner only (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_text(path, yaml.safe_dump(config, sort_keys=False))
