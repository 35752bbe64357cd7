"""`rwk audit`: the pitfalls lessons/10-pitfalls.ipynb teaches, found in a live namespace.

Each rule is a small function that reads the namespace and yields findings; each finding
names the workload, the container where it applies, the rule and the lesson section that
teaches the fix. Values of env variables and ConfigMaps are never put in a finding: a rule
says which name looks like a credential, never what it holds.

The same rules grade the `disruptions` exercise's "rwk audit finds no pitfall" criterion
(`CLEAN`), so the exercise and the command can never disagree.

Beside the pitfalls of EXERCISES.md, `ADVICE` holds the hardening the later lessons teach (a
container that may run as root, pods that serve traffic with no NetworkPolicy, an Ingress
tied to the retired ingress-nginx by its annotations). They are reported apart, as advice:
they neither make a namespace unclean nor fail `audit-clean` (the course's earlier reference
solutions predate them, and a namespace EXERCISES.md calls clean stays clean), unless
`rwk audit --strict` asks for them to count.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..errors import UsageError
from ..kube.client import Cluster
from .checks.common import (allowed_when_healthy, applied_setting, budget_text, budgets_for, credential_name,
                            credential_settings, credential_value, hpa_for, literal_credential,
                            liveness_problems, pod_templates, policy_types, selector_matches)
from .masking import masked_values, redact
from .model import Criterion, Failure
from .state import ClusterState
from .timestamps import now, utc_iso

LESSON = "lessons/10-pitfalls.ipynb"
DEFAULT_NAMESPACE = "production"
SERVING = ("Deployment", "StatefulSet", "DaemonSet", "Pod")
"""Kinds whose pods serve traffic, so readiness matters (not Jobs and CronJobs)."""
ONCE_ONLY = ("ReadWriteOnce", "ReadWriteOncePod")


# --- findings and rules -------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One pitfall found in one place."""

    rule: str
    """The rule's id, e.g. `no-readiness-probe`."""
    kind: str
    """Kind of the object it was found in: Deployment, StatefulSet, ConfigMap, ..."""
    workload: str
    """Name of that object."""
    container: str | None
    """The container it applies to; None when it concerns the whole object."""
    message: str
    """What was found, with the field path; never a value that could be secret."""
    lesson: str
    """Where the course teaches the fix."""

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "kind": self.kind, "workload": self.workload,
                "container": self.container, "message": self.message, "lesson": self.lesson}

    @property
    def where(self) -> str:
        place = f"{self.kind} {self.workload}"
        return f"{place}, container {self.container}" if self.container else place


@dataclass(frozen=True)
class Workload:
    """A workload as the rules see it: its pod template and how many pods it runs."""

    kind: str
    name: str
    pod: dict
    """The pod spec of its template."""
    labels: dict
    """The labels of its pods."""
    replicas: int
    """spec.replicas, raised to its HPA's minReplicas when one targets it."""
    most: int
    """The most pods it may run: its HPA's maxReplicas, else `replicas`."""

    def containers(self, init: bool = False) -> Iterator[dict]:
        if init:
            yield from self.pod.get("initContainers") or []
        yield from self.pod.get("containers") or []


Hit = tuple[Workload | tuple[str, str], str | None, str]
"""What a rule yields: (workload, or (kind, name) of another object), container, message."""


@dataclass(frozen=True)
class Rule:
    """One pitfall: how to find it, and where the course teaches the fix."""

    id: str
    title: str
    section: str
    """The section of `notebook` that teaches it."""
    find: Callable[[ClusterState, list[Workload]], Iterable[Hit]]
    notebook: str = LESSON
    """The lesson that teaches it: lessons/10-pitfalls.ipynb for the pitfalls."""

    @property
    def lesson(self) -> str:
        return f"{self.notebook}, '{self.section}'"


def workloads(state: ClusterState) -> list[Workload]:
    """Every workload of the namespace, and every pod that no controller owns."""
    found = []
    for kind, item, template in pod_templates(state):
        name = item["metadata"]["name"]
        replicas = (item["spec"].get("replicas", 1) if kind in ("Deployment", "StatefulSet")
                    else 1)
        most = replicas
        hpa = hpa_for(state, kind, name) if kind != "Pod" else None
        if hpa is not None:
            replicas = max(replicas, (hpa.get("spec") or {}).get("minReplicas", 1))
            most = max(replicas, (hpa.get("spec") or {}).get("maxReplicas", 1))
        found.append(Workload(kind, name, template.get("spec") or {},
                              (template.get("metadata") or {}).get("labels") or {},
                              replicas, most))
    return found


def _no_readiness(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for load in loads:
        if load.kind not in SERVING:
            continue
        for item in load.containers():
            if not item.get("readinessProbe"):
                yield load, item.get("name"), (
                    "no readinessProbe: the pod gets traffic as soon as it starts, before it "
                    "can answer, and a rollout does not wait for it")


def _no_memory_limit(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    defaulted = any("memory" in (limit.get("default") or {})
                    for item in state.list("limitrange")
                    for limit in (item.get("spec") or {}).get("limits") or []
                    if limit.get("type") == "Container")
    if defaulted:   # the LimitRange gives every container a memory limit at admission
        return
    for load in loads:
        for item in load.containers(init=True):
            if "memory" not in ((item.get("resources") or {}).get("limits") or {}):
                yield load, item.get("name"), (
                    "resources.limits.memory is not set: a leak in this container can use "
                    "the node's memory until the kernel kills other pods")


def _aggressive_liveness(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for load in loads:
        for item in load.containers():
            problems, _ = liveness_problems(item)
            if problems:
                yield load, item.get("name"), "; ".join(problems)


def _state_in_deployment(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for load in loads:
        if load.kind != "Deployment" or load.most <= 1:
            continue
        claims = {v["name"]: v["persistentVolumeClaim"].get("claimName")
                  for v in load.pod.get("volumes") or [] if "persistentVolumeClaim" in v}
        for volume, claim_name in claims.items():
            claim = state.get("persistentvolumeclaim", claim_name) if claim_name else None
            modes = set(((claim or {}).get("spec") or {}).get("accessModes") or [])
            if not modes & set(ONCE_ONLY):
                continue
            users = [c.get("name") for c in load.containers(init=True)
                     if any(m.get("name") == volume for m in c.get("volumeMounts") or [])]
            count = (f"{load.replicas} replicas" if load.most == load.replicas
                     else f"up to {load.most} replicas (its HPA)")
            for user in users or [None]:
                yield load, user, (
                    f"{count} mount claim {claim_name} ({', '.join(sorted(modes))}): one node "
                    "at a time can attach it, so the other pods hang, and they would share "
                    "one database's files; use a StatefulSet with volumeClaimTemplates")


def _literal_password(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for load in loads:
        for item in load.containers(init=True):
            for entry in item.get("env") or []:
                if literal_credential(entry):
                    yield load, item.get("name"), (
                        f"env {entry['name']} is a literal value that looks like a credential "
                        "(not shown here): anyone who can read the workload can read it; "
                        "take it from a Secret with valueFrom.secretKeyRef")


def _credential_in_configmap(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for item in state.list("configmap"):
        name = item["metadata"]["name"]
        if name == "kube-root-ca.crt":
            continue
        for key, value in sorted((item.get("data") or {}).items()):
            if credential_name(key) and credential_value(value):
                yield ("ConfigMap", name), None, (
                    f"key {key} looks like a credential (value not shown): ConfigMaps are "
                    "stored and shown in plain text; put it in a Secret")
            elif credential_settings(value):
                settings = ", ".join(credential_settings(value))
                yield ("ConfigMap", name), None, (
                    f"key {key} is a file that sets {settings} (values not shown): "
                    "ConfigMaps are stored and shown in plain text; put it in a Secret")
        for key in sorted(item.get("binaryData") or {}):
            if credential_name(key):
                yield ("ConfigMap", name), None, (
                    f"binaryData key {key} looks like a credential: put it in a Secret")


def _budget_problems(state: ClusterState, loads: list[Workload], want_missing: bool
                     ) -> Iterator[Hit]:
    for load in loads:
        if load.kind not in ("Deployment", "StatefulSet"):
            continue
        budgets = budgets_for(state, load.labels)
        if not budgets:
            if want_missing and load.replicas > 1:
                yield load, None, (
                    f"{load.replicas} replicas and no PodDisruptionBudget selects its pods: "
                    "a node drain may evict all of them at once")
            continue
        if want_missing:
            continue
        names = ", ".join(sorted(b["metadata"]["name"] for b in budgets))
        if len(budgets) > 1:
            yield load, None, (f"its pods are selected by {len(budgets)} PodDisruptionBudgets "
                               f"({names}): the eviction API refuses such pods, so drains "
                               "hang")
            continue
        spec = budgets[0].get("spec") or {}
        if allowed_when_healthy(spec, load.replicas) == 0:
            yield load, None, (
                f"PodDisruptionBudget {names} ({budget_text(spec)}) allows no disruption "
                f"of its {load.replicas} pod(s): `kubectl drain` waits forever on their nodes")


RULES: tuple[Rule, ...] = (
    Rule("no-readiness-probe", "A serving container without a readiness probe",
         "Missing readiness probes", _no_readiness),
    Rule("no-memory-limit", "A container without a memory limit", "No resource limits",
         _no_memory_limit),
    Rule("aggressive-liveness-probe", "A liveness probe that restarts healthy pods",
         "Liveness probe too aggressive", _aggressive_liveness),
    Rule("state-in-deployment", "A multi-replica Deployment mounting a ReadWriteOnce claim",
         "Storing state in Deployments", _state_in_deployment),
    Rule("literal-password-env", "A password-like env value written in plain text",
         "Secrets in Git", _literal_password),
    Rule("credential-in-configmap", "A ConfigMap key that looks like a credential",
         "Secrets in Git", _credential_in_configmap),
    Rule("no-pdb", "A multi-replica workload without a PodDisruptionBudget",
         "Ignoring Pod Disruption Budgets",
         lambda state, loads: _budget_problems(state, loads, want_missing=True)),
    Rule("pdb-allows-no-disruption", "A PodDisruptionBudget that allows no disruption",
         "Ignoring Pod Disruption Budgets",
         lambda state, loads: _budget_problems(state, loads, want_missing=False)),
)


# --- advice: the hardening lessons 12 and 13 teach -------------------------------------------

SECURITY_LESSON, GATEWAY_LESSON = "lessons/13-security.ipynb", "lessons/12-gateway-api.ipynb"
INGRESS_NGINX_ANNOTATIONS = "nginx.ingress.kubernetes.io/"


def _may_run_as_root(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for load in loads:
        for item in load.containers(init=True):
            user = applied_setting(load.pod, item, "runAsUser")
            if user == 0:
                yield load, item.get("name"), "runs as root: runAsUser is 0"
            elif not user and applied_setting(load.pod, item, "runAsNonRoot") is not True:
                yield load, item.get("name"), (
                    "may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is "
                    "set (pod or container securityContext), so the image decides, and most "
                    "images run as root")


def _no_network_policy(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    services = [s for s in state.list("service") if (s.get("spec") or {}).get("selector")]
    if not services:
        return
    policies = [p.get("spec") or {} for p in state.list("networkpolicy")]
    guarding = [p for p in policies if "Ingress" in policy_types(p)]
    for load in loads:
        if load.kind not in SERVING:
            continue
        serving = sorted(s["metadata"]["name"] for s in services
                         if selector_matches({"matchLabels": s["spec"]["selector"]},
                                             load.labels))
        if serving and not any(selector_matches(p.get("podSelector") or {}, load.labels)
                               for p in guarding):
            yield load, None, (
                f"Service {', '.join(serving)} sends it traffic and no NetworkPolicy selects "
                "its pods: any pod of any namespace may connect to them")


def _ingress_nginx_annotations(state: ClusterState, loads: list[Workload]) -> Iterator[Hit]:
    for item in state.list("ingress"):
        annotations = item["metadata"].get("annotations") or {}
        tied = sorted(k for k in annotations if k.startswith(INGRESS_NGINX_ANNOTATIONS))
        if annotations.get("kubernetes.io/ingress.class") == "nginx":
            tied.append("kubernetes.io/ingress.class: nginx")
        if tied:
            yield ("Ingress", item["metadata"]["name"]), None, (
                f"{', '.join(tied)} tie it to ingress-nginx, retired in March 2026: other "
                "controllers ignore these annotations or read them their own way; the Gateway "
                "API says the same with typed fields")


ADVICE: tuple[Rule, ...] = (
    Rule("may-run-as-root", "A container that may run as root", "Who the process is",
         _may_run_as_root, SECURITY_LESSON),
    Rule("no-network-policy", "Pods that serve traffic with no NetworkPolicy",
         "Fenced in: NetworkPolicy", _no_network_policy, SECURITY_LESSON),
    Rule("ingress-nginx-annotations", "An Ingress tied to the retired ingress-nginx",
         "Ingress or Gateway?", _ingress_nginx_annotations, GATEWAY_LESSON),
)
"""Hardening reported as advice, apart from the pitfalls (see the module's docstring)."""


def find_pitfalls(state: ClusterState) -> tuple[Finding, ...]:
    """Run every pitfall rule over the namespace; findings sorted by place, then rule."""
    return _run(RULES, state)


def find_advice(state: ClusterState) -> tuple[Finding, ...]:
    """Run every rule of ADVICE over the namespace; sorted as the pitfalls are."""
    return _run(ADVICE, state)


def _run(rules: tuple[Rule, ...], state: ClusterState) -> tuple[Finding, ...]:
    loads = workloads(state)
    found = []
    for rule in rules:
        for subject, container, message in rule.find(state, loads):
            kind, name = (subject.kind, subject.name) if isinstance(subject, Workload) \
                else subject
            found.append(Finding(rule.id, kind, name, container, message, rule.lesson))
    order = {rule.id: i for i, rule in enumerate(rules)}
    return tuple(sorted(found, key=lambda f: (f.kind, f.workload, f.container or "",
                                              order[f.rule])))


# --- the report ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True, repr=False)
class AuditReport:
    """The pitfalls found in one namespace of one cluster."""

    namespace: str
    context: str | None
    findings: tuple[Finding, ...]
    advice: tuple[Finding, ...] = ()
    """What the rules of ADVICE found: shown, not counted unless `strict`."""
    strict: bool = False
    """Whether advice counts as findings do (`rwk audit --strict`)."""
    checked_at: datetime = field(default_factory=now)

    @property
    def clean(self) -> bool:
        """Whether no pitfall rule found anything (nor, when strict, any advice rule)."""
        return not self.findings and not (self.strict and self.advice)

    @property
    def checked_at_text(self) -> str:
        """`checked_at` in ISO 8601, UTC, to the second (a naive datetime is taken as UTC)."""
        return utc_iso(self.checked_at)

    def to_dict(self) -> dict[str, object]:
        """The JSON object of `rwk audit --output json`."""
        return {"namespace": self.namespace, "context": self.context, "clean": self.clean,
                "checked_at": self.checked_at_text,
                "findings": [finding.to_dict() for finding in self.findings],
                "rules": [{"id": r.id, "title": r.title, "lesson": r.lesson} for r in RULES],
                "advice": [finding.to_dict() for finding in self.advice],
                "advice_rules": [{"id": r.id, "title": r.title, "lesson": r.lesson}
                                 for r in ADVICE],
                "strict": self.strict}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self) -> str:
        """One block per finding (place, rule, what, lesson), a count last."""
        lines = [f"audit: namespace {self.namespace}, context {self.context or '(none)'}, "
                 f"checked {self.checked_at_text}"]
        for finding in self.findings:
            lines.append(f"{finding.where}: {finding.rule}")
            lines.append(f"      {finding.message}")
            lines.append(f"      lesson: {finding.lesson}")
        if not self.findings:
            lines.append(f"no pitfall found ({len(RULES)} rules checked)")
        else:
            lines.append(_counted(self.findings, "finding(s)"))
        if self.advice:
            counted = "counted: --strict" if self.strict else "not counted; --strict counts it"
            lines.append(f"hardening advice ({counted}):")
            for finding in self.advice:
                lines.append(f"  {finding.where}: {finding.rule}")
                lines.append(f"        {finding.message}")
                lines.append(f"        lesson: {finding.lesson}")
            lines.append(_counted(self.advice, "piece(s) of advice"))
        return "\n".join(lines)

    def __repr__(self) -> str:   # what a notebook shows
        return self.to_text()


def _counted(findings: tuple[Finding, ...], what: str) -> str:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    return f"{len(findings)} {what}: " + ", ".join(f"{rule} {n}" for rule, n in counts.items())


def audit(namespace: str | None = None, context: str | None = None,
          kubeconfig: str | None = None, strict: bool = False) -> AuditReport:
    """Audit `namespace` (default: production) of a kube context: connect, read, report;
    with `strict`, the advice counts against `clean` as the pitfalls do.

    UsageError (exit 2) when the namespace does not exist; ClusterUnreachable (exit 3) when
    the cluster cannot be reached.
    """
    target = namespace or DEFAULT_NAMESPACE
    cluster = Cluster(context=context, kubeconfig=kubeconfig)
    state = ClusterState(cluster, target)
    try:
        state.require_namespace()
    except Failure as failure:
        raise UsageError(failure.message) from None
    return AuditReport(namespace=target, context=cluster.context,
                       findings=masked(find_pitfalls(state), state),
                       advice=masked(find_advice(state), state), strict=strict)


def masked(findings: Iterable[Finding], state: ClusterState) -> tuple[Finding, ...]:
    """The findings with every Secret value of the namespace masked in what they say; when
    those values cannot be listed, each finding's names and message are withheld."""
    known, withheld = masked_values(state)
    if withheld:
        return tuple(replace(f, workload="(name withheld)", container=None, message=withheld)
                     for f in findings)
    return tuple(replace(f, workload=redact(f.workload, known),
                         container=f.container and redact(f.container, known),
                         message=redact(f.message, known)) for f in findings)


# --- the graded criterion -----------------------------------------------------------------

def _audit_clean(state: ClusterState) -> None:
    findings = find_pitfalls(state)
    if findings:
        raise Failure(f"rwk audit finds {len(findings)} pitfall(s): "
                      + "; ".join(f"{f.where}: {f.rule} ({f.message})" for f in findings))


CLEAN = Criterion(
    "audit-clean", "rwk audit finds no pitfall in the namespace", 2,
    f"run `rwk audit --namespace NS` and fix each finding; each names the lesson section "
    f"that teaches the fix; see {LESSON}", _audit_clean)
"""The `disruptions` exercise's criterion: the audit of the namespace is clean."""
