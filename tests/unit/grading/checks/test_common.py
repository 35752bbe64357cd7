"""The helpers every topic shares (checks/common.py): int-or-percent fields, label
selectors and disruption budgets as the controllers compute them, revisions, kind names,
lookups that name a near miss, one Failure listing every problem; and the rules a check and
the audit both judge by, which must give one verdict."""

from __future__ import annotations

import pytest

from checker.errors import AccessDenied
from checker.grading.audit import find_pitfalls
from checker.grading.checks import common, probes, secrets
from checker.grading.model import Failure

from ..fakes import FakeState, container, workload


@pytest.mark.parametrize("value, total, up, expected", [
    (1, 3, True, 1), ("1", 3, True, 1), (0, 3, False, 0), ("0", 3, False, 0),
    ("25%", 3, True, 1), ("25%", 3, False, 0),         # the API's default at 3 replicas
    ("34%", 3, True, 2), ("34%", 3, False, 1),
    ("33%", 3, True, 1), ("33%", 3, False, 0),
    ("100%", 3, False, 3), ("0%", 3, True, 0), ("25%", 8, True, 2), ("50%", 5, True, 3),
])
def test_scaled_resolves_ints_and_percentages(value, total, up, expected):
    assert common.scaled(value, total, round_up=up) == expected


@pytest.mark.parametrize("bad", ["x", "1.5", "%", "ten%", True, None])
def test_scaled_refuses_what_is_not_an_int_or_percentage(bad):
    with pytest.raises(ValueError):
        common.scaled(bad, 3, round_up=True)


def test_revision_reads_the_annotation():
    assert common.revision({"metadata": {"annotations": {common.REVISION: "3"}}}) == 3
    assert common.revision({"metadata": {}}) is None
    assert common.revision({"metadata": {"annotations": {common.REVISION: "x"}}}) is None


APP = {"app": "api-server", "tier": "web"}


@pytest.mark.parametrize("selector, expected", [
    ({"matchLabels": {"app": "api-server"}}, True),
    ({"matchLabels": {"app": "apiserver"}}, False),
    ({"matchLabels": {"app": "api-server", "tier": "db"}}, False),
    ({}, True),                                   # empty: every pod (policy/v1)
    (None, False),                                # null: no pod
    ({"matchExpressions": [{"key": "app", "operator": "In",
                            "values": ["api-server", "frontend"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["api-server"]}]},
     False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
    ({"matchLabels": {"app": "api-server"},
      "matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, True),
])
def test_selector_matches(selector, expected):
    assert common.selector_matches(selector, APP) is expected


def test_selector_text():
    assert common.selector_text({"matchLabels": {"app": "api-server"}}) == "app=api-server"
    assert common.selector_text({"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["a", "b"]},
        {"key": "x", "operator": "DoesNotExist"}]}) == "app in (a,b),!x"
    assert common.selector_text({}) == "(empty: every pod)"


@pytest.mark.parametrize("spec, expected_pods, allowed", [
    ({"maxUnavailable": 1}, 3, 1),
    ({"minAvailable": 2}, 3, 1),
    ({"minAvailable": 3}, 3, 0),
    ({"minAvailable": 1}, 3, 2),
    ({"maxUnavailable": 0}, 3, 0),
    ({"minAvailable": "50%"}, 3, 1),     # 1.5 rounds up to 2 that must stay
    ({"maxUnavailable": "34%"}, 3, 2),   # 1.02 rounds up to 2
    ({"maxUnavailable": "33%"}, 3, 1),
    ({"minAvailable": "100%"}, 3, 0),
    ({"maxUnavailable": 5}, 3, 3),
    ({"minAvailable": 4}, 3, 0),
    ({}, 3, 3),
])
def test_allowed_when_healthy(spec, expected_pods, allowed):
    assert common.allowed_when_healthy(spec, expected_pods) == allowed




def test_kinds_are_spelt_as_the_api_spells_them():
    assert [common.kind_name(k) for k in common.WORKLOADS] == [
        "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]
    assert common.kind_name("horizontalpodautoscaler") == "HorizontalPodAutoscaler"


def test_pod_templates_name_every_kind_as_the_api_does():
    """Objects in a list carry no `kind`; the messages must still say StatefulSet."""
    sts = workload("postgres", kind="StatefulSet")
    del sts["kind"]
    cron = {"metadata": {"name": "backup"}, "spec": {"jobTemplate": {"spec": {"template": {
        "metadata": {}, "spec": {"containers": []}}}}}}
    bare = {"metadata": {"name": "debug"}, "spec": {"containers": []}}
    owned = {"metadata": {"name": "api-server-x", "ownerReferences": [{"uid": "u"}]},
             "spec": {}}
    state = FakeState(statefulset=[sts], daemonset=[workload("agent")], cronjob=[cron],
                      pod=[bare, owned])
    assert [(kind, item["metadata"]["name"]) for kind, item, _ in common.pod_templates(state)] \
        == [("StatefulSet", "postgres"), ("DaemonSet", "agent"), ("CronJob", "backup"),
            ("Pod", "debug")]


def test_require_names_a_near_miss_and_what_exists():
    state = FakeState(horizontalpodautoscaler=[{"metadata": {"name": "api-server-hp"}}],
                      configmap=[{"metadata": {"name": "kube-root-ca.crt"}}])
    assert common.require(state, "horizontalpodautoscaler", "api-server-hp")
    with pytest.raises(Failure) as failed:
        common.require(state, "horizontalpodautoscaler", "api-server-hpa")
    assert failed.value.message == (
        "no HorizontalPodAutoscaler 'api-server-hpa' in namespace production (found "
        "'api-server-hp': misspelt?); HorizontalPodAutoscalers there: api-server-hp")
    with pytest.raises(Failure, match="no Ingress 'app-ingress' .*; Ingresses there: none"):
        common.require(state, "ingress", "app-ingress")
    with pytest.raises(Failure, match="ConfigMaps there: none$"):
        common.require(state, "configmap", "api-config", ignore={"kube-root-ca.crt"})


def test_require_secret_says_when_it_sits_in_another_namespace():
    elsewhere = {"metadata": {"name": "tls-cert", "namespace": "default"}}
    with pytest.raises(Failure) as failed:
        common.require_secret(FakeState(secret=[elsewhere]), "tls-cert", "an Ingress")
    assert failed.value.message == (
        "no Secret 'tls-cert' in namespace production; there is one in default, but an "
        "Ingress reads only its own namespace's Secrets")
    with pytest.raises(Failure, match="no Secret 'db-credentials' in namespace production; "
                                      "Secrets there: none"):
        common.require_secret(FakeState(), "db-credentials", "a pod")


def test_require_secret_without_the_right_to_look_elsewhere_says_it_is_missing():
    class Bound(FakeState):   # credentials bound to one namespace, as a class's are
        def list_cluster(self, kind: str, field_selector: str | None = None) -> list[dict]:
            raise AccessDenied("list", kind + "s", all_namespaces=True)

    with pytest.raises(Failure, match="no Secret 'db-credentials' in namespace production; "
                                      "Secrets there: none"):
        common.require_secret(Bound(), "db-credentials", "a pod")


def test_fail_on_lists_every_problem_once():
    common.fail_on([], "HPA api-server-hpa")
    with pytest.raises(Failure) as failed:
        common.fail_on(["a is 1", "b is 2"], "HPA api-server-hpa", " (the HPA says: x)")
    assert failed.value.message == "HPA api-server-hpa: a is 1; b is 2 (the HPA says: x)"
    with pytest.raises(Failure, match="^claim x is Pending$"):
        common.fail_on(["claim x is Pending"])


def test_replica_sets_are_the_owned_ones_oldest_revision_first():
    def replica_set(name, owner, rev):
        return {"metadata": {"name": name, "uid": name, "ownerReferences": [{"uid": owner}],
                             "annotations": {common.REVISION: str(rev)}}}

    state = FakeState(replicaset=[replica_set("b", "u1", 3), replica_set("a", "u1", 1),
                                  replica_set("other", "u2", 2)])
    found = common.replica_sets(state, workload(uid="u1"))
    assert [rs["metadata"]["name"] for rs in found] == ["a", "b"]


# --- what looks like a credential: one verdict for the secrets check and the audit --------

@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "PASSWORD", "db_pass", "dbPassword", "SECRET_KEY", "AWS_SECRET_ACCESS_KEY",
    "GITHUB_TOKEN", "apiKey", "API_KEY", "APIKEY", "api-key", "clientSecret", "tls.key",
    "credentials.json", "JWT_SIGNING_KEY", "STRIPE_PRIVATE_KEY", "DB_PASSWD", "DB_PWD",
    "DB_CREDS", "ENCRYPTION_KEY", "passphrase"])
def test_credential_names(name):
    assert common.credential_name(name)


@pytest.mark.parametrize("name", [
    "DB_USERNAME", "LOG_LEVEL", "PASSWORD_FILE", "TOKEN_TTL", "SECRET_NAME", "MAX_TOKENS",
    "PASSWORD_MIN_LENGTH", "AWS_ACCESS_KEY_ID", "PWD", "PASSWORD_KEY", "CACHE_KEY_PREFIX",
    "FEATURE_NEW_UI", "TOKEN_URL", "BYPASS_CACHE", "COMPASS_HEADING"])
def test_names_that_only_speak_about_credentials(name):
    assert not common.credential_name(name)


def test_credential_values():
    assert common.credential_value("hunter2")
    for value in ("", "  ", "true", "False", "$(OTHER_VAR)", "${DB_PASSWORD}", "{{ .pw }}",
                  "<your password here>", None):
        assert not common.credential_value(value), value


def test_credential_settings_in_a_config_file():
    text = ("spring.datasource.url=jdbc:postgresql://postgres:5432/app\n"
            "spring.datasource.password=s3cr3t\n"
            "  \"apiToken\": \"abc\",\n"
            "password: ${DB_PASSWORD}\n"
            "log.level = info\n")
    assert common.credential_settings(text) == ["spring.datasource.password", "apiToken"]


@pytest.mark.parametrize("name, value, flagged", [
    ("DB_PASSWORD", "hunter2-plain", True),
    ("API_KEY", "abc123", True),
    # The secrets check's old pattern missed these credentials; the audit caught them.
    ("DB_PWD", "hunter2-plain", True),
    ("DB_CREDS", "app:hunter2", True),
    ("ENCRYPTION_KEY", "0123456789abcdef", True),
    # And it failed these, which only speak about a credential: a file path, a reference to
    # a Secret, a duration, a length, a flag, a variable reference, a word holding "pass".
    ("PASSWORD_FILE", "/etc/secrets/password", False),
    ("SECRET_NAME", "db-credentials", False),
    ("TOKEN_TTL", "3600", False),
    ("PASSWORD_MIN_LENGTH", "12", False),
    ("REQUIRE_PASSWORD", "true", False),
    ("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)", False),
    ("BYPASS_CACHE", "1", False),
])
def test_the_secrets_check_and_the_audit_judge_an_env_value_alike(name, value, flagged):
    """One function decides what a password-like literal is, for the no-literal-passwords
    criterion and for the audit's literal-password-env rule, so the two never disagree."""
    state = FakeState(deployment=[workload(containers=[
        container(env=[{"name": name, "value": value}])])])
    try:
        secrets.no_literal_passwords(state)
        check_flags = False
    except Failure as failure:
        assert value not in failure.message
        check_flags = True
    audit_flags = any(f.rule == "literal-password-env" for f in find_pitfalls(state))
    assert (check_flags, audit_flags) == (flagged, flagged)


# --- an aggressive liveness probe: one verdict for the probes check and the audit ---------

HTTP = {"httpGet": {"path": "/healthz", "port": 8080}}


@pytest.mark.parametrize("liveness, startup, fragment", [
    ({"initialDelaySeconds": 15, "failureThreshold": 3}, None, None),
    ({"initialDelaySeconds": 15, "failureThreshold": 1}, None, "failureThreshold is 1"),
    ({"initialDelaySeconds": 2}, None, "initialDelaySeconds is 2 and no startupProbe"),
    ({}, None, "initialDelaySeconds is 0 (the default) and no startupProbe guards it"),
    ({"initialDelaySeconds": 0}, {"periodSeconds": 5, "failureThreshold": 12}, None),
    ({"initialDelaySeconds": 0}, {}, None),      # the defaults: 3 x 10 s
    # The audit used to accept any startupProbe; this one gives the app 4 s to start.
    ({"initialDelaySeconds": 0}, {"periodSeconds": 2, "failureThreshold": 2},
     "the startupProbe gives the app only 4s to start"),
])
def test_the_probes_check_and_the_audit_judge_a_liveness_probe_alike(liveness, startup,
                                                                      fragment):
    fields = {"livenessProbe": {**HTTP, **liveness}}
    if startup is not None:
        fields["startupProbe"] = {**HTTP, **startup}
    state = FakeState(deployment=[workload(containers=[container(**fields)])])
    try:
        note = probes.liveness_not_aggressive(state)
        check_says = None
    except Failure as failure:
        note, check_says = None, failure.message
    audit_says = [f.message for f in find_pitfalls(state)
                  if f.rule == "aggressive-liveness-probe"]
    if fragment is None:
        assert check_says is None and audit_says == []
    else:
        assert check_says == f"container api-server: {audit_says[0]}"
        assert fragment in audit_says[0]
    if startup is not None and fragment is None:
        assert note.startswith("the startupProbe guards the start")
