"""The course's kind cluster as `rwk up --backend kind` makes it: three Ready nodes with a
real kubelet and containerd of the pinned versions, the `standard` StorageClass as default,
metrics-server serving the metrics API, every component healthy in `rwk status`, and, where
its images were built here, the lessons' stand-in images on every node."""

from __future__ import annotations

import json

import pytest

from checker.clusters.nodeimage import lesson_images
from checker.clusters.versions import load

pytestmark = [pytest.mark.cluster, pytest.mark.cost(250)]
"""About 170 s in CI with the cluster's creation, which its first test waits for; costed
higher so that it is handed out first, and the cluster is up when the other kind groups ask."""


def test_three_nodes_ready_with_the_pinned_kubelet_and_containerd(kind_cluster, kubectl):
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    v = load()
    built_here = kind_cluster.built_here()
    assert len(nodes) == 3
    for node in nodes:
        info = node["status"]["nodeInfo"]
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
        assert ready == "True", node["metadata"]["name"]
        assert info["kubeletVersion"].startswith(f"v{v.kubernetes_minor}.")
        assert node["spec"]["providerID"].startswith("kind://")
        if built_here:
            assert info["kubeletVersion"] == f"v{v.kubernetes}"
            assert info["containerRuntimeVersion"] == f"containerd://{v.node_image.containerd}"
            assert "bookworm" in info["osImage"] or "Debian" in info["osImage"], info["osImage"]
    roles = sorted("control-plane" if "node-role.kubernetes.io/control-plane" in
                   n["metadata"]["labels"] else "worker" for n in nodes)
    assert roles == ["control-plane", "worker", "worker"]


def test_the_default_storage_class_is_standard(kubectl):
    classes = json.loads(kubectl("get", "storageclasses", "-o", "json").stdout)["items"]
    default = [c["metadata"]["name"] for c in classes if (c["metadata"].get("annotations") or {})
               .get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert default == ["standard"], default


def test_rwk_status_reports_every_component_healthy(kind_cluster):
    status = kind_cluster.status()
    assert status.healthy, status.render()
    assert len([n for n in status.nodes if n.ready]) == 3, status.render()
    names = {c.name for c in status.components}
    assert {"kube-apiserver", "metrics API", "ingress controller"} <= names, status.render()


def test_the_lessons_images_are_on_every_node_where_they_were_built_here(kind_cluster, kubectl):
    if not kind_cluster.built_here():
        pytest.skip("this cluster pulled its images from a registry")
    for node in kind_cluster.nodes():
        done = kind_cluster.runner(["docker", "exec", node, "crictl", "images", "-o", "json"],
                                   timeout=60)
        assert done.ok, done.output
        tags = {t for i in json.loads(done.stdout)["images"] for t in i["repoTags"]}
        for image in lesson_images():
            assert any(t.endswith(image) for t in tags), (node, image, sorted(tags))
