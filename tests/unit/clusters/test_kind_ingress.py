"""The kind path's Ingress controller, without Docker: where Traefik's pod can be scheduled
and what it listens on (kind_traefik.yaml against the course's kind config), and the check
the lessons and exercises run before they create an Ingress (which other Ingresses already
route the same hosts).

kind keeps the `node-role.kubernetes.io/control-plane:NoSchedule` taint whenever a cluster
has workers (kind's kubeadminit action removes it only for a single node); the nodes below
are written from the course's config and that rule.
"""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from checker.clusters.base import gateway_class
from checker.clusters.kind import (GATEWAY_CONTROLLER, MAPPED_NODE_LABEL, controller_placement,
                                   ingress_class, kind_config, traefik_image, traefik_manifest)
from checker.clusters.versions import load
from checker.notebooks.helpers import others_routing, routes_of, shared_routes

REPO = Path(__file__).resolve().parents[3]
V = load()


# --- Traefik's Deployment against the kind nodes ----------------------------------------------

def kind_nodes(name: str = "rwk") -> list[dict]:
    """The nodes kind makes from the course's config: labels, taints, mapped host ports."""
    nodes = []
    config = kind_config(name)
    workers = sum(n["role"] == "worker" for n in config["nodes"])
    for index, node in enumerate(config["nodes"]):
        control_plane = node["role"] == "control-plane"
        suffix = "control-plane" if control_plane else ("worker" if index == 1 else f"worker{index}")
        labels = {"kubernetes.io/os": "linux", **(node.get("labels") or {})}
        taints = ([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
                  if control_plane and workers else [])
        mapped = {m["hostPort"] for m in node.get("extraPortMappings") or []}
        nodes.append({"name": f"{name}-{suffix}", "labels": labels, "taints": taints,
                      "mapped": mapped})
    return nodes


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations:
        if t.get("effect") not in (None, "", taint["effect"]):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", taint["key"]):
            return True
        if t.get("operator", "Equal") == "Equal" and t.get("key") == taint["key"] \
                and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def schedulable(pod_spec: dict, nodes: list[dict]) -> list[dict]:
    """The nodes the scheduler's nodeSelector and taint filters leave for this pod."""
    selector = pod_spec.get("nodeSelector") or {}
    tolerations = pod_spec.get("tolerations") or []
    return [n for n in nodes
            if all(n["labels"].get(k) == v for k, v in selector.items())
            and all(tolerates(tolerations, t) for t in n["taints"])]


def host_ports(pod_spec: dict) -> set[int]:
    return {p["hostPort"] for c in pod_spec["containers"] for p in c.get("ports", [])
            if p.get("hostPort")}



def traefik_documents(image: str = "traefik:v0.0.0") -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(traefik_manifest(image)) if d}


def traefik_pod() -> dict:
    return traefik_documents()["Deployment"]["spec"]["template"]["spec"]


def test_traefik_fits_exactly_the_node_whose_host_ports_it_listens_on():
    pod = traefik_pod()
    fits = schedulable(pod, kind_nodes())
    assert [n["name"] for n in fits] == ["rwk-control-plane"]
    assert host_ports(pod) == {80, 443} == fits[0]["mapped"]
    assert pod["nodeSelector"] == {MAPPED_NODE_LABEL[0]: MAPPED_NODE_LABEL[1]}


def test_without_its_toleration_traefik_would_fit_no_node():
    pod = traefik_pod()
    pod["tolerations"] = []
    assert schedulable(pod, kind_nodes()) == []


def test_the_host_ports_lead_to_the_entry_points_traefik_listens_on():
    (container,) = traefik_pod()["containers"]
    listening = {int(a.rsplit(":", 1)[1]) for a in container["args"]
                 if re.match(r"--entryPoints\.\w+\.address=", a)}
    mapped = {p["hostPort"]: p["containerPort"] for p in container["ports"] if p.get("hostPort")}
    assert mapped == {80: 80, 443: 443}
    assert set(mapped.values()) <= listening
    # Traefik's Gateway provider serves a listener from the entry point on the listener's
    # port; the course's Gateway listens on 80 and 443 (EXERCISES.md `gateway`).
    assert {80, 443} <= listening
    # Below 1024 as a non-root user with no capabilities: the pod's own network namespace
    # lets every user bind there, and nothing more.
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert traefik_pod()["securityContext"]["runAsNonRoot"] is True
    sysctls = {s["name"]: s["value"] for s in traefik_pod()["securityContext"]["sysctls"]}
    assert int(sysctls["net.ipv4.ip_unprivileged_port_start"]) <= min(listening)


def test_traefik_serves_the_gateway_class_of_the_course():
    (container,) = traefik_pod()["containers"]
    assert "--providers.kubernetesGateway=true" in container["args"]
    assert GATEWAY_CONTROLLER == "traefik.io/gateway-controller"    # Traefik's default name
    assert json.loads(gateway_class(GATEWAY_CONTROLLER))["spec"]["controllerName"] == GATEWAY_CONTROLLER


def test_traefik_serves_the_class_the_course_creates():
    (container,) = traefik_pod()["containers"]
    args = dict(a.split("=", 1) for a in container["args"] if "=" in a)
    served = args["--providers.kubernetesIngressNGINX.ingressClass"]
    created = yaml.safe_load(ingress_class())
    assert served == created["metadata"]["name"] == "nginx"
    # The provider takes classes by their controller name, ingress-nginx's.
    assert created["spec"]["controller"] == "k8s.io/ingress-nginx"
    assert args["--providers.kubernetesIngressNGINX.httpsEntryPoint"] == "websecure"
    assert args["--entryPoints.websecure.http.tls"] == "true"


def test_traefik_may_read_what_the_providers_read_and_write_only_their_objects_status():
    docs = traefik_documents()
    rules = docs["ClusterRole"]["rules"]
    granted = {(g, r, v) for rule in rules for g in rule["apiGroups"]
               for r in rule["resources"] for v in rule["verbs"]}
    for group, resource in [("networking.k8s.io", "ingresses"), ("networking.k8s.io", "ingressclasses"),
                            ("", "services"), ("", "secrets"), ("discovery.k8s.io", "endpointslices")]:
        assert {(group, resource, "list"), (group, resource, "watch")} <= granted
    for resource in ("gatewayclasses", "gateways", "httproutes", "referencegrants"):
        assert {("gateway.networking.k8s.io", resource, v) for v in ("list", "watch")} <= granted
    writes = {(g, r) for g, r, v in granted if v not in ("get", "list", "watch")}
    assert writes == {("networking.k8s.io", "ingresses/status")} | {
        ("gateway.networking.k8s.io", f"{kind}/status") for kind in (
            "gatewayclasses", "gateways", "httproutes", "grpcroutes", "tcproutes", "tlsroutes",
            "backendtlspolicies")}
    binding = docs["ClusterRoleBinding"]
    (subject,) = binding["subjects"]
    account = docs["ServiceAccount"]["metadata"]
    assert (subject["name"], subject["namespace"]) == (account["name"], account["namespace"])
    assert traefik_pod()["serviceAccountName"] == account["name"]


def test_the_image_is_the_pinned_digest_upstream_and_the_tag_built_here_elsewhere():
    assert traefik_image(V, "upstream") == V.traefik_image and "@sha256:" in V.traefik_image
    assert traefik_image(V, "local") == f"traefik:v{V.traefik}"
    (container,) = traefik_documents("traefik:v9")["Deployment"]["spec"]["template"]["spec"][
        "containers"]
    assert container["image"] == "traefik:v9"


def test_placement_on_a_worker_is_reported_as_a_failure():
    pods = {"items": [{"metadata": {"name": "c"}, "spec": {"nodeName": "rwk-worker"},
                       "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]}
    bad = controller_placement(pods, ["rwk-control-plane"])
    assert not bad.healthy and "NOT the node with host ports 80/443" in bad.detail
    pods["items"][0]["spec"]["nodeName"] = "rwk-control-plane"
    assert controller_placement(pods, ["rwk-control-plane"]).healthy
    pods["items"][0]["status"]["conditions"][0]["status"] = "False"
    assert not controller_placement(pods, ["rwk-control-plane"]).healthy



# --- other Ingresses that route the same hosts --------------------------------------------

def ingress(namespace, name, routes, *, created="2026-05-01T10:00:00Z", ingress_class="nginx",
            deleting=False):
    rules = [{"host": host, "http": {"paths": [{
        "path": path, "pathType": "Prefix",
        "backend": {"service": {"name": "any", "port": {"number": 80}}}}]}}
        for host, path in routes]
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"namespace": namespace, "name": name, "creationTimestamp": created},
           "spec": {"rules": rules}}
    if ingress_class:
        obj["spec"]["ingressClassName"] = ingress_class
    if deleting:
        obj["metadata"]["deletionTimestamp"] = "2026-05-01T11:00:00Z"
    return obj


CONTRACT = [("api.example.com", "/"), ("app.example.com", "/")]
PRODUCTION = ingress("production", "app-ingress", CONTRACT)


def test_another_namespace_routing_the_contract_hosts_is_found():
    found = others_routing("lesson-11", "app-ingress", CONTRACT, [PRODUCTION])
    assert found == [("production/app-ingress", ("api.example.com", "/")),
                     ("production/app-ingress", ("app.example.com", "/"))]


def test_the_ingress_itself_another_class_a_deleted_one_and_other_paths_are_not_counted():
    assert others_routing("production", "app-ingress", CONTRACT, [PRODUCTION]) == []
    assert others_routing("lesson-11", "app-ingress", CONTRACT,
                          [ingress("x", "y", CONTRACT, ingress_class="traefik")]) == []
    assert others_routing("lesson-11", "app-ingress", CONTRACT,
                          [ingress("x", "y", CONTRACT, deleting=True)]) == []
    assert others_routing("lesson-11", "app-ingress", CONTRACT,
                          [ingress("x", "y", [("api.example.com", "/v2")])]) == []
    # No class at all: the course's cluster has no default class, but count it, to be safe.
    assert others_routing("lesson-11", "app-ingress", CONTRACT,
                          [ingress("x", "y", CONTRACT, ingress_class=None)]) != []


def test_the_oldest_holder_comes_first():
    newer = ingress("staging", "app-ingress", CONTRACT, created="2026-06-01T10:00:00Z")
    found = others_routing("lesson-11", "app-ingress", CONTRACT, [newer, PRODUCTION])
    assert [holder for holder, _ in found][:2] == ["production/app-ingress"] * 2


def fake_kubectl(tmp_path: Path, ingresses: list[dict] | None) -> str:
    """A kubectl that answers the list shared_routes makes (None: forbidden)."""
    data = tmp_path / "answers.json"
    data.write_text(json.dumps(None if ingresses is None else {"items": ingresses}))
    script = tmp_path / "kubectl"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"answer = json.load(open({str(data)!r}))\n"
                      "if answer is None or sys.argv[1:3] != ['get', 'ingresses']:\n"
                      "    sys.stderr.write('Error from server (Forbidden)\\n'); sys.exit(1)\n"
                      "print(json.dumps(answer))\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_shared_routes_names_the_holder_what_it_means_and_the_command_that_deletes_it(tmp_path):
    said: list[str] = []
    found = shared_routes("lesson-11", "app-ingress", CONTRACT,
                          kubectl=fake_kubectl(tmp_path, [PRODUCTION]), say=said.append)
    assert len(found) == 2
    assert said[0] == "Ingress production/app-ingress already routes api.example.com/"
    assert "which one answers is not defined" in said[-1]
    assert "kubectl delete ingress app-ingress -n production" in said[-1]


def test_shared_routes_says_when_the_hosts_are_free(tmp_path):
    said: list[str] = []
    assert shared_routes("lesson-04", "app-ingress", CONTRACT,
                         kubectl=fake_kubectl(tmp_path, []), say=said.append) == []
    assert said == ["no other Ingress routes api.example.com/, app.example.com/"]


def test_shared_routes_without_the_right_to_list_says_so_and_goes_on(tmp_path):
    said: list[str] = []
    assert shared_routes("production", "app-ingress", CONTRACT,
                         kubectl=fake_kubectl(tmp_path, None), say=said.append) == []
    assert "could not list the Ingresses of other namespaces" in said[0]


# --- the notebooks: each looks for other holders of its Ingress's routes before applying it ----

NOTEBOOKS = ["lessons/04-ingress.ipynb", "lessons/11-capstone.ipynb",
             "solutions/04-ingress.ipynb", "solutions/11-capstone.ipynb"]
CHECK_CALL = re.compile(r'shared_routes\(NAMESPACE,\s*"(?P<name>[\w-]+)",\s*(?P<routes>\[[^\]]*\])')
MANIFESTS = ["solutions/manifests/capstone.yaml", "solutions/manifests/ingress.yaml"]


def applied_ingresses(source: str) -> list[dict]:
    """The Ingresses a cell applies, from a heredoc or a manifest of solutions/ (not dry runs)."""
    if "--dry-run=server" in source:
        return []
    found = []
    for manifest in MANIFESTS:
        if manifest.removeprefix("solutions/") in source:
            found += [d for d in yaml.safe_load_all((REPO / manifest).read_text())
                      if d and d.get("kind") == "Ingress"]
    for block in re.findall(r"<<'EOF'\n(.*?)\nEOF", source, flags=re.S):
        found += [d for d in yaml.safe_load_all(block) if d and d.get("kind") == "Ingress"]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_each_notebook_looks_for_other_holders_of_its_routes_before_it_applies_them(path):
    cells = nbformat.read(REPO / path, as_version=4).cells
    checked: dict[str, int] = {}
    listed: dict[str, set] = {}
    applied = 0
    for index, cell in enumerate(cells):
        for match in CHECK_CALL.finditer(cell.source):
            checked.setdefault(match["name"], index)
            listed.setdefault(match["name"], set()).update(map(tuple, eval(match["routes"])))
        for obj in applied_ingresses(cell.source):
            name = obj["metadata"]["name"]
            assert name in checked and checked[name] < index, (
                f"{path} cell {index} applies Ingress {name} before shared_routes for it")
            routes = set(routes_of(obj))
            assert routes <= listed[name], f"{path}: {name} routes {routes - listed[name]} unlisted"
            applied += 1
    assert applied, f"{path} applies no Ingress"


def test_lesson_11_after_exercise_04_finds_the_exercise_holding_the_hosts():
    def first(path, name):
        for cell in nbformat.read(REPO / path, as_version=4).cells:
            for obj in applied_ingresses(cell.source):
                if obj["metadata"]["name"] == name:
                    return obj
        raise AssertionError(f"{path} applies no {name}")

    exercise = first("solutions/04-ingress.ipynb", "app-ingress")
    exercise["metadata"].update(namespace="production", creationTimestamp="2026-05-01T10:00:00Z")
    lesson = first("lessons/11-capstone.ipynb", "app-ingress")
    holders = {h for h, _ in others_routing("lesson-11", "app-ingress", routes_of(lesson), [exercise])}
    assert holders == {"production/app-ingress"}
    # The capstone exercise in production updates the same Ingress: nothing else holds it.
    capstone = first("solutions/11-capstone.ipynb", "app-ingress")
    assert others_routing("production", "app-ingress", routes_of(capstone), [exercise]) == []
