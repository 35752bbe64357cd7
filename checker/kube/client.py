"""Reading the live cluster: the only module that imports the `kubernetes` client.

Objects come back as plain dicts in the API's own JSON shape (camelCase), so checks read
`deployment["spec"]["template"]` exactly as `kubectl get -o json` shows it. Every call is a
read, except SubjectAccessReview, which asks the API server a question and changes nothing.

A request the API server refuses with 403 raises `AccessDenied`, naming the right that is
missing (the runner fails that one criterion); only an unreachable server or credentials it
does not accept (401) raise `ClusterUnreachable`, which stops the run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AccessDenied, ClusterUnreachable, UsageError
from .kinds import KINDS

try:  # the import is the slow part of `rwk check`; keep it in one place
    import urllib3
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException
except ImportError as error:  # pragma: no cover - the package depends on it
    raise ImportError("the `kubernetes` Python client is missing: pip install "
                      "real-world-kubernetes") from error


class Cluster:
    """A connection to one kube context, reading objects as the API serves them."""

    def __init__(self, context: str | None = None, kubeconfig: str | os.PathLike | None = None,
                 timeout: float = 10) -> None:
        if kubeconfig is not None and not Path(kubeconfig).is_file():
            raise UsageError(f"--kubeconfig {kubeconfig}: no such file")
        self.timeout = timeout
        self.context = context or _current_context(kubeconfig)
        if context:
            known = _context_names(kubeconfig)
            if known is not None and context not in known:
                raise UsageError(f"--context {context}: no such context in "
                                 f"{_where(kubeconfig)}; contexts: {', '.join(known) or 'none'}")
        try:
            self._api = config.new_client_from_config(
                config_file=str(kubeconfig) if kubeconfig else None, context=context,
                persist_config=False)
        except ConfigException as error:
            text = " ".join(str(error).split())
            raise ClusterUnreachable(
                f"cannot load a kubeconfig ({_where(kubeconfig)}): {text}. Run `rwk up` to "
                "start the course cluster, or point --kubeconfig at a working file.") from None
        except Exception as error:  # a kubeconfig can be broken in many ways; all say so
            detail = " ".join(str(error).split())   # one line, whatever the parser said
            raise ClusterUnreachable(f"the kubeconfig ({_where(kubeconfig)}) is broken: "
                                     f"{type(error).__name__}: {detail}") from None
        self._api.configuration.retries = False
        self._sent = 0
        self._counting = threading.Lock()   # a class's grading sends from several threads

    @property
    def requests(self) -> int:
        """How many requests this connection has sent (for benchmarks and tests)."""
        return self._sent

    # --- reads --------------------------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """One object, or None when it does not exist."""
        return self._request("GET", self._path(kind, namespace) + "/" + name, missing_ok=True,
                             right=self._right("get", kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        """Objects of a kind, in one namespace (or all, for namespace None)."""
        query = []
        if selector:
            query.append(("labelSelector", selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        answer = self._request("GET", self._path(kind, namespace), query=query,
                               right=self._right("list", kind, namespace))
        return (answer or {}).get("items", [])

    def can_i(self, user: str, groups: list[str], verb: str, resource: str, group: str = "",
              namespace: str | None = None) -> bool:
        """SubjectAccessReview: may `user` do `verb` on `resource`? (Writes nothing.)"""
        attributes: dict[str, Any] = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attributes["namespace"] = namespace
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                  "spec": {"user": user, "groups": groups, "resourceAttributes": attributes}}
        answer = self._request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                               body=review, right=_Right(
                                   "create", "subjectaccessreviews.authorization.k8s.io"))
        return bool((answer or {}).get("status", {}).get("allowed"))

    def server_version(self) -> str:
        return (self._request("GET", "/version", right=_Right("get", "/version"))
                or {}).get("gitVersion", "?")

    # --- plumbing -----------------------------------------------------------------------

    @staticmethod
    def _path(kind: str, namespace: str | None) -> str:
        return KINDS[kind].path(namespace)

    @staticmethod
    def _right(verb: str, kind: str, namespace: str | None, name: str | None = None) -> _Right:
        spec = KINDS[kind]
        return _Right(verb, spec.resource, namespace if spec.namespaced else None,
                      all_namespaces=spec.namespaced and not namespace, name=name)

    def _request(self, method: str, path: str, right: _Right, query: list | None = None,
                 body: dict | None = None, missing_ok: bool = False) -> dict | None:
        """The API's JSON answer to one request; `right` is what the request needs, named
        in the AccessDenied a 403 raises."""
        try:
            return self._call(method, path, query, body)
        except client.ApiException as error:
            if error.status == 404 and missing_ok:
                return None
            if error.status == 403:
                raise AccessDenied(right.verb, right.resource, right.namespace,
                                   all_namespaces=right.all_namespaces, name=right.name,
                                   user=_forbidden_user(error), context=self.context) from None
            if error.status == 401:
                raise self._refused(error, method, path) from None
            raise ClusterUnreachable(f"the API server answered {error.status} {error.reason} "
                                     f"to {method} {path}") from None

    def _call(self, method: str, path: str, query: list | None = None,
              body: dict | None = None, content_type: str = "application/json") -> dict | None:
        """One request as sent, its JSON answer; an unreachable server raises
        ClusterUnreachable, an answer that is an error `client.ApiException` for the caller
        to name."""
        with self._counting:
            self._sent += 1
        try:
            response = self._api.call_api(
                path, method, query_params=query or [], body=body,
                header_params={"Accept": "application/json", "Content-Type": content_type},
                auth_settings=["BearerToken"], _preload_content=False,
                _request_timeout=self.timeout)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise ClusterUnreachable(
                f"cannot reach the cluster of context {self.context!r} at "
                f"{self._api.configuration.host}: {_reason(error)}. Is it running? "
                "(`rwk status`, `rwk up`)") from None
        data = response[0].data if isinstance(response, tuple) else response.data
        return json.loads(data) if data else None

    def _refused(self, error: client.ApiException, method: str,
                 path: str) -> ClusterUnreachable:
        """What a 401 means: the cluster does not take these credentials at all."""
        return ClusterUnreachable(f"the cluster of context {self.context!r} refused the "
                                  f"credentials ({error.status} {error.reason} on {method} "
                                  f"{path})")


@dataclass(frozen=True)
class _Right:
    """The right one request needs, as RBAC names it."""

    verb: str
    resource: str
    namespace: str | None = None
    all_namespaces: bool = False
    name: str | None = None


def _forbidden_user(error: Exception) -> str | None:
    """Who a 403 says the credentials belong to: its Status message reads `User "..."
    cannot get resource ...`; None when the body says nothing of the kind."""
    try:
        message = json.loads(getattr(error, "body", None) or "{}").get("message", "")
    except (ValueError, TypeError, AttributeError):
        return None
    found = re.search(r'User "([^"]+)"', message if isinstance(message, str) else "")
    return found.group(1) if found else None


def decode(secret: dict, key: str) -> str | None:
    """A Secret's value for `key`, decoded; None when the key is absent."""
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        return (secret.get("stringData") or {}).get(key)
    try:
        return base64.b64decode(raw).decode("utf-8", errors="replace")
    except (ValueError, TypeError):
        return None


def _current_context(kubeconfig: str | os.PathLike | None) -> str | None:
    try:
        _, active = config.list_kube_config_contexts(
            config_file=str(kubeconfig) if kubeconfig else None)
    except Exception:   # broken or missing: the loader below reports it properly
        return None
    return (active or {}).get("name")


def _context_names(kubeconfig: str | os.PathLike | None) -> list[str] | None:
    try:
        contexts, _ = config.list_kube_config_contexts(
            config_file=str(kubeconfig) if kubeconfig else None)
    except Exception:
        return None
    return [c["name"] for c in contexts or []]


def _where(kubeconfig: str | os.PathLike | None) -> str:
    return str(kubeconfig) if kubeconfig else (os.environ.get("KUBECONFIG") or "~/.kube/config")


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return text.split(": ", 1)[-1][:200]
