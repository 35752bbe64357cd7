"""One description per API kind (checker/kube/kinds.py): what it says, and that every table
of kinds elsewhere derives from it."""

from __future__ import annotations

import pytest

from checker.classroom import provision
from checker.clusters.base import WORK_KINDS
from checker.kube import kinds, writer
from checker.kube.client import Cluster
from checker.notebooks import live


def test_each_kind_has_one_entry_and_its_key_is_its_name_in_lower_case():
    assert len({k.key for k in kinds.ALL}) == len(kinds.ALL)
    assert kinds.named("HorizontalPodAutoscaler") is kinds.KINDS["horizontalpodautoscaler"]
    with pytest.raises(KeyError):
        kinds.named("Gadget")


@pytest.mark.parametrize("name, api_version, path, resource", [
    ("Secret", "v1", "/api/v1/namespaces/shop/secrets", "secrets"),
    ("Deployment", "apps/v1", "/apis/apps/v1/namespaces/shop/deployments", "deployments.apps"),
    ("HorizontalPodAutoscaler", "autoscaling/v2",
     "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers",
     "horizontalpodautoscalers.autoscaling"),
    ("StorageClass", "storage.k8s.io/v1", "/apis/storage.k8s.io/v1/storageclasses",
     "storageclasses.storage.k8s.io"),
    ("ValidatingAdmissionPolicy", "admissionregistration.k8s.io/v1",
     "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
     "validatingadmissionpolicies.admissionregistration.k8s.io"),
])
def test_where_a_kind_is_served_and_what_rbac_calls_it(name, api_version, path, resource):
    kind = kinds.named(name)
    assert kind.api_version == api_version
    assert kind.path("shop") == path           # a cluster-wide kind ignores the namespace
    assert kind.resource == resource


def test_a_namespaced_kind_without_a_namespace_is_the_whole_cluster_s_list():
    assert kinds.named("Pod").path() == "/api/v1/pods"


def test_the_reader_and_the_writer_build_the_same_paths_from_it():
    assert Cluster._path("deployment", "shop") == kinds.named("Deployment").path("shop")
    assert writer._path("rbac.authorization.k8s.io/v1", "RoleBinding", "shop") == \
        "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings"
    with pytest.raises(ValueError, match="served as rbac.authorization.k8s.io/v1"):
        writer._path("rbac.authorization.k8s.io/v1beta1", "RoleBinding", "shop")


def test_every_other_table_of_kinds_names_kinds_described_here():
    plurals = {k.plural for k in kinds.ALL}
    assert set(WORK_KINDS) <= plurals
    described = {(k.api_version, k.kind) for k in kinds.ALL}
    assert set(provision.KINDS) <= described
    assert set(live.WATCHED) <= set(kinds.KINDS)
    assert live.watch_path("pod", "shop").startswith("/api/v1/namespaces/shop/pods?watch=1")
    with pytest.raises(KeyError):
        live.watch_path("secret", "shop")      # not a kind the views watch
