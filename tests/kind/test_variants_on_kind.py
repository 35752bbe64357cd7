"""The broken variants on kind: the sandbox suite's variant tests (tests/integration), each
run again against the kind cluster, where the pods behind them are real. Each applies a
reference solution with one mistake and expects its criterion to fail with the message that
names it, and every other criterion to pass.

`sandbox`, `kubectl` and `namespace` are the kind suite's here (conftest.py): the tests read
only a cluster's context and kubeconfig from `sandbox`, which a kind cluster has too.
"""

from __future__ import annotations

import pytest

from ..integration import (test_checks_autoscaling, test_checks_disruptions,
                           test_checks_first_exercises, test_checks_gateway, test_checks_ingress,
                           test_checks_probes, test_checks_resources, test_checks_rollouts,
                           test_checks_security, test_checks_storage)
from .conftest import KIND_TEST_COST

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]

test_namespaces_variant = test_checks_first_exercises.test_namespaces_variant_fails_its_criterion
test_configmaps_variant = test_checks_first_exercises.test_configmaps_variant_fails_its_criterion
test_ingress_variant = test_checks_ingress.test_variant_fails_its_criterion
test_ingress_certificate_variant = (
    test_checks_ingress.test_certificate_variant_fails_ingress_certificate)
test_resources_variant = test_checks_resources.test_variant_fails_its_criterion
test_probes_variant = test_checks_probes.test_variant_fails_its_criterion
test_autoscaling_variant = test_checks_autoscaling.test_variant_fails_its_criterion
test_rollouts_variant = test_checks_rollouts.test_strategy_variant_fails_its_criterion
test_storage_variant = test_checks_storage.test_variant_fails_its_criterion
test_disruptions_variant = test_checks_disruptions.test_variant_fails_its_criterion
# Traefik writes the routes' status here: the variants a real controller refuses too list
# gateway-status among the criteria they may break.
# Only those EXERCISES.md names, and the misspelt class Traefik ignores: each costs real pods.
test_gateway_opaque_secret = test_checks_gateway.test_tls_secret_of_type_opaque


@pytest.mark.parametrize("name", test_checks_gateway.ON_KIND)
def test_gateway_variant(sandbox, kubectl, namespace, tmp_path, name):
    test_checks_gateway.test_variant_fails_its_criterion(sandbox, kubectl, namespace, tmp_path,
                                                         name)


@pytest.mark.parametrize("name", test_checks_security.ON_KIND)
def test_security_variant(sandbox, kubectl, namespace, name):
    test_checks_security.test_variant_fails_its_criterion(sandbox, kubectl, namespace, name)
