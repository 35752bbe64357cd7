"""The node image's recipe: what it is built from, how a change rebuilds it, what kubeadm
must agree with, and where its images come from (pure logic; tests/kind builds and runs it)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from checker.clusters import _proc
from checker.clusters import kind as kind_module
from checker.clusters import nodeimage
from checker.clusters.versions import load
from checker.errors import BinariesUnavailable, UsageError
from checker.notebooks import helpers

ROOT = Path(__file__).resolve().parents[3]
V = load()


def test_every_go_part_is_built_at_a_pinned_version():
    parts = {p.name: p for p in nodeimage.go_parts(V)}
    n = V.node_image
    assert parts["containerd"].version == n.containerd
    assert parts["runc"].version == n.runc and parts["runc"].cgo
    assert parts["crictl"].version == n.crictl
    assert parts["cni-plugins"].version == n.cni_plugins
    assert parts["coredns"].version == n.coredns
    assert parts["kind"].version == V.kind
    assert parts["kubernetes-node"].version == V.kubernetes
    for part in parts.values():
        pinned = [a for a in part.args if "@v" in a]
        assert all(a.endswith(f"@v{part.version}") for a in pinned), (part.name, pinned)
    assert {"podinfo-6.7.0", "podinfo-6.7.1"} <= set(parts)


def test_traefik_is_built_at_its_pin_from_a_module_laid_out_first():
    part = {p.name: p for p in nodeimage.go_parts(V)}["traefik"]
    assert part.version == V.traefik and not part.cgo
    assert part.prepare is nodeimage._traefik_module
    assert part.cwd.name == f"traefik-v{V.traefik}"
    assert f"pkg/version.Version=v{V.traefik}" in " ".join(part.args)


def fake_module(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        (root / name).chmod(0o444)          # as the module cache keeps them
    return root


def test_the_traefik_module_leaves_out_the_refused_providers_and_adds_the_forks_names(
        tmp_path, monkeypatch):
    lego = fake_module(tmp_path / "cache" / "lego", {
        "go.mod": "module github.com/go-acme/lego/v5\n",
        "providers/dns/zz_gen_dns_providers.go": "package dns\n",
        "providers/dns/route53/route53.go": "package route53\n",
        **{f"providers/dns/{name}/{name}.go": f"package {name}\nimport _ \"refused/sdk\"\n"
           for name in nodeimage.LEGO_LEFT_OUT},
        "providers/dns/ucloud/internal/client.go": "package internal\n"})
    auth = fake_module(tmp_path / "cache" / "auth", {"basic.go": "package auth\n"})
    asked = []

    def module_dir(module):
        asked.append(module)
        return str(lego if "lego" in module else auth)

    monkeypatch.setattr(nodeimage, "_go_module_dir", module_dir)
    folder = tmp_path / "build"
    nodeimage._traefik_module(folder)
    nodeimage._traefik_module(folder)           # again: starts afresh, no leftovers, no error
    assert asked[:2] == ["github.com/go-acme/lego/v5@v5.4.1", "github.com/abbot/go-http-auth@v0.4.0"]
    assert (folder / "go.mod").read_text() == (nodeimage.TRAEFIK_MODULE / "go.mod").read_text()
    assert (folder / "ext" / "ext.go").is_file()
    dns = folder / "lego" / "providers" / "dns"
    assert (dns / "route53" / "route53.go").read_text() == "package route53\n"
    for name in nodeimage.LEGO_LEFT_OUT:
        (stub,) = (dns / name).rglob("*")
        assert stub.name == f"{name}.go"
        text = stub.read_text()
        assert f"package {name}\n" in text and "refused/sdk" not in text
        assert "func NewDNSProvider() (*DNSProvider, error)" in text
    added = (folder / "go-http-auth" / "rwk_additions.go").read_text()
    assert "func CheckSecret(password, secret string) bool" in added
    assert "RequireAuthStale" in added
    assert (folder / "go-http-auth" / "go.mod").read_text().startswith(
        "module github.com/abbot/go-http-auth\n")


def test_the_traefik_go_mod_points_each_refused_module_at_the_laid_out_directory():
    text = (nodeimage.TRAEFIK_MODULE / "go.mod").read_text()
    for module, folder in [("github.com/traefik/traefik/dynamic/ext", "./ext"),
                           ("github.com/abbot/go-http-auth", "./go-http-auth"),
                           ("github.com/go-acme/lego/v5", "./lego")]:
        assert re.search(rf"{re.escape(module)} => {re.escape(folder)}\n", text), module


def test_the_recipe_digest_is_stable_and_moves_with_a_pin():
    assert nodeimage.recipe_digest(V) == nodeimage.recipe_digest(V)
    bumped = dataclasses.replace(V, node_image=dataclasses.replace(V.node_image, runc="9.9.9"))
    assert nodeimage.recipe_digest(bumped) != nodeimage.recipe_digest(V)
    assert re.fullmatch(rf"rwk\.local/kind-node:v{re.escape(V.kubernetes)}-[0-9a-f]{{12}}",
                        nodeimage.node_image_tag(V))


def test_the_recipe_digest_moves_with_a_file_under_images(tmp_path, monkeypatch):
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "entrypoint").write_text("one")
    monkeypatch.setattr(nodeimage, "IMAGES_DIR", tmp_path)
    before = nodeimage.recipe_digest(V)
    (tmp_path / "node" / "entrypoint").write_text("two")
    assert nodeimage.recipe_digest(V) != before


def _kubeadm(tmp_path: Path, etcd: str) -> Path:
    script = tmp_path / "kubeadm"
    script.write_text("#!/bin/sh\n" + "".join(f"echo {line}\n" for line in (
        f"registry.k8s.io/kube-apiserver:v{V.kubernetes}",
        f"registry.k8s.io/kube-proxy:v{V.kubernetes}",
        f"registry.k8s.io/coredns/coredns:v{V.node_image.coredns}",
        f"registry.k8s.io/pause:{V.node_image.pause}",
        f"registry.k8s.io/etcd:{etcd}")))
    script.chmod(0o755)
    return script


def test_kubeadm_images_are_read_by_component(tmp_path):
    images = nodeimage.kubeadm_images(_kubeadm(tmp_path, f"{V.etcd}-0"), V)
    assert images["pause"] == f"registry.k8s.io/pause:{V.node_image.pause}"
    assert images["kube-proxy"] == f"registry.k8s.io/kube-proxy:v{V.kubernetes}"


def test_a_pin_kubeadm_disagrees_with_stops_the_build_naming_both(tmp_path):
    with pytest.raises(BinariesUnavailable, match=r"names etcd 3\.5\.0-0, but versions.toml"):
        nodeimage.kubeadm_images(_kubeadm(tmp_path, "3.5.0-0"), V)


def _images_the_course_runs() -> set[str]:
    found = set()
    for path in [*ROOT.glob("lessons/*.ipynb"), *ROOT.glob("exercises/*.ipynb"),
                 *ROOT.glob("solutions/*.ipynb"), *ROOT.glob("solutions/manifests/*.yaml")]:
        text = path.read_text()
        found |= set(re.findall(r"image:\s*\"?([a-z0-9./-]+:[0-9][\w.-]*)", text))
        found |= set(re.findall(r"--image=([a-z0-9./-]+:[0-9][\w.-]*)", text))
    return {image for image in found if "missing" not in image}


def test_every_image_the_course_runs_has_a_stand_in():
    runs = _images_the_course_runs()
    assert "ghcr.io/stefanprodan/podinfo:6.7.0" in runs     # the scan finds something
    assert runs <= set(nodeimage.lesson_images()), runs - set(nodeimage.lesson_images())


@pytest.mark.parametrize("env, answers, source", [
    ("upstream", False, "upstream"), ("local", True, "local"),
    ("", True, "upstream"), ("", False, "local"), ("auto", False, "local")])
def test_the_image_source(env, answers, source):
    assert kind_module.image_source(env, answers=lambda: answers) == source


def test_an_unknown_image_source_is_a_usage_error():
    with pytest.raises(UsageError, match="RWK_KIND_IMAGES='docker' is not one of"):
        kind_module.image_source("docker", answers=lambda: True)


def test_the_kind_config_lets_the_kubelet_run_on_cgroup_v1():
    patches = [yaml.safe_load(p) for p in kind_module.kind_config("rwk")["kubeadmConfigPatches"]]
    assert {"kind": "KubeletConfiguration", "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "failCgroupV1": False} in patches


def test_the_cni_manifest_is_a_daemonset_that_may_read_nodes_and_nothing_more():
    docs = list(yaml.safe_load_all((nodeimage.IMAGES_DIR / "node" / "default-cni.yaml")
                                   .read_text()))
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"],
                              "verbs": ["get", "list"]}]
    daemonset = next(d for d in docs if d["kind"] == "DaemonSet")
    container = daemonset["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] in nodeimage.lesson_images()     # preloaded in the node image


@pytest.mark.parametrize("backend, controller, runs, said", [
    ("sandbox", True, False, "skipped on the sandbox: why"),
    ("kind", False, False, "skipped on kind: no Ingress controller pod runs"),
    ("kind", True, True, "")])
def test_ingress_traffic_cells_run_only_where_a_controller_serves(capsys, backend, controller,
                                                                  runs, said):
    assert helpers.only_where_ingress_is_served(
        "why", probe=lambda: backend, controller=lambda: controller) is runs
    assert said in capsys.readouterr().out
    if runs:
        assert capsys.readouterr().out == ""


def test_a_new_node_image_takes_the_older_ones_and_the_untagged_leftovers_with_it(monkeypatch):
    calls, said = [], []
    answers = {"images": "rwk.local/kind-node:v1-old\nrwk.local/kind-node:v1-new\n",
               "rmi": "", "image": "Deleted: sha256:aa\n\nTotal reclaimed space: 529.7MB\n"}

    def run(args, **_):
        calls.append(list(args))
        return _proc.Result(args=tuple(args), code=0, stdout=answers[args[1]], stderr="")

    monkeypatch.setattr(_proc, "run", run)
    nodeimage._remove_older_nodes("rwk.local/kind-node:v1-new", said.append)
    assert ["docker", "rmi", "rwk.local/kind-node:v1-old"] in calls
    assert ["docker", "image", "prune", "--force", "--filter",
            f"label={nodeimage.RECIPE_LABEL}"] in calls
    assert said == ["removed the node images of earlier recipes: rwk.local/kind-node:v1-old",
                    "removed the untagged images of earlier recipes (529.7MB freed)"]
