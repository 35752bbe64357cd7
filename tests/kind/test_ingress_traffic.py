"""Real requests through the course's Ingress on kind: Traefik, serving class `nginx` on ports
80 and 443 of this machine, in front of the reference solution of exercise 04.

What a learner's curl sees, each asserted: api.example.com over HTTPS reaches the api-server
pods; the certificate served is the one in the TLS Secret (curl trusts only the CA that signed
it); plain HTTP is redirected to HTTPS; app.example.com reaches frontend, not api-server; a
host with no rule gets a 404. And what two namespaces routing the same host now do: both
Ingresses are accepted, and the requests go to the pods of one or the other.
"""

from __future__ import annotations

import base64
import datetime
import json
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checker.clusters.base import Kubectl
from checker.notebooks.helpers import requests_through_ingress

from ..integration.conftest import fresh_namespace
from .conftest import KIND_TEST_COST

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("api.example.com", "app.example.com")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificates(folder: Path, hosts: tuple[str, ...] = HOSTS) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for `hosts` that it signs: (ca.crt, tls.crt, tls.key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("rwk test CA")).issuer_name(_name("rwk test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.crt", folder / "tls.crt", folder / "tls.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def reference_manifest(namespace: str) -> str:
    docs = [d for d in yaml.safe_load_all((ROOT / "solutions/manifests/ingress.yaml").read_text())
            if d]
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
    return yaml.safe_dump_all(docs)


def curl(*args: str) -> tuple[int, str, str]:
    """(status, body, redirect URL) of one request, as a learner's curl makes it."""
    done = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "10", "--output", "-",
                           "--write-out", "\n%{http_code} %{redirect_url}", *args],
                          capture_output=True, text=True, timeout=20)
    body, _, last = done.stdout.rpartition("\n")
    code, _, location = last.partition(" ")
    return int(code or 0), body, location.strip()


MISSES = 3
"""How many `503 no available server` answers a test lets pass, each asked again."""


def answer_of(*args: str, misses: list[str]) -> tuple[int, str, str]:
    """curl, asked again a second later while Traefik answers 503 'no available server': on a
    machine loaded by the whole suite a readiness probe (1 s timeout) can fail, and the
    Service has no ready endpoint for a moment (CI run 11 saw it once). Each such answer is
    recorded in `misses`; past MISSES the 503 is returned for the test to fail on."""
    while True:
        answer = curl(*args)
        if answer[0] != 503 or len(misses) >= MISSES:
            return answer
        misses.append(f"503 {answer[1].strip()[:60]!r}")
        time.sleep(1)


def served_by(body: str) -> str:
    return json.loads(body)["hostname"]


def holders_of_the_hosts(kubectl: Kubectl, namespace: str) -> list[str]:
    items = json.loads(kubectl("get", "ingresses", "--all-namespaces", "-o", "json").stdout)["items"]
    return [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in items
            if i["metadata"]["namespace"] != namespace
            and {r.get("host") for r in i["spec"].get("rules") or []} & set(HOSTS)]


@pytest.fixture(scope="module")
def served(kind_cluster, api, kubectl: Kubectl, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """Exercise 04's reference solution in a namespace of its own, its certificate signed by a
    CA of the test's; (namespace, the CA's file) once api.example.com answers through Traefik."""
    folder = tmp_path_factory.mktemp("ingress")
    ca, crt, key = certificates(folder)
    with fresh_namespace(api, "ingress-traffic") as namespace:
        others = holders_of_the_hosts(kubectl, namespace)
        assert not others, f"other Ingresses already route {HOSTS}: {others}; their answers " \
                           "would mix with this test's"
        serve(kubectl, namespace, (crt, key, ca), reference_manifest(namespace),
              ("api-server", "frontend"), HOSTS[0])
        yield namespace, ca


def serve(kubectl: Kubectl, namespace: str, tls: tuple[Path, Path, Path], manifest: str,
          deployments: tuple[str, ...], host: str) -> None:
    """The Secret tls-cert from (tls.crt, tls.key, ca.crt) (the key file then removed),
    `manifest` applied in `namespace`, `deployments` rolled out; return once
    https://`host`/ answers 200 through Traefik."""
    crt, key, ca = tls
    done = kubectl("create", "secret", "tls", "tls-cert", "-n", namespace, f"--cert={crt}",
                   f"--key={key}")
    assert done.ok, done.output
    key.unlink()
    done = kubectl("apply", "-n", namespace, "-f", "-", input=manifest)
    assert done.ok, done.output
    for deployment in deployments:
        done = kubectl("rollout", "status", f"deployment/{deployment}", "-n", namespace,
                       "--timeout=180s", timeout=200)
        assert done.ok, done.output
    end = time.monotonic() + 90
    while curl("--resolve", f"{host}:443:127.0.0.1", "--cacert", str(ca),
               f"https://{host}/")[0] != 200:
        assert time.monotonic() < end, f"{host} never answered 200 through Traefik"
        time.sleep(2)


def test_https_to_api_example_com_reaches_the_api_server_pods(served):
    namespace, ca = served
    pods, misses = set(), []
    for _ in range(12):
        status, body, _ = answer_of("--resolve", "api.example.com:443:127.0.0.1", "--cacert",
                                   str(ca), "https://api.example.com/", misses=misses)
        assert status == 200, (status, body[:200], misses)
        pods.add(served_by(body))
    assert pods and all(pod.startswith("api-server-") for pod in pods), pods


def test_the_certificate_served_is_the_one_in_the_secret(served, kubectl):
    namespace, ca = served
    secret = kubectl("get", "secret", "tls-cert", "-n", namespace, "-o", "jsonpath={.data.tls\\.crt}")
    assert secret.ok, secret.output
    in_secret = x509.load_pem_x509_certificate(base64.b64decode(secret.stdout))
    context = ssl.create_default_context(cafile=str(ca))     # fails unless the CA signed it
    for host in HOSTS:
        with socket.create_connection(("127.0.0.1", 443), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            served_der = tls.getpeercert(binary_form=True)
        assert x509.load_der_x509_certificate(served_der) == in_secret, host


def test_plain_http_is_redirected_to_https(served):
    status, _, location = curl("--resolve", "api.example.com:80:127.0.0.1", "http://api.example.com/")
    assert status in (301, 308), status
    assert location == "https://api.example.com/", location


def test_app_example_com_reaches_frontend_not_api_server(served):
    _, ca = served
    misses: list[str] = []
    for _ in range(6):
        status, body, _ = answer_of("--resolve", "app.example.com:443:127.0.0.1", "--cacert",
                                   str(ca), "https://app.example.com/", misses=misses)
        assert status == 200 and served_by(body).startswith("frontend-"), \
            (status, body[:200], misses)


def test_a_host_with_no_rule_gets_a_404(served):
    for scheme, port in (("http", 80), ("https", 443)):
        status, _, _ = curl("--insecure", "--resolve", f"nothing.example.com:{port}:127.0.0.1",
                            f"{scheme}://nothing.example.com/")
        assert status == 404, (scheme, status)


def test_traefik_writes_the_address_learners_send_requests_to(served, kubectl):
    namespace, _ = served
    end = time.monotonic() + 30
    while True:
        ingress = json.loads(kubectl("get", "ingress", "app-ingress", "-n", namespace, "-o",
                                     "json").stdout)
        addresses = [i.get("ip") for i in (ingress["status"].get("loadBalancer") or {})
                     .get("ingress") or []]
        if addresses or time.monotonic() > end:
            break
        time.sleep(2)
    assert addresses == ["127.0.0.1"], ingress["status"]


def test_the_notebooks_request_helper_passes_here_and_names_a_wrong_app(served, kind_cluster,
                                                                        monkeypatch):
    namespace, _ = served
    monkeypatch.setenv("KUBECONFIG", str(kind_cluster.kubeconfig))   # as a notebook's kernel has
    said: list[str] = []
    requests_through_ingress(namespace, {"api.example.com": "api-server",
                                         "app.example.com": "frontend"}, say=said.append)
    assert any(line.startswith("$ curl --resolve api.example.com:443:127.0.0.1") for line in said)
    with pytest.raises(AssertionError, match="should be answered 200 by a pod of frontend"):
        requests_through_ingress(namespace, {"api.example.com": "frontend"}, say=said.append,
                                 wait=0)


def test_a_second_namespace_routing_the_same_host_is_accepted_and_shares_its_requests(
        served, api, kubectl, tmp_path):
    """What the classroom tells instructors: nothing refuses a student's Ingress for a host
    another student's already routes; each request goes to the pods of one of them."""
    namespace, _ = served
    with fresh_namespace(api, "ingress-second") as second:
        manifest = yaml.safe_load_all(reference_manifest(second))
        kept = [d for d in manifest if d["kind"] in ("Deployment", "Service", "Ingress")
                and d["metadata"]["name"] in ("api-server", "app-ingress")]
        for doc in kept:
            if doc["kind"] == "Ingress":
                doc["spec"].pop("tls", None)
                doc["metadata"].pop("annotations", None)
                doc["spec"]["rules"] = [r for r in doc["spec"]["rules"] if r["host"] == HOSTS[0]]
            if doc["kind"] == "Deployment":
                doc["spec"]["replicas"] = 1
        done = kubectl("apply", "-f", "-", input=yaml.safe_dump_all(kept))
        assert done.ok, f"a second Ingress for the same host was refused: {done.output}"
        done = kubectl("rollout", "status", "deployment/api-server", "-n", second,
                       "--timeout=180s", timeout=200)
        assert done.ok, done.output
        pods = {}
        for ns in (namespace, second):
            listed = json.loads(kubectl("get", "pods", "-n", ns, "-l", "app=api-server", "-o",
                                        "json").stdout)["items"]
            pods.update({p["metadata"]["name"]: ns for p in listed})
        time.sleep(5)       # the controller reloads its routes
        # Over plain HTTP the first namespace's Ingress redirects (it has TLS) and the second
        # one's pods answer: each request must get one of those two answers, nothing else.
        answered = []
        for _ in range(10):
            status, body, _ = curl("--resolve", "api.example.com:80:127.0.0.1",
                                   "http://api.example.com/")
            if status in (301, 308):
                answered.append(namespace)
            else:
                assert status == 200, (status, body[:200])
                answered.append(pods.get(served_by(body), f"unknown pod {served_by(body)}"))
        assert len(answered) == 10 and set(answered) <= {namespace, second}, answered
