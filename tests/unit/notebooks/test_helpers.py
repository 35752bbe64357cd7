"""checker.notebooks.helpers: which backend a node list shows, and the skip line."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from checker.notebooks import helpers


def node(labels: dict | None = None, provider: str | None = None) -> dict:
    item: dict = {"metadata": {"name": "n", "labels": labels or {}}, "spec": {}}
    if provider is not None:
        item["spec"]["providerID"] = provider
    return item


@pytest.mark.parametrize("items, expected", [
    ([node({"type": "kwok"}), node({"type": "kwok"})], "sandbox"),
    ([node(provider="kind://docker/rwk/rwk-control-plane")], "kind"),
    ([node(provider="aws:///eu-west-1a/i-0abc")], "other"),
    ([node({"type": "kwok"}), node(provider="kind://docker/rwk/rwk-worker")], "other"),
    ([node({"type": "virtual"})], "other"),
    ([], "other"),
])
def test_classify(items: list, expected: str) -> None:
    assert helpers.classify({"items": items}) == expected


def test_classify_tolerates_missing_fields() -> None:
    assert helpers.classify({}) == "other"
    assert helpers.classify({"items": [{"metadata": {"labels": None}}]}) == "other"


def test_skip_message_says_where_and_why() -> None:
    assert helpers.skip_message(" no container runs\n") == \
        "skipped on the sandbox: no container runs"


def fake_kubectl(tmp_path: Path, nodes: dict | None, code: int = 0) -> str:
    script = tmp_path / "kubectl"
    answer = json.dumps(nodes) if nodes is not None else ""
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{answer}\nEOF\n"
                      f"echo 'the server is away' >&2\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


def test_backend_reads_the_nodes_through_kubectl(tmp_path: Path) -> None:
    kubectl = fake_kubectl(tmp_path, {"items": [node({"type": "kwok"})]})
    assert helpers.backend(kubectl) == "sandbox"


def test_backend_says_what_to_run_when_the_cluster_is_away(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"the server is away.*rwk up"):
        helpers.backend(fake_kubectl(tmp_path, None, code=1))


def test_only_on_kind_skips_visibly_on_the_sandbox(monkeypatch, capsys) -> None:
    monkeypatch.setattr(helpers, "backend", lambda: "sandbox")
    assert helpers.only_on_kind("no logs") is False
    assert capsys.readouterr().out == "skipped on the sandbox: no logs\n"
    monkeypatch.setattr(helpers, "backend", lambda: "kind")
    assert helpers.only_on_kind("no logs") is True
    assert capsys.readouterr().out == ""


def test_only_on_sandbox_is_the_mirror_image(monkeypatch, capsys) -> None:
    monkeypatch.setattr(helpers, "backend", lambda: "sandbox")
    assert helpers.only_on_sandbox("a switch") is True
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(helpers, "backend", lambda: "kind")
    assert helpers.only_on_sandbox("a switch") is False
    assert capsys.readouterr().out == "skipped on kind: a switch\n"
    monkeypatch.setattr(helpers, "backend", lambda: "other")
    assert helpers.only_on_sandbox("a switch") is False
    assert capsys.readouterr().out == "skipped on this cluster: a switch\n"


def test_a_probe_given_is_asked_instead_of_kubectl(monkeypatch, capsys) -> None:
    def kubectl_must_not_run() -> str:
        raise AssertionError("the default probe ran although one was given")

    monkeypatch.setattr(helpers, "backend", kubectl_must_not_run)
    asked: list[str] = []

    def on(name: helpers.Backend) -> helpers.BackendProbe:
        def probe() -> helpers.Backend:
            asked.append(name)
            return name
        return probe

    assert helpers.only_on_kind("no logs", probe=on("sandbox")) is False
    assert helpers.only_on_kind("no logs", probe=on("kind")) is True
    assert helpers.only_on_sandbox("a switch", probe=on("sandbox")) is True
    assert helpers.only_on_sandbox("a switch", probe=on("other")) is False
    assert asked == ["sandbox", "kind", "sandbox", "other"]
    assert capsys.readouterr().out == ("skipped on the sandbox: no logs\n"
                                       "skipped on this cluster: a switch\n")


def test_the_contract_is_typed_and_its_names_agree() -> None:
    assert set(get_args(helpers.Backend)) == {helpers.SANDBOX, helpers.KIND, helpers.OTHER}
    for helper in (helpers.only_on_kind, helpers.only_on_sandbox):
        hints = get_type_hints(helper)
        assert hints["probe"] == helpers.BackendProbe | None and hints["return"] is bool
    assert get_type_hints(helpers.classify) == {"node_list": helpers.NodeList,
                                                 "return": helpers.Backend}
    assert get_type_hints(helpers.backend)["return"] == helpers.Backend


def test_does_not_import_the_kubernetes_client() -> None:
    """Checked on the source: importing the package may load the client for other reasons."""
    tree = ast.parse(Path(helpers.__file__).read_text())
    imported = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                for alias in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "kubernetes" for name in imported)
