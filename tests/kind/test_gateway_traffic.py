"""Real requests through a Gateway on kind: Traefik's Gateway API provider, serving the
course's GatewayClass `rwk` on ports 80 and 443 of this machine.

A Gateway with an HTTP listener and an HTTPS one (TLS terminated with a Secret), a route on
the HTTP listener that redirects to HTTPS, and one on the HTTPS listener that splits requests
90/10 between two Services, as lesson 12 teaches. Asserted as a learner's curl sees it: the
redirect; the certificate served is the Secret's; the status Traefik writes (the class and
Gateway Accepted and Programmed, each route Accepted with its references resolved); and the
split, measured over 200 requests. Its host is gateway.example.com, which no other test
routes, so the Ingress tests' requests never mix with these.
"""

from __future__ import annotations

import base64
import math
import socket
import ssl
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from checker.clusters.base import Kubectl

from ..integration.conftest import fresh_namespace
from .conftest import KIND_TEST_COST
from .test_ingress_traffic import certificates, curl, serve, served_by

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]

HOST = "gateway.example.com"
REQUESTS = 200
CANARY_WEIGHT = 0.10
MISSES = 3


def app(name: str, version: str, replicas: int) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: podinfo
        image: ghcr.io/stefanprodan/podinfo:{version}
        args: ["--port=8080"]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /readyz, port: http}}, periodSeconds: 2,
                          timeoutSeconds: 5}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


GATEWAY = f"""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: web}}
spec:
  gatewayClassName: rwk
  listeners:
  - {{name: http, protocol: HTTP, port: 80, hostname: {HOST}}}
  - name: https
    protocol: HTTPS
    port: 443
    hostname: {HOST}
    tls: {{mode: Terminate, certificateRefs: [{{kind: Secret, name: tls-cert}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: redirect}}
spec:
  parentRefs: [{{name: web, sectionName: http}}]
  hostnames: [{HOST}]
  rules:
  - filters:
    - type: RequestRedirect
      requestRedirect: {{scheme: https, statusCode: 301}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api}}
spec:
  parentRefs: [{{name: web, sectionName: https}}]
  hostnames: [{HOST}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /}}}}]
    backendRefs:
    - {{name: api-server, port: 80, weight: 90}}
    - {{name: api-server-canary, port: 80, weight: 10}}
"""


def _backends(kubectl: Kubectl, namespace: str) -> str:
    """Each Service's endpoints and whether each is ready, from its EndpointSlices."""
    slices = kubectl.json("get", "endpointslices", "-n", namespace)["items"]
    return "; ".join(
        f"{s['metadata']['labels'].get('kubernetes.io/service-name')}: "
        + ", ".join(f"{e['addresses'][0]} ready={e['conditions'].get('ready')}"
                    for e in s.get("endpoints") or []) for s in slices)


def _conditions(item: dict) -> dict[str, str]:
    found = item["conditions"] if "parentRef" in item else item.get("status", {}).get(
        "conditions", [])
    return {c["type"]: c["status"] for c in found}


@pytest.fixture(scope="module")
def served(kind_cluster, api, kubectl: Kubectl, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(namespace, the CA's file) once the Gateway answers on HTTPS."""
    folder = tmp_path_factory.mktemp("gateway")
    ca, crt, key = certificates(folder, (HOST,))
    with fresh_namespace(api, "gateway-traffic") as namespace:
        manifest = app("api-server", "6.7.0", 3) + "---" + app("api-server-canary", "6.7.1", 2)
        serve(kubectl, namespace, (crt, key, ca), manifest + "---" + GATEWAY,
              ("api-server", "api-server-canary"), HOST)
        yield namespace, ca


def test_traefik_accepts_the_class_and_programs_the_gateway_and_its_routes(served, kubectl):
    namespace, _ = served
    gateway_class = kubectl.json("get", "gatewayclass", "rwk")
    assert _conditions(gateway_class)["Accepted"] == "True"
    gateway = kubectl.json("get", "gateway", "web", "-n", namespace)
    conditions = _conditions(gateway)
    assert (conditions["Accepted"], conditions["Programmed"]) == ("True", "True"), conditions
    assert [a["value"] for a in gateway["status"]["addresses"]] == ["127.0.0.1"]
    attached = {listener["name"]: listener["attachedRoutes"]
                for listener in gateway["status"]["listeners"]}
    assert attached == {"http": 1, "https": 1}
    for name in ("redirect", "api"):
        route = kubectl.json("get", "httproute", name, "-n", namespace)
        (parent,) = route["status"]["parents"]
        assert parent["controllerName"] == "traefik.io/gateway-controller"
        assert _conditions(parent) == {"Accepted": "True", "ResolvedRefs": "True"}, name


def test_http_is_redirected_to_https_by_the_routes_filter(served):
    status, _, location = curl("--resolve", f"{HOST}:80:127.0.0.1", f"http://{HOST}/")
    assert (status, location) == (301, f"https://{HOST}/")


def test_the_certificate_served_is_the_one_in_the_secret(served, kubectl):
    namespace, ca = served
    secret = kubectl("get", "secret", "tls-cert", "-n", namespace, "-o",
                     "jsonpath={.data.tls\\.crt}")
    assert secret.ok, secret.output
    context = ssl.create_default_context(cafile=str(ca))     # fails unless the CA signed it
    with socket.create_connection(("127.0.0.1", 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=HOST) as tls:
        served_der = tls.getpeercert(binary_form=True)
    assert x509.load_der_x509_certificate(served_der) == \
        x509.load_pem_x509_certificate(base64.b64decode(secret.stdout))


def test_the_weights_split_the_requests_90_10(served, kubectl):
    """Over 200 answered requests, each one a new connection (as curl makes them), the
    canary's share must lie within three standard deviations of 10% for independent draws:
    sqrt(0.1 * 0.9 / 200) = 2.1%, so 3.6% to 16.4%, which a correct 90/10 split misses about
    3 times in 1000 and swapped weights (90% to the canary) or no split (0% or 50%) never meet.

    CI once got one `503 no available server` in the middle (Traefik's answer when the side a
    request is weighted to has no ready endpoint) on a machine loaded by the whole suite. Up
    to MISSES such answers are recorded with what the cluster said at that moment, printed,
    and left out of the share; one more fails the test with them."""
    namespace, ca = served
    by_app: Counter[str] = Counter()
    misses: list[str] = []
    while sum(by_app.values()) < REQUESTS:
        status, body, _ = curl("--resolve", f"{HOST}:443:127.0.0.1", "--cacert", str(ca),
                               f"https://{HOST}/")
        if status != 200:
            misses.append(f"{status} {body[:80]!r}; {_backends(kubectl, namespace)}")
            assert len(misses) <= MISSES, misses
            time.sleep(1)
            continue
        by_app["canary" if served_by(body).startswith("api-server-canary-") else "stable"] += 1
    if misses:
        print("\n[gateway] answers other than 200:\n  " + "\n  ".join(misses))
    share = by_app["canary"] / REQUESTS
    spread = 3 * math.sqrt(CANARY_WEIGHT * (1 - CANARY_WEIGHT) / REQUESTS)
    print(f"\n[gateway] {dict(by_app)} of {REQUESTS}: canary {share:.1%} "
          f"(accepted {CANARY_WEIGHT - spread:.1%} to {CANARY_WEIGHT + spread:.1%})")
    assert abs(share - CANARY_WEIGHT) <= spread, dict(by_app)
