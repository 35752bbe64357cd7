"""Writing to the cluster, for the classroom: the grading core never imports this module
(.importlinter, contract `grading-never-writes`).

`Writer` is a `Cluster` (same connection, same reads, same errors: 403 raises
`AccessDenied`, an unreachable server or refused credentials `ClusterUnreachable`) that
also writes plain dict objects in the API's JSON shape:

- `apply`: server-side apply (field manager `rwk-classroom`, forced), so applying the same
  object again changes nothing and applying it over a drifted one repairs it;
- `delete` one object, `delete_labelled` every object a label selector finds;
- `request_token`: the TokenRequest API, a bound token for a ServiceAccount;
- `allowed`: SelfSubjectAccessReview, what the credentials of this kubeconfig may do, as
  the API server's authorizers answer it; `whoami`: SelfSubjectReview.

Any other refusal of the API server (an invalid object, a conflict) raises `RwkError`
quoting the server's message.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import AccessDenied, ClusterUnreachable, RwkError
from .client import Cluster, _forbidden_user
from .kinds import named

try:
    from kubernetes import client
except ImportError as error:  # pragma: no cover - the package depends on it
    raise ImportError("the `kubernetes` Python client is missing") from error

MANAGER = "rwk-classroom"
"""The field manager of every server-side apply."""



@dataclass(frozen=True)
class Token:
    """A token the TokenRequest API issued. Never printed: repr hides it."""

    value: str
    expires: datetime
    """When the API server says it expires (it may shorten what was asked for)."""
    seconds: int
    """Its lifetime as the server granted it, in seconds."""

    def __repr__(self) -> str:
        return f"Token(expires={self.expires.isoformat()}, seconds={self.seconds})"


@dataclass(frozen=True)
class Endpoint:
    """How this connection reaches the API server: what a kubeconfig for it needs."""

    server: str
    ca_pem: bytes | None
    """The certificate authority the connection trusts; None for the system's own."""
    insecure: bool = False
    tls_server_name: str | None = None


class Writer(Cluster):
    """A connection to one kube context that may also write (see the module's docstring)."""

    def __init__(self, context: str | None = None, kubeconfig: str | os.PathLike | None = None,
                 timeout: float = 10, connections: int = 16) -> None:
        super().__init__(context, kubeconfig, timeout)
        configuration = self._api.configuration
        configuration.connection_pool_maxsize = connections   # one per worker thread
        self._api = client.ApiClient(configuration)

    def endpoint(self) -> Endpoint:
        """The server address and CA this connection uses (from the kubeconfig)."""
        configuration = self._api.configuration
        ca = None
        if configuration.ssl_ca_cert:
            ca = Path(configuration.ssl_ca_cert).read_bytes()
        return Endpoint(configuration.host, ca, insecure=not configuration.verify_ssl,
                        tls_server_name=getattr(configuration, "tls_server_name", None))

    # --- objects --------------------------------------------------------------------------

    def apply(self, obj: dict) -> dict:
        """Server-side apply `obj`; the object as the server now holds it."""
        meta = obj["metadata"]
        path = _path(obj["apiVersion"], obj["kind"], meta.get("namespace")) + "/" + meta["name"]
        return self._send("PATCH", path, "patch", obj["kind"], meta["name"], meta.get("namespace"),
                          body=obj, content_type="application/apply-patch+yaml",
                          query=[("fieldManager", MANAGER), ("force", "true")]) or {}

    def fetch(self, api_version: str, kind: str, name: str,
              namespace: str | None = None) -> dict | None:
        """One object of a kind `kinds.ALL` describes, or None when there is none."""
        path = _path(api_version, kind, namespace) + "/" + name
        return self._send("GET", path, "get", kind, name, namespace, missing_ok=True)

    def list_labelled(self, api_version: str, kind: str, selector: str,
                      namespace: str | None = None) -> list[dict]:
        """Every object of a kind the label selector finds (in one namespace, or all)."""
        answer = self._send("GET", _path(api_version, kind, namespace), "list", kind, None,
                            namespace, query=[("labelSelector", selector)])
        items = (answer or {}).get("items", [])
        for item in items:   # a list's items carry no kind; give them theirs back
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def delete(self, api_version: str, kind: str, name: str,
               namespace: str | None = None) -> bool:
        """Delete one object (its dependents in the background); False when already gone."""
        path = _path(api_version, kind, namespace) + "/" + name
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        return self._send("DELETE", path, "delete", kind, name, namespace, body=body,
                          missing_ok=True) is not None

    def delete_labelled(self, api_version: str, kind: str, selector: str,
                        namespace: str | None = None) -> list[str]:
        """Delete every object the label selector finds; the names deleted."""
        found = self.list_labelled(api_version, kind, selector, namespace)
        return [item["metadata"]["name"] for item in found
                if self.delete(api_version, kind, item["metadata"]["name"], namespace)]

    # --- credentials ----------------------------------------------------------------------

    def request_token(self, namespace: str, service_account: str, seconds: int) -> Token:
        """A token for the ServiceAccount, asked to last `seconds` (TokenRequest API)."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"expirationSeconds": int(seconds)}}
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token"
        answer = self._send("POST", path, "create", "ServiceAccount", service_account,
                            namespace, body=body, subresource="token") or {}
        status = answer.get("status") or {}
        if not status.get("token"):
            raise RwkError(f"the API server issued no token for ServiceAccount "
                           f"{namespace}/{service_account}")
        expires = datetime.fromisoformat(status["expirationTimestamp"].replace("Z", "+00:00"))
        issued = token_claims(status["token"]).get("iat")
        granted = int(expires.timestamp() - issued) if issued else int(seconds)
        return Token(status["token"], expires, granted)

    def allowed(self, verb: str, resource: str, group: str = "", namespace: str | None = None,
                name: str | None = None, subresource: str | None = None) -> bool:
        """SelfSubjectAccessReview: may these credentials do it? (Writes nothing.)"""
        attributes = {"verb": verb, "resource": resource, "group": group}
        for key, value in (("namespace", namespace), ("name", name),
                           ("subresource", subresource)):
            if value:
                attributes[key] = value
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": attributes}}
        answer = self._send("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                            "create", "SelfSubjectAccessReview", None, None, body=review)
        return bool((answer or {}).get("status", {}).get("allowed"))

    def may_patch(self, api_version: str, kind: str, name: str, patch: dict,
                  namespace: str | None = None) -> bool:
        """Would the API server, RBAC and admission both, let these credentials make this
        merge patch? A server-side dry run: nothing is stored."""
        path = _path(api_version, kind, namespace) + "/" + name
        try:
            self._send("PATCH", path, "patch", kind, name, namespace, body=patch,
                       content_type="application/merge-patch+json", query=[("dryRun", "All")])
        except AccessDenied:
            return False
        return True

    def whoami(self) -> str:
        """The username the API server takes these credentials for (SelfSubjectReview)."""
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        answer = self._send("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            "create", "SelfSubjectReview", None, None, body=review)
        return ((answer or {}).get("status", {}).get("userInfo") or {}).get("username", "")

    # --- plumbing -------------------------------------------------------------------------

    def _send(self, method: str, path: str, verb: str, kind: str, name: str | None,
              namespace: str | None, body: dict | None = None, query: list | None = None,
              content_type: str = "application/json", missing_ok: bool = False,
              subresource: str | None = None) -> dict | None:
        """The API's JSON answer; None for a 404 when `missing_ok`."""
        try:
            return self._call(method, path, query, body, content_type) or {}
        except client.ApiException as error:
            if error.status == 404 and missing_ok:
                return None
            resource = _resource(kind) + (f"/{subresource}" if subresource else "")
            if error.status == 403:
                raise AccessDenied(verb, resource, namespace, name=name,
                                   user=_forbidden_user(error), context=self.context) from None
            if error.status == 401:
                raise self._refused(error, method, path) from None
            what = f"{kind} {namespace + '/' if namespace else ''}{name or ''}".strip()
            if error.status >= 500 or error.status == 429:
                raise ClusterUnreachable(f"the API server answered {error.status} "
                                         f"{error.reason} to {verb} {what}") from None
            raise RwkError(f"the API server refused to {verb} {what}: {error.status} "
                           f"{error.reason}: {_status_message(error)}") from None


def _path(api_version: str, kind: str, namespace: str | None) -> str:
    spec = named(kind)
    if spec.api_version != api_version:
        raise ValueError(f"{kind} is served as {spec.api_version}, not {api_version}")
    return spec.path(namespace)


def _resource(kind: str) -> str:
    try:
        return named(kind).resource
    except KeyError:
        return kind.lower() + "s"


def _status_message(error: Exception) -> str:
    try:
        message = json.loads(getattr(error, "body", None) or "{}").get("message", "")
    except (ValueError, TypeError, AttributeError):
        message = ""
    return " ".join(str(message).split())[:500] or "no message"


def token_claims(token: str) -> dict:
    """The claims of a JWT, unverified (the API server verifies; we only read dates)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
