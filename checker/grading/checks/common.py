"""What several topics (and the audit) share: lookups that say what exists instead, the app's
Deployment and pods, rollout and readiness, label selectors and disruption budgets.

The topic modules beside this one import only this module and state.py, never one another
(.importlinter says so), so a fact two checks rely on is stated once, here.

Several messages quote what the cluster itself says (the scheduler's FailedScheduling, the
ReplicaSet's FailedCreate, a container's waiting reason), because that is what a student
would find with `kubectl describe`, and it names the actual cause.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence

from ...errors import AccessDenied
from ..model import Failure
from ..state import ClusterState

APP = "api-server"
"""The course's app: Deployment, container and Service all carry this name."""
KIND_NAMES = {
    "deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet",
    "job": "Job", "cronjob": "CronJob", "pod": "Pod", "replicaset": "ReplicaSet",
    "service": "Service", "configmap": "ConfigMap", "secret": "Secret",
    "ingress": "Ingress", "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "poddisruptionbudget": "PodDisruptionBudget", "persistentvolumeclaim":
    "PersistentVolumeClaim"}
"""How the API spells each kind the checks name (objects in a list carry no `kind`)."""
WORKLOADS = ("deployment", "statefulset", "daemonset", "job", "cronjob")
"""The kinds whose pod template runs pods, in the order the checks report them."""
SHOWN = 3
"""How many pods a message describes before it says 'and N more'."""
REVISION = "deployment.kubernetes.io/revision"


# --- messages -----------------------------------------------------------------------------

def near(name: str, candidates: Iterable[str]) -> str:
    """' (found X: misspelt?)' when a candidate looks like a misspelling of `name`."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (found {close[0]!r}: misspelt?)" if close else ""


def listing(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none"


def fail_on(problems: Sequence[str], subject: str = "", tail: str = "") -> None:
    """One Failure listing every problem found ('SUBJECT: one; two TAIL'); none, no Failure.

    A check collects all that is wrong before it fails, so one run shows a student every
    mistake, not the first.
    """
    if problems:
        raise Failure((f"{subject}: " if subject else "") + "; ".join(problems) + tail)


def _some(problems: list[str]) -> str:
    shown = "; ".join(problems[:SHOWN])
    return shown + (f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else "")


# --- lookups ------------------------------------------------------------------------------

def kind_name(kind: str) -> str:
    """`statefulset` -> `StatefulSet`, as the API and kubectl write it."""
    return KIND_NAMES.get(kind, kind.capitalize())


def _plural(kind: str) -> str:
    name = kind_name(kind)
    return name + ("es" if name.endswith("s") else "s")


def names(state: ClusterState, kind: str, ignore: Iterable[str] = ()) -> list[str]:
    """The names of the objects of a kind in the namespace, but those in `ignore`."""
    skip = set(ignore)
    return [o["metadata"]["name"] for o in state.list(kind) if o["metadata"]["name"] not in skip]


def instead(state: ClusterState, kind: str, name: str, ignore: Iterable[str] = ()) -> str:
    """'(found X: misspelt?); Kinds there: a, b': what the namespace holds instead of `name`."""
    others = names(state, kind, ignore)
    return f"{near(name, others)}; {_plural(kind)} there: {listing(others)}"


def require(state: ClusterState, kind: str, name: str, ignore: Iterable[str] = ()) -> dict:
    """The object `name` of a kind; else a Failure naming a near miss and what exists."""
    found = state.get(kind, name)
    if found is None:
        raise Failure(f"no {kind_name(kind)} {name!r} in namespace {state.namespace}"
                      f"{instead(state, kind, name, ignore)}")
    return found


def require_secret(state: ClusterState, name: str, reader: str) -> dict:
    """Secret `name`; else a Failure that also says when it sits in another namespace,
    where `reader` (a pod, an Ingress) cannot read it."""
    found = state.get("secret", name)
    if found is not None:
        return found
    try:
        elsewhere = sorted(s["metadata"]["namespace"] for s in
                           state.list_cluster("secret", field_selector=f"metadata.name={name}"))
    except AccessDenied:   # credentials bound to one namespace (a class's) cannot look around
        elsewhere = []
    if not elsewhere:
        return require(state, "secret", name)
    raise Failure(f"no Secret {name!r} in namespace {state.namespace}"
                  f"{near(name, names(state, 'secret'))}; there is one in "
                  f"{listing(elsewhere)}, but {reader} reads only its own namespace's Secrets")


def deployment(state: ClusterState, name: str = APP) -> dict:
    """The Deployment `name`; a Failure naming what exists instead."""
    return require(state, "deployment", name)


def container(workload: dict, name: str = APP) -> dict:
    """The container `name` of a workload's pod template."""
    containers = workload["spec"]["template"]["spec"].get("containers") or []
    for item in containers:
        if item.get("name") == name:
            return item
    kind = workload.get("kind", "Deployment")
    raise Failure(f"{kind} {workload['metadata']['name']} has no container named {name!r}; "
                  f"its containers: {listing(c.get('name', '?') for c in containers)}")


def condition(item: dict, kind: str) -> dict:
    """The status condition of type `kind` of an object; {} when it reports none."""
    return next((c for c in (item.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind), {})


# --- workloads and their pods -------------------------------------------------------------

def pod_templates(state: ClusterState) -> Iterator[tuple[str, dict, dict]]:
    """(kind, object, pod template) of every workload, then of every pod no controller owns
    (for such a pod, the template is the pod itself: both have metadata and spec)."""
    for key in WORKLOADS:
        for item in state.list(key):
            spec = item["spec"]
            template = spec["jobTemplate"]["spec"]["template"] if key == "cronjob" \
                else spec["template"]
            yield kind_name(key), item, template
    for pod in state.list("pod"):
        if not pod["metadata"].get("ownerReferences"):
            yield "Pod", pod, pod


def all_containers(spec: dict) -> Iterator[dict]:
    """The init containers and containers of a pod spec."""
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def hpa_for(state: ClusterState, kind: str, name: str) -> dict | None:
    """The HorizontalPodAutoscaler whose scaleTargetRef is `kind`/`name`, if any."""
    for hpa in state.list("horizontalpodautoscaler"):
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == kind and ref.get("name") == name:
            return hpa
    return None


def revision(obj: dict) -> int | None:
    """The `deployment.kubernetes.io/revision` annotation as a number, if any."""
    text = (obj["metadata"].get("annotations") or {}).get(REVISION)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _owned_by(item: dict, uids: set[str]) -> bool:
    return any(ref.get("uid") in uids for ref in item["metadata"].get("ownerReferences") or [])


def replica_sets(state: ClusterState, workload: dict) -> list[dict]:
    """The ReplicaSets a Deployment owns (current and old revisions), oldest revision first."""
    uid = workload["metadata"].get("uid")
    owned = [rs for rs in state.list("replicaset") if _owned_by(rs, {uid})]
    return sorted(owned, key=lambda rs: (revision(rs) or 0, rs["metadata"]["name"]))


def deployment_pods(state: ClusterState, workload: dict) -> list[dict]:
    """The Deployment's pods that are not being deleted, oldest first."""
    owners = {rs["metadata"]["uid"] for rs in replica_sets(state, workload)}
    pods = [pod for pod in state.list("pod") if _owned_by(pod, owners)
            and not pod["metadata"].get("deletionTimestamp")]
    return sorted(pods, key=lambda pod: pod["metadata"].get("creationTimestamp", ""))


def live_pods(state: ClusterState, selector: str | None = None) -> list[dict]:
    """Pods of the namespace (matching a label selector) that are not being deleted."""
    return [p for p in state.list("pod", selector=selector)
            if not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict) -> bool:
    return condition(pod, "Ready").get("status") == "True"


def pod_problem(pod: dict) -> str:
    """Empty when the pod runs and is Ready; else what keeps it from that, in one phrase."""
    name, status = pod["metadata"]["name"], pod.get("status") or {}
    phase = status.get("phase", "Pending")
    if phase == "Pending":
        scheduled = condition(pod, "PodScheduled")
        if scheduled.get("status") == "False":
            return (f"pod {name} is Pending, not scheduled ({scheduled.get('reason', '?')}): "
                    f"{scheduled.get('message', 'no reason given')}")
    for item in status.get("containerStatuses") or []:
        waiting = (item.get("state") or {}).get("waiting")
        restarts = item.get("restartCount", 0)
        last = ((item.get("lastState") or {}).get("terminated") or {}).get("reason")
        if waiting or restarts:
            detail = f"container {item.get('name')} "
            detail += f"is waiting ({waiting.get('reason', '?')})" if waiting else "runs"
            if restarts:
                detail += f", restarted {restarts} times" + (f" (last: {last})" if last else "")
            if waiting or not is_ready(pod):
                return f"pod {name}: {detail}"
    if phase != "Running":
        return f"pod {name} is {phase}"
    if not is_ready(pod):
        ready = condition(pod, "Ready")
        why = ready.get("message") or ready.get("reason") or "no reason given"
        return f"pod {name} is Running but not Ready: {why}"
    return ""


# --- rollout ------------------------------------------------------------------------------

def rollout_problem(workload: dict) -> str:
    """Empty when the Deployment is rolled out (EXERCISES.md's definition); else why not."""
    spec, status = workload["spec"], workload.get("status") or {}
    want = spec.get("replicas", 1)
    generation = workload["metadata"].get("generation", 0)
    observed = status.get("observedGeneration", 0)
    counts = {key: status.get(f"{key}Replicas", 0) or 0 for key in ("updated", "ready", "available")}
    if observed >= generation and all(value == want for value in counts.values()):
        return ""
    parts = [f"{key} {value}/{want}" for key, value in counts.items()]
    if observed < generation:
        parts.append(f"the controller has not seen the latest change yet "
                     f"(observedGeneration {observed} < generation {generation})")
    return ", ".join(parts)


def check_rolled_out(state: ClusterState, name: str = APP) -> str | None:
    """Criterion body: the Deployment is rolled out (else why not, with the cluster's
    reasons: a healthy rollout in progress and a stuck one must not read the same)."""
    problem = rollout_diagnosis(state, deployment(state, name))
    if problem:
        raise Failure(f"Deployment {name} is not rolled out: {problem}")
    return None


def rollout_diagnosis(state: ClusterState, workload: dict) -> str:
    """Empty when the Deployment is rolled out; else why not, with the cluster's reasons."""
    problem = rollout_problem(workload)
    if not problem:
        return ""
    reasons = []
    for rs in replica_sets(state, workload):
        failure = condition(rs, "ReplicaFailure")
        if failure.get("status") == "True":
            reasons.append(f"ReplicaSet {rs['metadata']['name']} cannot create pods "
                           f"({failure.get('reason', '?')}): {failure.get('message', '')}")
    progressing = condition(workload, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        reasons.append(f"the rollout exceeded its progress deadline: "
                       f"{progressing.get('message', '')}")
    pods = [text for text in map(pod_problem, deployment_pods(state, workload)) if text]
    if pods:
        reasons.append(_some(pods))
    return problem + ("; " + "; ".join(reasons) if reasons else "")


def check_rolled_out_and_ready(state: ClusterState, name: str = APP) -> dict:
    """The Deployment, when it is rolled out and each of its live pods is Ready.

    A Failure otherwise, naming the cluster's own reasons: FailedCreate, FailedScheduling,
    a waiting container, a pod that is not Ready.
    """
    workload = deployment(state, name)
    problem = rollout_diagnosis(state, workload)
    if problem:
        raise Failure(f"Deployment {name} is not rolled out: {problem}")
    unready = [text for text in map(pod_problem, deployment_pods(state, workload)) if text]
    if unready:
        raise Failure(f"Deployment {name}: {_some(unready)}")
    return workload


# --- int-or-percent fields, label selectors, disruption budgets (pure but budgets_for) ----

def scaled(value: int | str, total: int, round_up: bool) -> int:
    """An int-or-percent field resolved against `total`, as the controllers do.

    `1` and `"1"` mean 1; `"34%"` of 3 is 1.02, rounded up to 2 (a Deployment's maxSurge, a
    budget's percentages) or down to 1 (maxUnavailable of a Deployment). ValueError for
    anything else.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an int or a percentage: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        try:
            percent = int(text[:-1])
        except ValueError:
            raise ValueError(f"not a percentage: {value!r}") from None
        # Integer arithmetic, so 34% of 3 is exactly 102/100 before rounding.
        numerator = percent * total
        return -(-numerator // 100) if round_up else numerator // 100
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"not an int or a percentage: {value!r}") from None


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions) selects `labels`.

    A null selector selects nothing; an empty one ({}) selects everything, as in policy/v1.
    """
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def applied_setting(pod_spec: dict, container: dict, name: str) -> object:
    """A securityContext field as Kubernetes applies it to a container: the container's
    own, else the pod's (runAsNonRoot, runAsUser, seccompProfile...)."""
    own = (container.get("securityContext") or {}).get(name)
    return own if own is not None else (pod_spec.get("securityContext") or {}).get(name)


def ports_text(service: dict) -> str:
    """A Service's ports as `name: 80 -> 8080, ...` (targetPort defaults to the port)."""
    return listing(
        (f"{p.get('name')}: " if p.get("name") else "")
        + f"{p.get('port')} -> {p.get('targetPort', p.get('port'))}"
        for p in service["spec"].get("ports") or [])


def policy_types(spec: dict) -> set[str]:
    """The directions a NetworkPolicy's spec governs, as the API reads one without
    policyTypes: Ingress always, Egress when it has egress rules."""
    found = set(spec.get("policyTypes") or [])
    return found or ({"Ingress"} | ({"Egress"} if spec.get("egress") else set()))


def selector_text(selector: dict | None) -> str:
    """A selector as kubectl writes one: `app=api-server,tier in (web)`."""
    if selector is None:
        return "(none)"
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = ",".join(expression.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": f"{key}", "DoesNotExist": f"!{key}"}.get(operator,
                                                                       f"{key} {operator}"))
    return ",".join(parts) or "(empty: every pod)"


def allowed_when_healthy(spec: dict, expected: int) -> int:
    """How many of `expected` healthy pods a PDB spec lets be evicted at once.

    As the disruption controller computes it (pkg/controller/disruption): percentages round
    up, and with every pod healthy the budget allows `expected - desiredHealthy` evictions.
    """
    if spec.get("maxUnavailable") is not None:
        desired_healthy = max(expected - scaled(spec["maxUnavailable"], expected, True), 0)
    elif spec.get("minAvailable") is not None:
        desired_healthy = scaled(spec["minAvailable"], expected, True)
    else:
        desired_healthy = 0
    return max(expected - desired_healthy, 0)


def budget_text(spec: dict) -> str:
    """What a PDB spec asks, as its field says it: `minAvailable 2`."""
    for field in ("minAvailable", "maxUnavailable"):
        if spec.get(field) is not None:
            return f"{field} {spec[field]}"
    return "neither minAvailable nor maxUnavailable"


def budgets_for(state: ClusterState, labels: dict) -> list[dict]:
    """The PodDisruptionBudgets that select pods carrying `labels`."""
    return [pdb for pdb in state.list("poddisruptionbudget")
            if selector_matches((pdb.get("spec") or {}).get("selector"), labels)]


# --- what looks like a credential (pure): the secrets check and the audit both ask here ---

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SECRET_WORDS = {"password", "passwd", "pwd", "pass", "passphrase", "secret", "token",
                 "apikey", "credential", "credentials", "creds"}
_KEY_KINDS = {"api", "private", "access", "secret", "encryption", "signing", "master", "jwt",
              "ssh", "tls", "license", "client"}
# A credential word followed by one of these names a setting about the credential, not the
# credential itself: PASSWORD_FILE is a path, TOKEN_TTL a duration, SECRET_NAME a reference.
_ABOUT = {"name", "names", "file", "path", "dir", "length", "len", "min", "max", "ttl",
          "expiry", "expires", "expiration", "timeout", "url", "uri", "endpoint", "header",
          "policy", "ref", "enabled", "enable", "disabled", "required", "count", "size",
          "type", "mode", "rotation", "interval", "limit", "id", "prefix", "env", "key"}
_SHELL = {"pwd", "oldpwd"}
"""Shell variables that only look like passwords (the working directory)."""
_NOT_A_VALUE = re.compile(r"(?i)true|false|yes|no|on|off|none|null|")
_PLACEHOLDER = re.compile(r"\s*(\$\([^)]*\)|\$\{[^}]*\}|\{\{[^}]*\}\}|<[^>]*>)\s*")
_SETTING = re.compile(r"""(?m)^\s*["']?([A-Za-z0-9_.\-]+)["']?\s*[:=]\s*(\S.*?)\s*$""")


def credential_name(name: str) -> bool:
    """Whether a variable or key name says it holds a credential (DB_PASSWORD, apiKey).

    The last credential word decides: SECRET_KEY and AWS_SECRET_ACCESS_KEY are
    credentials; PASSWORD_FILE, TOKEN_TTL and SECRET_NAME only speak about one.
    """
    if name.lower() in _SHELL:
        return False
    words = [w.lower() for w in _WORDS.findall(name)]
    end = 0
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if word in _KEY_KINDS and after == "key":
            end = i + 2
        elif word + after in _SECRET_WORDS:
            end = i + 2
        elif word in _SECRET_WORDS:
            end = max(end, i + 1)
    if not end:
        return False
    rest = words[end:]
    return not (rest and rest[-1] in _ABOUT)


def credential_value(value: str | None) -> bool:
    """Whether a literal value could be a credential: not empty, a flag or a placeholder."""
    if value is None:
        return False
    value = value.strip().strip("'\",").strip()
    return not (_NOT_A_VALUE.fullmatch(value) or _PLACEHOLDER.fullmatch(value))


def literal_credential(entry: dict) -> bool:
    """Whether an env entry writes a credential in plain text: a credential's name with a
    literal value (not valueFrom, not empty, not a flag or a placeholder)."""
    return ("valueFrom" not in entry and credential_name(entry.get("name", ""))
            and credential_value(entry.get("value")))


def credential_settings(text: str) -> list[str]:
    """Names of the `name = value` / `name: value` lines of a config file that set a
    credential (spring.datasource.password=...), in order, each once."""
    found = [name for name, value in _SETTING.findall(text or "")
             if credential_name(name) and credential_value(value)]
    return list(dict.fromkeys(found))


# --- a liveness probe that restarts healthy pods: the probes check and the audit ask here -

MIN_FAILURE_THRESHOLD = 3
MIN_START_SECONDS = 10
"""Seconds podinfo may need before it answers; a startupProbe may cover them instead."""
PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3}
"""The API server's defaults, for fields a manifest leaves out."""


def probe_setting(probe: dict, field: str) -> int:
    """A probe's field, or the API server's default when the manifest leaves it out."""
    value = probe.get(field)
    return PROBE_DEFAULTS[field] if value is None else value


def liveness_problems(item: dict) -> tuple[list[str], str | None]:
    """(what makes the container's livenessProbe restart a healthy container, a note when a
    startupProbe is what makes a short delay safe); ([], None) without a livenessProbe.

    Aggressive: failureThreshold below 3, or initialDelaySeconds below 10 when no
    startupProbe gives the app those 10 seconds (initialDelaySeconds + failureThreshold x
    periodSeconds) to start.
    """
    probe = item.get("livenessProbe")
    if not probe:
        return [], None
    problems = []
    threshold = probe_setting(probe, "failureThreshold")
    if threshold < MIN_FAILURE_THRESHOLD:
        problems.append(f"livenessProbe.failureThreshold is {threshold}: a single slow answer "
                        "(a pause, a busy moment) restarts a healthy container; use "
                        f"{MIN_FAILURE_THRESHOLD} or more")
    delay = probe_setting(probe, "initialDelaySeconds")
    if delay >= MIN_START_SECONDS:
        return problems, None
    # The API server leaves a 0 out of what it serves, so a 0 written and a field left out
    # read alike: say "the default", which is true of both.
    unset = "" if "initialDelaySeconds" in probe else " (the default)"
    startup = item.get("startupProbe")
    if not startup:
        problems.append(f"livenessProbe.initialDelaySeconds is {delay}{unset} and no "
                        "startupProbe guards it: the container is probed before the app has "
                        f"started and restarted in a loop; use {MIN_START_SECONDS} or more, or "
                        "guard the start with a startupProbe")
        return problems, None
    budget = (probe_setting(startup, "initialDelaySeconds")
              + probe_setting(startup, "failureThreshold") * probe_setting(startup,
                                                                           "periodSeconds"))
    if budget < MIN_START_SECONDS:
        problems.append(f"livenessProbe.initialDelaySeconds is {delay}{unset} and the "
                        f"startupProbe gives the app only {budget}s to start "
                        "(initialDelaySeconds + failureThreshold x periodSeconds); allow "
                        f"{MIN_START_SECONDS}s or more")
        return problems, None
    return problems, (f"the startupProbe guards the start ({budget}s), so liveness may begin "
                      f"at {delay}s")
