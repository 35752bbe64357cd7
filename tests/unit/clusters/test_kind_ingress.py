"""The kind path's ingress-nginx, without Docker: where the patched controller can be
scheduled, ingress-nginx's admission rule for overlapping Ingresses, and the check the
lessons and exercises run before they create an Ingress.

The Deployments and nodes below are written from what upstream says, not copied from it:
the kind manifest of controller-v1.13.0 and later selects only `kubernetes.io/os: linux`,
tolerates nothing, and listens on hostPorts 80 and 443 (kubernetes/ingress-nginx #12232,
hack/manifest-templates/provider/kind/values.yaml); earlier ones also selected
`ingress-ready: "true"` and tolerated the control-plane taint. kind keeps the
`node-role.kubernetes.io/control-plane:NoSchedule` taint whenever a cluster has workers
(kind's kubeadminit action removes it only for a single node).
"""

from __future__ import annotations

import copy
import json
import re
import stat
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from checker.clusters.kind import (CONTROLLER_PATCH, IngressPathTaken, Overlap, admission_overlap,
                                   check_ingress_paths, controller_placement, holders, ingress_for,
                                   kind_config, stop_message, webhook_active)

REPO = Path(__file__).resolve().parents[3]


# --- the controller patch, applied as the API server would --------------------------------

MERGE_KEYS = {"containers": "name", "ports": "containerPort"}
"""The lists the patch touches that strategic merge merges by key (PodSpec.containers by
name, Container.ports by containerPort); any other list, tolerations among them, is replaced."""


def strategic_merge(live, patch, field: str = ""):
    """The few rules of a strategic merge patch this patch needs."""
    if isinstance(patch, dict) and isinstance(live, dict):
        merged = copy.deepcopy(live)
        for key, value in patch.items():
            merged[key] = strategic_merge(live.get(key), value, key) if key in live else value
        return merged
    if isinstance(patch, list) and field in MERGE_KEYS and isinstance(live, list):
        key = MERGE_KEYS[field]
        merged = [copy.deepcopy(item) for item in live]
        for item in patch:
            match = next((i for i, m in enumerate(merged) if m.get(key) == item.get(key)), None)
            if match is None:
                merged.append(item)
            else:
                merged[match] = strategic_merge(merged[match], item)
        return merged
    return copy.deepcopy(patch)


def controller_deployment(*, legacy: bool = False) -> dict:
    """A Deployment shaped like the kind manifest's controller (v1.13+, or before)."""
    spec = {
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [{"name": "controller", "image": "registry.k8s.io/ingress-nginx/controller",
                        "ports": [
                            {"name": "http", "containerPort": 80, "hostPort": 80, "protocol": "TCP"},
                            {"name": "https", "containerPort": 443, "hostPort": 443, "protocol": "TCP"},
                            {"name": "webhook", "containerPort": 8443, "protocol": "TCP"}]}],
        "terminationGracePeriodSeconds": 0,
    }
    if legacy:
        spec["nodeSelector"]["ingress-ready"] = "true"
        spec["tolerations"] = [
            {"key": "node-role.kubernetes.io/master", "operator": "Equal", "effect": "NoSchedule"},
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "effect": "NoSchedule"}]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
            "spec": {"template": {"spec": spec}}}


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


def test_unpatched_the_v1_13_controller_can_only_land_on_a_worker_whose_ports_no_host_maps():
    pod = controller_deployment()["spec"]["template"]["spec"]
    fits = schedulable(pod, kind_nodes())
    assert [n["name"] for n in fits] == ["rwk-worker", "rwk-worker2"]
    assert all(not (host_ports(pod) & n["mapped"]) for n in fits)


def test_patched_the_controller_fits_exactly_the_node_whose_host_ports_it_listens_on():
    patched = strategic_merge(controller_deployment(), CONTROLLER_PATCH)
    pod = patched["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux", "ingress-ready": "true"}
    fits = schedulable(pod, kind_nodes())
    assert [n["name"] for n in fits] == ["rwk-control-plane"]
    assert host_ports(pod) == {80, 443} == fits[0]["mapped"]
    # The webhook port and everything else of the container survive the merge.
    (container,) = pod["containers"]
    assert container["image"] == "registry.k8s.io/ingress-nginx/controller"
    assert {p["containerPort"] for p in container["ports"]} == {80, 443, 8443}


def test_the_patch_also_fits_the_older_manifest_and_is_idempotent():
    once = strategic_merge(controller_deployment(legacy=True), CONTROLLER_PATCH)
    twice = strategic_merge(once, CONTROLLER_PATCH)
    assert once == twice
    pod = once["spec"]["template"]["spec"]
    assert [n["name"] for n in schedulable(pod, kind_nodes())] == ["rwk-control-plane"]


def test_the_patch_states_host_ports_a_manifest_without_them_would_lack():
    bare = controller_deployment()
    for port in bare["spec"]["template"]["spec"]["containers"][0]["ports"]:
        port.pop("hostPort", None)
    pod = strategic_merge(bare, CONTROLLER_PATCH)["spec"]["template"]["spec"]
    assert host_ports(pod) == {80, 443}


def test_placement_on_a_worker_is_reported_as_a_failure():
    pods = {"items": [{"metadata": {"name": "c"}, "spec": {"nodeName": "rwk-worker"},
                       "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]}
    bad = controller_placement(pods, ["rwk-control-plane"])
    assert not bad.healthy and "NOT the node with host ports 80/443" in bad.detail
    pods["items"][0]["spec"]["nodeName"] = "rwk-control-plane"
    assert controller_placement(pods, ["rwk-control-plane"]).healthy
    pods["items"][0]["status"]["conditions"][0]["status"] = "False"
    assert not controller_placement(pods, ["rwk-control-plane"]).healthy


# --- ingress-nginx's admission rule -------------------------------------------------------

def ingress(namespace, name, routes, *, created="2026-05-01T10:00:00Z", ingress_class="nginx",
            annotations=None, path_type="Prefix", deleting=False):
    obj = ingress_for(namespace, name, routes)
    obj["metadata"]["creationTimestamp"] = created
    if annotations:
        obj["metadata"]["annotations"] = annotations
    if deleting:
        obj["metadata"]["deletionTimestamp"] = "2026-05-01T11:00:00Z"
    if ingress_class is None:
        del obj["spec"]["ingressClassName"]
    else:
        obj["spec"]["ingressClassName"] = ingress_class
    for rule in obj["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            path["pathType"] = path_type
    return obj


CONTRACT = [("api.example.com", "/"), ("app.example.com", "/")]
PRODUCTION = ingress("production", "app-ingress", CONTRACT)


def test_a_second_namespace_cannot_route_the_contract_hosts():
    lesson = ingress("lesson-11", "app-ingress", CONTRACT, created="")
    overlap = admission_overlap(lesson, [PRODUCTION])
    assert overlap == Overlap("api.example.com", "/", "production", "app-ingress")
    assert overlap.refusal() == ('host "api.example.com" and path "/" is already defined in '
                                 "ingress production/app-ingress")


def test_updating_the_same_ingress_is_not_an_overlap():
    assert admission_overlap(ingress("production", "app-ingress", CONTRACT), [PRODUCTION]) is None


def test_distinct_hosts_coexist():
    shop = ingress("lesson-04", "shop", [("shop.example.com", "/"), ("shop.example.com", "/api")])
    assert admission_overlap(shop, [PRODUCTION]) is None
    assert holders(shop, [PRODUCTION]) == []


def test_ingresses_of_another_class_are_neither_checked_nor_counted():
    other = ingress("staging", "app-ingress", CONTRACT, ingress_class="traefik")
    assert admission_overlap(other, [PRODUCTION]) is None
    assert admission_overlap(ingress("lesson-11", "app-ingress", CONTRACT), [other]) is None


def test_an_ingress_without_class_counts_since_the_kind_controller_watches_those_too():
    classless = ingress("old", "legacy", [("api.example.com", "/")], ingress_class=None)
    lesson = ingress("lesson-04", "app-ingress", CONTRACT)
    assert admission_overlap(lesson, [classless]).holder == "old/legacy"


def test_a_canary_may_share_a_path_with_its_primary_but_two_canaries_may_not():
    canary = {"nginx.ingress.kubernetes.io/canary": "true"}
    lesson = ingress("lesson-04", "app-ingress", CONTRACT, annotations=canary)
    assert admission_overlap(lesson, [PRODUCTION]) is None
    both = ingress("production", "app-ingress", CONTRACT, annotations=canary)
    assert admission_overlap(lesson, [both]) is not None


def test_an_ingress_being_deleted_holds_nothing():
    going = ingress("production", "app-ingress", CONTRACT, deleting=True)
    assert admission_overlap(ingress("lesson-11", "app-ingress", CONTRACT), [going]) is None


def test_upstream_stops_at_the_first_path_the_new_ingress_owns():
    # checkOverlap returns at the first path whose location the candidate itself owns, so a
    # held host after a free one goes through; `holders` still lists it.
    mixed = ingress("lesson-11", "app-ingress", [("free.example.com", "/"), ("app.example.com", "/")])
    assert admission_overlap(mixed, [PRODUCTION]) is None
    assert [o.host for o in holders(mixed, [PRODUCTION])] == ["app.example.com"]


def test_the_oldest_holder_is_named():
    newer = ingress("team-b", "copy", CONTRACT, created="2026-05-02T10:00:00Z")
    lesson = ingress("lesson-11", "app-ingress", CONTRACT)
    assert admission_overlap(lesson, [newer, PRODUCTION]).holder == "production/app-ingress"


def test_the_stop_message_names_each_holder_and_the_command_to_delete_it():
    lesson = ingress("lesson-11", "app-ingress", CONTRACT)
    taken = holders(lesson, [PRODUCTION])
    message = stop_message(lesson, taken, admission_overlap(lesson, [PRODUCTION]))
    assert 'host "api.example.com" and path "/" is already defined in ingress production/app-ingress' in message
    assert "app.example.com/  is routed by Ingress production/app-ingress" in message
    assert message.count("kubectl delete ingress app-ingress -n production") == 1


def test_webhook_active_looks_for_ingress_nginx_by_name():
    assert webhook_active({"items": [{"webhooks": [{"name": "validate.nginx.ingress.kubernetes.io"}]}]})
    assert not webhook_active({"items": [{"webhooks": [{"name": "validate.kyverno.svc"}]}]})
    assert not webhook_active({"items": []})


# --- check_ingress_paths, against a fake kubectl ------------------------------------------

def fake_kubectl(tmp_path: Path, *, ingresses: list[dict] | None, webhook: bool | None) -> str:
    """A kubectl that answers the two lists check_ingress_paths makes (None: forbidden)."""
    answers = {
        "ingresses": None if ingresses is None else {"items": ingresses},
        "validatingwebhookconfigurations": None if webhook is None else {"items": [
            {"webhooks": [{"name": "validate.nginx.ingress.kubernetes.io"}]}] if webhook else []},
    }
    data = tmp_path / "answers.json"
    data.write_text(json.dumps(answers))
    script = tmp_path / "kubectl"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"answers = json.load(open({str(data)!r}))\n"
                      "answer = answers.get(sys.argv[2])\n"
                      "if answer is None:\n"
                      "    sys.stderr.write('Error from server (Forbidden)\\n'); sys.exit(1)\n"
                      "print(json.dumps(answer))\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_check_stops_where_the_webhook_would_refuse(tmp_path):
    kubectl = fake_kubectl(tmp_path, ingresses=[PRODUCTION], webhook=True)
    with pytest.raises(IngressPathTaken) as caught:
        check_ingress_paths("lesson-11", "app-ingress", CONTRACT, kubectl=kubectl)
    assert "kubectl delete ingress app-ingress -n production" in str(caught.value)


def test_check_only_notes_the_overlap_where_no_webhook_refuses(tmp_path):
    said: list[str] = []
    kubectl = fake_kubectl(tmp_path, ingresses=[PRODUCTION], webhook=False)
    check_ingress_paths("lesson-11", "app-ingress", CONTRACT, kubectl=kubectl, say=said.append)
    assert len(said) == 1 and "on kind the webhook would refuse it" in said[0]


def test_check_passes_free_hosts_and_says_so(tmp_path):
    said: list[str] = []
    kubectl = fake_kubectl(tmp_path, ingresses=[], webhook=True)
    check_ingress_paths("lesson-04", "app-ingress", CONTRACT, kubectl=kubectl, say=said.append)
    assert said == ["no other Ingress routes api.example.com/, app.example.com/"]


def test_check_without_the_right_to_list_ingresses_says_so_and_goes_on(tmp_path):
    said: list[str] = []
    kubectl = fake_kubectl(tmp_path, ingresses=None, webhook=None)
    check_ingress_paths("production", "app-ingress", CONTRACT, kubectl=kubectl, say=said.append)
    assert "could not list the Ingresses of other namespaces" in said[0]


# --- the notebooks: each checks the routes of the Ingress it applies, before applying it ----

NOTEBOOKS = ["lessons/04-ingress.ipynb", "lessons/11-capstone.ipynb",
             "solutions/04-ingress.ipynb", "solutions/11-capstone.ipynb"]
CHECK_CALL = re.compile(r'check_ingress_paths\(NAMESPACE,\s*"(?P<name>[\w-]+)",\s*(?P<routes>\[[^\]]*\])')


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
def test_each_notebook_checks_its_ingress_routes_before_it_applies_them(path):
    cells = nbformat.read(REPO / path, as_version=4).cells
    checked: dict[str, int] = {}
    routes_of: dict[str, set] = {}
    applied = 0
    for index, cell in enumerate(cells):
        for match in CHECK_CALL.finditer(cell.source):
            checked.setdefault(match["name"], index)
            routes_of.setdefault(match["name"], set()).update(map(tuple, eval(match["routes"])))
        for obj in applied_ingresses(cell.source):
            name = obj["metadata"]["name"]
            assert name in checked and checked[name] < index, (
                f"{path} cell {index} applies Ingress {name} before check_ingress_paths for it")
            routes = {(r["host"], p["path"]) for r in obj["spec"]["rules"] for p in r["http"]["paths"]}
            assert routes <= routes_of[name], f"{path}: {name} routes {routes - routes_of[name]} unchecked"
            applied += 1
    assert applied, f"{path} applies no Ingress"


def test_lesson_11_after_exercise_04_is_the_refused_case_the_check_stops():
    def first(path, name):
        for cell in nbformat.read(REPO / path, as_version=4).cells:
            for obj in applied_ingresses(cell.source):
                if obj["metadata"]["name"] == name:
                    return obj
        raise AssertionError(f"{path} applies no {name}")

    exercise = first("solutions/04-ingress.ipynb", "app-ingress")
    exercise["metadata"].update(namespace="production", creationTimestamp="2026-05-01T10:00:00Z")
    lesson = first("lessons/11-capstone.ipynb", "app-ingress")
    lesson["metadata"]["namespace"] = "lesson-11"
    assert admission_overlap(lesson, [exercise]).holder == "production/app-ingress"
    # The capstone exercise in production updates the same Ingress: no refusal.
    capstone = first("solutions/11-capstone.ipynb", "app-ingress")
    capstone["metadata"]["namespace"] = "production"
    assert admission_overlap(capstone, [exercise]) is None
