"""The security checks' rules on specs and fake namespaces: which field Kubernetes applies
(the container's over the pod's), capability names' case, and NetworkPolicy peers and ports.
The live both-ways tests are tests/integration/test_checks_security.py."""

from __future__ import annotations

import pytest

from checker.grading.checks import security
from checker.grading.model import Failure

from ..fakes import FakeState, container, workload

LOCKED_POD = {"runAsNonRoot": True, "runAsUser": 10001,
              "seccompProfile": {"type": "RuntimeDefault"}}
LOCKED_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]}}


def spec(pod=None, own=None, **extra) -> dict:
    item = container(securityContext=own) if own is not None else container()
    return {"securityContext": pod or {}, "containers": [item],
            "automountServiceAccountToken": False, **extra}


def test_the_containers_field_wins_over_the_pods():
    assert security._pod_problems(spec(LOCKED_POD)) == []
    assert security._pod_problems(spec(LOCKED_POD, {"runAsUser": 0})) == [
        "runAsUser is 0, which is root"]
    assert security._pod_problems(spec({**LOCKED_POD, "runAsNonRoot": None},
                                       {"runAsNonRoot": True})) == []


def test_the_token_and_seccomp_are_named():
    found = security._pod_problems(spec({"runAsNonRoot": True, "runAsUser": 1},
                                        automountServiceAccountToken=None))
    assert found[0] == "no seccompProfile (expected type RuntimeDefault)"
    assert found[1].startswith("automountServiceAccountToken is not false")


@pytest.mark.parametrize("drop, fragment", [
    (["all"], "'all' in lower case drops nothing"),
    (["NET_RAW"], "capabilities.drop is NET_RAW, expected ['ALL']"),
    ([], "capabilities.drop is none, expected ['ALL']")])
def test_capabilities_must_drop_all_in_upper_case(drop, fragment):
    own = {**LOCKED_CONTAINER, "capabilities": {"drop": drop}}
    (problem,) = security._container_problems(spec(LOCKED_POD, own))
    assert fragment in problem


def test_adding_back_net_bind_service_alone_is_allowed():
    own = {**LOCKED_CONTAINER, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}
    assert security._container_problems(spec(LOCKED_POD, own)) == []
    own["capabilities"]["add"].append("SYS_ADMIN")
    assert security._container_problems(spec(LOCKED_POD, own)) == [
        "capabilities.add gives back SYS_ADMIN"]


def test_tmp_must_be_an_emptydir():
    item = container(securityContext=LOCKED_CONTAINER,
                     volumeMounts=[{"name": "scratch", "mountPath": "/tmp"}])
    on_disk = {"containers": [item], "volumes": [{"name": "scratch", "hostPath": {"path": "/x"}}]}
    assert security._filesystem_problems(on_disk) == [
        "the volume 'scratch' mounted at /tmp is not an emptyDir"]
    on_disk["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    assert security._filesystem_problems(on_disk) == []


def _allow(**spec) -> dict:
    base = {"podSelector": {"matchLabels": {"app": "api-server"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "traefik"}}}],
                "ports": [{"protocol": "TCP", "port": "http"}]}],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "kube-system"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"port": 53}]}]}
    return {"metadata": {"name": "allow-api"}, "spec": {**base, **spec}}


def _state(policy: dict) -> FakeState:
    app = workload(containers=[container(ports=[{"name": "http", "containerPort": 8080}])])
    return FakeState(deployment=[app], networkpolicy=[policy])


def test_a_named_port_and_the_default_protocol_are_read_by_meaning():
    security.allow_ingress(_state(_allow()))    # port "http" is 8080
    security.allow_dns(_state(_allow()))        # a port with no protocol is TCP


def test_every_pod_selector_also_passes_and_takes_in_the_app():
    security.allow_ingress(_state(_allow(podSelector={})))
    with pytest.raises(Failure, match="does not select the pods of api-server"):
        security.allow_ingress(_state(_allow(podSelector={"matchLabels": {"app": "web"}})))


def test_an_ingress_rule_from_this_namespace_is_not_the_controllers():
    policy = _allow(ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}])
    with pytest.raises(Failure, match="allows pods of this namespace, not the controller's"):
        security.allow_ingress(_state(policy))


def test_a_policy_without_policy_types_governs_egress_only_with_rules():
    policy = _allow(policyTypes=None)
    security.allow_dns(_state(policy))            # egress rules: Egress is implied
    policy["spec"].pop("egress")
    with pytest.raises(Failure, match="policyTypes lacks Egress"):
        security.allow_dns(_state(policy))
