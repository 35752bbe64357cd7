"""The students' kubeconfigs: what goes in, when a token is kept, and files readable by
their owner only."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from checker.classroom import kubeconfigs
from checker.gradebook.model import Student
from checker.kube.writer import Endpoint, Token

ANN = Student("Ann", "student-ann")
ENDPOINT = Endpoint("https://10.0.0.1:6443", b"-----BEGIN CERTIFICATE-----\nCA\n")
NOW = 1_800_000_000.0
UID = "0d2c-uid"


def jwt(sub: str = "system:serviceaccount:student-ann:student", uid: str = UID,
        iat: float = NOW - 3600, exp: float = NOW + 11 * 3600) -> str:
    claims = {"sub": sub, "iat": iat, "exp": exp,
              "kubernetes.io": {"namespace": "student-ann",
                                "serviceaccount": {"name": "student", "uid": uid}}}
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{part}.c2lnbmF0dXJl"


def test_build_holds_the_ca_the_server_and_the_namespace():
    config = kubeconfigs.build(ANN, ENDPOINT, "TOKEN")
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://10.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == ENDPOINT.ca_pem
    assert config["current-context"] == "student-ann"
    assert config["contexts"][0]["context"] == {"cluster": "classroom", "user": "student-ann",
                                                "namespace": "student-ann"}
    assert config["users"][0]["user"] == {"token": "TOKEN"}


def test_delete_recognises_only_the_file_create_wrote_for_that_student():
    made = kubeconfigs.build(ANN, ENDPOINT, "TOKEN", server="https://class.example.org")
    assert kubeconfigs.made_for(made, ANN)
    assert kubeconfigs.made_for(kubeconfigs.build(ANN, ENDPOINT, ""), ANN)
    assert not kubeconfigs.made_for(made, Student("Bo", "student-bo"))
    changed = kubeconfigs.build(ANN, ENDPOINT, "TOKEN")
    changed["contexts"][0]["context"]["namespace"] = "default"
    assert not kubeconfigs.made_for(changed, ANN)
    added = kubeconfigs.build(ANN, ENDPOINT, "TOKEN")
    added["users"].append({"name": "admin", "user": {"token": "X"}})
    assert not kubeconfigs.made_for(added, ANN)
    for other in (None, {}, {"contexts": "x"}, {"current-context": "student-ann"}):
        assert not kubeconfigs.made_for(other, ANN)


def test_build_with_another_server_or_an_insecure_instructor():
    config = kubeconfigs.build(ANN, ENDPOINT, "T", server="https://class.example.org:443")
    assert config["clusters"][0]["cluster"]["server"] == "https://class.example.org:443"
    insecure = Endpoint("https://x", None, insecure=True, tls_server_name="api")
    cluster = kubeconfigs.build(ANN, insecure, "T")["clusters"][0]["cluster"]
    assert cluster == {"server": "https://x", "insecure-skip-tls-verify": True,
                       "tls-server-name": "api"}


def reuse(existing_token: str, seconds: int = 12 * 3600, server: str | None = None):
    existing = kubeconfigs.build(ANN, ENDPOINT, existing_token)
    wanted = kubeconfigs.build(ANN, ENDPOINT, "", server)
    return kubeconfigs.reusable_token(existing, wanted, ANN, UID, seconds, now=NOW)


def test_a_fresh_token_of_the_same_account_is_kept():
    token = jwt()
    assert reuse(token) == token


@pytest.mark.parametrize("token, why", [
    (jwt(uid="another-uid"), "the ServiceAccount was made again"),
    (jwt(sub="system:serviceaccount:student-bob:student"), "someone else's"),
    (jwt(iat=NOW - 10 * 3600, exp=NOW + 2 * 3600), "less than half of 12 h left"),
    (jwt(exp=NOW - 1), "expired"),
    ("not-a-jwt", "not a token"),
])
def test_a_token_is_renewed(token, why):
    assert reuse(token) is None, why


def test_a_token_the_cluster_shortened_is_kept_while_half_its_life_is_left():
    short = jwt(iat=NOW - 600, exp=NOW + 3000)       # the cluster gave 1 h of 12
    assert reuse(short) == short
    assert reuse(jwt(iat=NOW - 3000, exp=NOW + 600)) is None


def test_a_file_for_another_server_gets_a_new_token():
    assert reuse(jwt(), server="https://elsewhere:6443") is None
    assert kubeconfigs.reusable_token(None, kubeconfigs.build(ANN, ENDPOINT, ""), ANN, UID,
                                      3600, now=NOW) is None


def test_write_is_private_and_read_round_trips(tmp_path):
    path = kubeconfigs.path_of(tmp_path / "kc", ANN)
    assert path.name == "student-ann.kubeconfig"
    config = kubeconfigs.build(ANN, ENDPOINT, "T")
    kubeconfigs.write(path, config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert kubeconfigs.read(path) == config
    path.write_text("- not: a kubeconfig")
    assert kubeconfigs.read(path) is None
    assert kubeconfigs.read(tmp_path / "missing") is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]   # no temporary left


def test_a_token_never_shows_in_its_repr():
    from datetime import datetime, timezone
    token = Token("SECRET-VALUE", datetime(2030, 1, 1, tzinfo=timezone.utc), 3600)
    assert "SECRET-VALUE" not in repr(token) and "SECRET-VALUE" not in str(token)
