"""Running criteria, polling, and keeping secret values out: checker.grading.runner."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

import pytest

from checker.grading import exercises
from checker.grading.state import ClusterState
from checker.kube.kinds import KINDS
from checker.errors import AccessDenied, ClusterUnreachable
from checker.grading.masking import MASK, SecretSource
from checker.grading.runner import poll, run_criteria
from checker.grading.model import Criterion, Failure, Result
from checker.grading.report import Report


def criterion(id_: str, check: Callable[[object], str | None], points: int = 1,
              title: str | None = None, hint: str = "see the lesson") -> Criterion:
    return Criterion(id=id_, title=title or f"title of {id_}", points=points, hint=hint,
                     check=check)


def passes(context: object) -> None:
    return None


def fails(context: object) -> None:
    raise Failure("data.LOG_LEVEL is 'INFO', expected 'info'")


class Context:
    """A stand-in for the cluster layer's context."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = list(secrets)
        self.calls: list[str] = []

    def secret_values(self) -> list[str]:
        return list(self.secrets)


# --- run_criteria --------------------------------------------------------------------

def test_a_passing_check_gives_a_passed_result() -> None:
    (result,) = run_criteria([criterion("a", passes, points=3, hint="h")], Context())
    assert result == Result(id="a", title="title of a", points=3, passed=True, message="",
                            hint="h")


def test_a_note_on_pass_becomes_the_message() -> None:
    (result,) = run_criteria([criterion("a", lambda c: "one claim by name")], Context())
    assert result.passed and result.message == "one claim by name"


def test_a_failure_gives_a_failed_result_with_its_message() -> None:
    (result,) = run_criteria([criterion("a", fails, points=2)], Context())
    assert not result.passed
    assert result.points == 2
    assert result.message == "data.LOG_LEVEL is 'INFO', expected 'info'"


def test_an_unexpected_error_becomes_a_failed_result_that_says_so() -> None:
    def broken(context: object) -> None:
        raise KeyError("containers")

    results = run_criteria([criterion("a", broken), criterion("b", passes)], Context())
    assert [r.passed for r in results] == [False, True]
    assert results[0].message == "the checker hit an unexpected error: KeyError: 'containers'"


@pytest.mark.parametrize("error", [ZeroDivisionError("division by zero"),
                                   AttributeError("'NoneType' object has no attribute 'spec'"),
                                   RuntimeError("")])
def test_every_kind_of_unexpected_error_is_caught(error: Exception) -> None:
    def broken(context: object) -> None:
        raise error

    (result,) = run_criteria([criterion("a", broken)], Context())
    assert not result.passed
    assert result.message.startswith(
        f"the checker hit an unexpected error: {type(error).__name__}: ")


@pytest.mark.parametrize("returned", [False, True, 0, ["note"]])
def test_a_check_returning_something_else_than_a_note_does_not_pass(returned: object) -> None:
    (result,) = run_criteria([criterion("a", lambda c: returned)], Context())  # type: ignore[arg-type,return-value]
    assert not result.passed
    assert "unexpected error: TypeError" in result.message
    assert "returns None or a note string" in result.message


def test_cluster_unreachable_stops_the_run() -> None:
    def unreachable(context: object) -> None:
        raise ClusterUnreachable("cannot reach https://127.0.0.1:6443")

    with pytest.raises(ClusterUnreachable):
        run_criteria([criterion("a", passes), criterion("b", unreachable)], Context())


def test_a_refused_read_fails_its_criterion_and_the_run_goes_on() -> None:
    def refused(context: object) -> None:
        raise AccessDenied("list", "secrets", "production")

    results = run_criteria([criterion("a", passes), criterion("b", refused),
                            criterion("c", passes)], Context())
    assert [r.passed for r in results] == [True, False, True]
    assert results[1].message.startswith(
        "the credentials may not list secrets in namespace production")
    assert "unexpected error" not in results[1].message


def test_a_refused_read_is_masked_like_any_message() -> None:
    def refused(context: object) -> None:
        raise AccessDenied("get", "secrets", "production", name=SECRET)

    (result,) = run_criteria([criterion("a", refused)], Context([SECRET]))
    assert not result.passed and SECRET not in result.message


class RefusingReader:
    """A reader of namespace production holding `objects`, which answers every read of a
    `refused` kind (and every SubjectAccessReview, with `refuse_reviews`) as the API server
    answers a 403: with AccessDenied. It records the reads it is asked for."""

    context = "course"

    def __init__(self, objects: dict[str, list[dict]], refused: Iterable[str] = (),
                 refuse_reviews: bool = False) -> None:
        self.objects = objects
        self.refused = set(refused)
        self.refuse_reviews = refuse_reviews
        self.reads: list[tuple[str, str]] = []

    def _read(self, verb: str, kind: str, namespace: str | None, name: str | None = None
              ) -> list[dict]:
        self.reads.append((verb, kind))
        spec = KINDS[kind]
        if kind in self.refused:
            raise AccessDenied(verb, spec.resource, namespace if spec.namespaced else None,
                               all_namespaces=spec.namespaced and not namespace, name=name,
                               context=self.context)
        return [o for o in self.objects.get(kind, [])
                if name is None or o["metadata"]["name"] == name]

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        found = self._read("get", kind, namespace, name)
        return found[0] if found else None

    def can_i(self, user: str, groups: list[str], verb: str, resource: str, group: str = "",
              namespace: str | None = None) -> bool:
        self.reads.append(("create", "subjectaccessreview"))
        if self.refuse_reviews:
            raise AccessDenied("create", "subjectaccessreviews.authorization.k8s.io",
                               context=self.context)
        return verb != "list" and namespace == "production"

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        return self._read("list", kind, namespace)


def _api_server_with_secret_refs() -> dict[str, list[dict]]:
    env = [{"name": var, "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": key}}}
           for var, key in (("DB_USERNAME", "username"), ("DB_PASSWORD", "password"))]
    template = {"metadata": {"labels": {"app": "api-server"}},
                "spec": {"containers": [{"name": "api-server", "env": env,
                                         "image": "ghcr.io/stefanprodan/podinfo:6.7.0"}]}}
    return {"namespace": [{"metadata": {"name": "production",
                                        "labels": {"environment": "production"}},
                           "status": {"phase": "Active"}}],
            "deployment": [{"kind": "Deployment", "metadata": {"name": "api-server"},
                            "spec": {"replicas": 1, "template": template}}]}


def test_grading_with_secrets_refused_fails_only_the_criteria_that_read_them() -> None:
    reader = RefusingReader(_api_server_with_secret_refs(), refused={"secret"})
    results = {r.id: r for r in run_criteria(exercises.criteria("secrets"),
                                             ClusterState(reader, "production"))}
    assert {i: r.passed for i, r in results.items()} == {
        "secret-exists": False, "secret-keys": False,
        "secret-env-refs": True, "no-literal-passwords": True}
    for refused in ("secret-exists", "secret-keys"):
        assert results[refused].message.startswith(
            "the credentials may not get secrets in namespace production "
            "(403 Forbidden on secrets/db-credentials, on context 'course')"), \
            results[refused].message
    # One run asks the API once for what it may not read, however many checks need it.
    assert reader.reads.count(("get", "secret")) == 1


def test_grading_with_access_reviews_refused_fails_only_the_rbac_criteria() -> None:
    objects = {**_api_server_with_secret_refs(),
               "serviceaccount": [{"metadata": {"name": "deployer"}}]}
    reader = RefusingReader(objects, refuse_reviews=True)
    results = {r.id: r for r in run_criteria(exercises.criteria("namespaces"),
                                             ClusterState(reader, "production"))}
    assert results["namespace-active"].passed and results["namespace-label"].passed
    for refused in ("deployer-can-deploy", "deployer-scoped"):
        assert not results[refused].passed
        assert results[refused].message.startswith(
            "the credentials may not create subjectaccessreviews.authorization.k8s.io "
            "(403 Forbidden"), results[refused].message


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def interrupted(context: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_criteria([criterion("a", interrupted)], Context())


def test_every_criterion_runs_in_order_with_the_context() -> None:
    context = Context()

    def record(name: str) -> Callable[[Context], None]:
        def check(ctx: Context) -> None:
            ctx.calls.append(name)
            if name == "b":
                raise Failure("b failed")
        return check

    results = run_criteria([criterion(n, record(n)) for n in "abc"], context)
    assert context.calls == ["a", "b", "c"]
    assert [r.id for r in results] == ["a", "b", "c"]
    assert [r.passed for r in results] == [True, False, True]
    assert isinstance(results, tuple)


def test_duplicate_ids_are_refused_before_anything_runs() -> None:
    ran = []
    with pytest.raises(ValueError, match="repeated: a"):
        run_criteria([criterion("a", lambda c: ran.append(1)), criterion("a", passes)],
                     Context())
    assert ran == []


def test_a_context_without_secret_values_is_fine() -> None:
    (result,) = run_criteria([criterion("a", fails)], object())
    assert result.message == "data.LOG_LEVEL is 'INFO', expected 'info'"


def test_a_context_whose_secret_values_is_no_method_is_not_asked() -> None:
    class Listed:
        secret_values = [SECRET]   # not a SecretSource's method: the runner ignores it

    (result,) = run_criteria([criterion("a", lambda c: f"saw {SECRET}")], Listed())
    assert result.passed and result.message == f"saw {SECRET}"


def test_the_state_view_is_the_secret_source_the_runner_asks() -> None:
    assert isinstance(ClusterState(RefusingReader({}), "production"), SecretSource)
    assert not isinstance(object(), SecretSource)


# --- masking --------------------------------------------------------------------------

SECRET = "Tr0ub4dor&3-x7Qz"
B64 = base64.b64encode(SECRET.encode()).decode()


def test_run_criteria_masks_secrets_given_as_an_argument() -> None:
    def leaks(context: object) -> None:
        raise Failure(f"env DB_PASSWORD has value {SECRET!r}")

    (result,) = run_criteria([criterion("a", leaks)], object(), secrets=[SECRET])
    assert SECRET not in result.message
    assert result.message == f"env DB_PASSWORD has value '{MASK}'"


def test_run_criteria_masks_secrets_the_context_knows() -> None:
    def leaks(context: object) -> None:
        raise Failure(f"data.password is {B64!r}")

    (result,) = run_criteria([criterion("a", leaks)], Context([SECRET]))
    assert B64 not in result.message and MASK in result.message


def test_secrets_the_context_reads_during_the_checks_are_masked() -> None:
    context = Context()

    def reads_then_leaks(ctx: Context) -> None:
        ctx.secrets.append(SECRET)  # the context learns the value while checking
        raise Failure(f"found {SECRET}")

    (result,) = run_criteria([criterion("a", reads_then_leaks)], context)
    assert SECRET not in result.message


def test_secrets_in_unexpected_errors_and_notes_are_masked() -> None:
    def crashes(context: object) -> None:
        raise ValueError(f"cannot parse {SECRET}")

    results = run_criteria([criterion("a", crashes), criterion("b", lambda c: f"saw {B64}")],
                           Context([SECRET]))
    assert results[0].message == f"the checker hit an unexpected error: ValueError: cannot parse {MASK}"
    assert results[1].passed and results[1].message == f"saw {MASK}"


def test_secrets_in_titles_and_hints_are_masked_too() -> None:
    (result,) = run_criteria([criterion("a", fails, title=f"t {SECRET}", hint=f"h {B64}")],
                             Context([SECRET]))
    assert SECRET not in result.title and B64 not in result.hint


def test_messages_are_withheld_when_the_secret_values_cannot_be_listed() -> None:
    class Broken:
        def secret_values(self) -> list[str]:
            raise RuntimeError("forbidden")

    def leaks(context: object) -> None:
        raise Failure(f"found {SECRET}")

    (result,) = run_criteria([criterion("a", leaks)], Broken())
    assert not result.passed
    assert SECRET not in result.message
    assert result.message.startswith("message withheld")


def test_when_listing_the_secrets_is_refused_only_refusals_are_shown() -> None:
    class NoSecrets:
        def secret_values(self) -> list[str]:
            raise AccessDenied("list", "secrets", "production")

    def refused(context: object) -> None:
        raise AccessDenied("get", "deployments.apps", "production", name="api-server")

    results = run_criteria([criterion("a", lambda c: f"saw {SECRET}"),
                            criterion("b", lambda c: (_ for _ in ()).throw(Failure(SECRET))),
                            criterion("c", refused)], NoSecrets())
    assert [r.passed for r in results] == [True, False, False]
    for withheld in results[:2]:
        assert withheld.message == ("message withheld: the checker must hide every Secret "
                                    "value, but the credentials may not list secrets in "
                                    "namespace production (403 Forbidden); grade with "
                                    "credentials that have this right, or grant it with a "
                                    "Role and RoleBinding; `kubectl auth can-i list secrets "
                                    "-n production` checks it")
    assert results[2].message.startswith("the credentials may not get deployments.apps in "
                                         "namespace production (403 Forbidden on "
                                         "deployments.apps/api-server)")


def test_no_rendering_of_the_report_carries_a_secret() -> None:
    secrets = [SECRET, "ünïcødé-<secret>&"]

    def leak_all(context: object) -> None:
        found = {s: base64.b64encode(s.encode()).decode() for s in secrets}
        raise Failure(f"found {found!r} and {json.dumps(secrets)}")

    results = run_criteria([criterion("a", leak_all), criterion("b", lambda c: str(secrets))],
                           Context(secrets))
    made = Report(exercise="secrets", namespace="production", context="kind-rwk",
                  results=results)
    renderings = [made.to_text(), made.to_text(color=True), made.to_json(), made.to_html(),
                  repr(made), json.dumps(made.to_dict(), ensure_ascii=False)]
    for secret in secrets:
        spellings = {secret, base64.b64encode(secret.encode()).decode(),
                     json.dumps(secret)[1:-1], "&lt;secret&gt;&amp;"}
        for rendering in renderings:
            for spelled in spellings:
                assert spelled not in rendering


# --- poll ----------------------------------------------------------------------------

class FakeTime:
    """A clock that only moves when the poller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def runs(*states: dict[str, bool]) -> tuple[Callable[[], Report], list[int]]:
    """A run_once that yields one report per state, repeating the last; and its call count."""
    count = [0]

    def run_once() -> Report:
        state = states[min(count[0], len(states) - 1)]
        count[0] += 1
        return Report(exercise="configmaps", namespace="production", context=None,
                      checked_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
                      results=tuple(Result(id=i, title=i, points=1, passed=p,
                                           message="" if p else "m", hint="h")
                                    for i, p in state.items()))
    return run_once, count


def test_poll_returns_at_once_when_all_pass() -> None:
    time = FakeTime()
    run_once, count = runs({"a": True, "b": True})
    made = poll(run_once, 60, 2, clock=time.clock, sleep=time.sleep)
    assert made.passed and count == [1] and time.sleeps == []
    assert made.still_changing == ()


def test_poll_with_no_wait_runs_once() -> None:
    time = FakeTime()
    run_once, count = runs({"a": False})
    made = poll(run_once, 0, 2, clock=time.clock, sleep=time.sleep)
    assert not made.passed and count == [1] and time.sleeps == []
    assert made.still_changing == ()


def test_poll_stops_early_once_all_pass() -> None:
    time = FakeTime()
    run_once, count = runs({"a": False, "b": True}, {"a": False, "b": True},
                           {"a": True, "b": True})
    made = poll(run_once, 60, 2, clock=time.clock, sleep=time.sleep)
    assert made.passed
    assert count == [3] and time.sleeps == [2, 2]
    assert made.still_changing == ("a",)


def test_poll_gives_up_when_time_runs_out_and_reports_the_last_state() -> None:
    time = FakeTime()
    run_once, count = runs({"a": False, "b": False})
    made = poll(run_once, 5, 2, clock=time.clock, sleep=time.sleep)
    assert not made.passed
    assert time.sleeps == [2, 2, 1]  # the last sleep ends exactly at the deadline
    assert time.now == 5 and count == [4]
    assert made.still_changing == ()


def test_poll_reports_criteria_that_flipped_between_the_last_two_runs() -> None:
    time = FakeTime()
    run_once, count = runs({"a": False, "b": False, "c": True, "d": False},
                           {"a": True, "b": False, "c": False, "d": False},
                           {"a": True, "b": True, "c": True, "d": False})
    made = poll(run_once, 4, 2, clock=time.clock, sleep=time.sleep)
    assert count == [3]
    assert made.still_changing == ("b", "c")  # a settled one run earlier; d never moved
    assert [r.passed for r in made.results] == [True, True, True, False]


def test_poll_reports_still_changing_in_the_rendered_text() -> None:
    time = FakeTime()
    run_once, _ = runs({"a": False, "b": False}, {"a": True, "b": False})
    made = poll(run_once, 2, 2, clock=time.clock, sleep=time.sleep)
    assert made.still_changing == ("a",)
    assert "still changing when the wait ended: a" in made.to_text()
    assert "still_changing" not in made.to_dict()


def test_poll_ignores_criteria_missing_from_the_previous_run() -> None:
    time = FakeTime()
    run_once, _ = runs({"a": False}, {"a": False, "new": True, "b": False})
    made = poll(run_once, 2, 2, clock=time.clock, sleep=time.sleep)
    assert made.still_changing == ()


@pytest.mark.parametrize(("wait", "interval", "match"), [(-1, 2, "wait"), (10, 0, "interval"),
                                                        (10, -1, "interval")])
def test_poll_refuses_bad_timings(wait: float, interval: float, match: str) -> None:
    run_once, count = runs({"a": True})
    with pytest.raises(ValueError, match=match):
        poll(run_once, wait, interval)
    assert count == [0]


def test_poll_uses_the_real_clock_by_default() -> None:
    run_once, count = runs({"a": False})
    made = poll(run_once, 0.05, 0.01)
    assert not made.passed and count[0] >= 2


# --- the one grading loop -------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_settle_stops_when_the_read_is_at_rest_before_the_wait_runs_out():
    from checker.grading.runner import settle
    clock, reads = _Clock(), iter([1, 2, 2, 2, 3])
    previous, latest = settle(lambda: next(reads), 60, 2, passed=lambda r: r == 3,
                              at_rest=lambda latest, before: latest == before,
                              clock=clock, sleep=clock.sleep)
    assert (previous, latest) == (2, 2) and clock.now == 4      # three reads, two sleeps


def test_settle_stops_at_a_pass_and_reads_once_without_a_wait():
    from checker.grading.runner import settle
    clock, reads = _Clock(), iter([1, 2, 3, 4])
    assert settle(lambda: next(reads), 60, 2, passed=lambda r: r == 3, clock=clock,
                  sleep=clock.sleep) == (2, 3)
    assert settle(lambda: 7, 0, 2, passed=lambda r: False, clock=clock,
                  sleep=clock.sleep) == (None, 7)


def test_check_again_reads_once_even_after_a_wait(monkeypatch):
    """A report made with a wait re-reads once: the panel's Wait button does the waiting,
    so Check again never blocks for the wait given to check() (no wait inside a wait)."""
    from checker.grading import runner as runner_module
    waits = []
    monkeypatch.setattr(runner_module, "Cluster", lambda context, kubeconfig: type(
        "C", (), {"context": "ctx"})())
    monkeypatch.setattr(runner_module, "ClusterState", lambda cluster, namespace: None)
    monkeypatch.setattr(runner_module.exercises, "criteria", lambda name: ())

    def recording_poll(run_once, wait, interval=2.0, **kwargs):
        waits.append(wait)
        return run_once()

    monkeypatch.setattr(runner_module, "poll", recording_poll)
    report = runner_module.grade("configmaps", "shop", wait=60)
    report.again()
    assert waits == [60, 0]
