"""`rwk classroom` on a real sandbox: with a student's OWN kubeconfig and real kubectl, every
exercise's reference solution applies and passes in one namespace inside the `small` budget;
what a student must not do is refused by the API server (RBAC, or the admission policy for
what RBAC cannot say), each right tested both ways; `create` again is a no-op and repairs;
`verify` proves the rights with access reviews; `delete` removes exactly the classroom."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checker import classroom
from checker.classroom import kubeconfigs
from checker.classroom.names import LIMITS, POLICY, QUOTA, ROLE, SELECTOR
from checker.clusters.base import Kubectl
from checker.clusters.sandbox import Sandbox
from checker.grading.runner import grade

from .exercise_helpers import apply_docs, create_secret, reference
from .grading_helpers import settled
from .rollout_helpers import fast, rollout
from .tls_helpers import create_tls_secret

pytestmark = [pytest.mark.cluster, pytest.mark.cost(9)]   # about 117 s for the module

ROOT = Path(__file__).resolve().parents[2]
RWK = [sys.executable, "-m", "checker.cli"]
STUDENTS = "student,name,email,Section\nalice,Alice A,alice@example.com,S1\n" \
           "Bob.B,Bob B,bob@example.com,S2\ncarol,Carol C,,S2\n"
METRICS_WAIT = 300
"""metrics-server has figures for new pods after about a minute; the HPA then syncs. Under
CI's full load (the kind suite's lesson 07 runs real load generators beside the sandbox
workers) it once took longer than 180 s (2026-12-07)."""


class Class:
    """The classroom the module's tests share, made once."""

    def __init__(self, sandbox: Sandbox, tmp: Path) -> None:
        self.sandbox = sandbox
        self.tmp = tmp
        self.roster_path = tmp / "roster.csv"
        self.roster_path.write_text(STUDENTS)
        self.roster = classroom.load_roster(self.roster_path)
        self.dir = tmp / "kubeconfigs"
        self.said: list[str] = []

    @property
    def where(self) -> dict:
        return {"context": self.sandbox.context, "kubeconfig": str(self.sandbox.kubeconfig)}

    def create(self, roster=None) -> bool:
        self.said.clear()
        return classroom.create(roster or self.roster, self.dir, say=self.said.append,
                                **self.where)

    def namespace(self, student: str) -> str:
        return next(s.namespace for s in self.roster.students if s.student == student)

    def kubeconfig(self, student: str) -> Path:
        return self.dir / f"{self.namespace(student)}.kubeconfig"

    def kubectl(self, student: str) -> Kubectl:
        """Real kubectl with the student's own kubeconfig (its context: the namespace)."""
        return Kubectl(self.namespace(student), self.kubeconfig(student))

    def rwk(self, *args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
        return subprocess.run([*RWK, "classroom", *args, "--context", self.sandbox.context,
                               "--kubeconfig", str(self.sandbox.kubeconfig)],
                              cwd=ROOT, stdin=stdin, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def room(sandbox: Sandbox, tmp_path_factory) -> Class:
    room = Class(sandbox, tmp_path_factory.mktemp("classroom"))
    assert room.create(), "\n".join(room.said)
    yield room
    classroom.delete(room.roster, yes=True, say=lambda m: None, **room.where)


def refused(result, *fragments: str) -> None:
    assert not result.ok, f"allowed, but must be refused: {result.output}"
    assert "forbidden" in result.output.lower(), result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def allowed(result) -> None:
    assert result.ok, result.output


# --- create ---------------------------------------------------------------------------------

def test_create_makes_a_namespace_budget_and_private_kubeconfig_per_student(room, kubectl):
    for student in room.roster.students:
        path = room.dir / f"{student.namespace}.kubeconfig"
        assert path.stat().st_mode & 0o777 == 0o600
        config = yaml.safe_load(path.read_text())
        context = config["contexts"][0]["context"]
        assert context["namespace"] == student.namespace
        assert config["clusters"][0]["cluster"]["certificate-authority-data"]
        token = config["users"][0]["user"]["token"]
        assert not any(token in line for line in room.said), "a token was printed"
        ns = kubectl.json("get", "namespace", student.namespace)["metadata"]["labels"]
        assert ns["app.kubernetes.io/managed-by"] == "rwk-classroom"
        assert ns["rwk.course/student"] == student.file_id
        assert ns["pod-security.kubernetes.io/enforce"] == "baseline"
        quota = kubectl.json("get", "resourcequota", QUOTA, "-n", student.namespace)
        assert quota["spec"]["hard"]["pods"] == "20"
        assert kubectl("get", "limitrange", LIMITS, "-n", student.namespace).ok
    # Several students share the exercises' fixed Ingress hosts: create says what that means.
    notes = [line for line in room.said if "nothing refuses two students the same host" in line]
    assert notes and all("api.example.com, app.example.com" in n and "not defined" in n
                         for n in notes), room.said
    who = room.kubectl("alice")("auth", "whoami", "-o", "json")
    assert who.ok, who.output
    assert json.loads(who.stdout)["status"]["userInfo"]["username"] == \
        "system:serviceaccount:student-alice:student"


# --- every exercise as the student, in one namespace, inside the small budget ---------------

def test_every_reference_solution_passes_in_one_namespace_as_the_student(room, kubectl,
                                                                        tmp_path):
    ns, student = room.namespace("alice"), room.kubectl("alice")
    sandbox = room.sandbox

    def solve(exercise: str, check: bool = True) -> None:
        apply_docs(student, fast(reference(exercise, ns)))
        if check:
            passes(exercise)

    def passes(exercise: str, timeout: float = 60) -> None:
        """`rwk check` as the instructor, then as the student checking their own work
        (waiting too: between the two reads a rollout may still be retiring an old pod,
        which counts among the ready replicas until its ReplicaSet's status catches up)."""
        report = settled(sandbox, exercise, ns, timeout=timeout)
        assert report.passed and report.score == report.max_score, report.to_text()
        own = grade(exercise, namespace=ns, kubeconfig=str(room.kubeconfig("alice")),
                    wait=timeout, interval=0.5)
        assert own.passed, own.to_text()

    create_secret(student, ns)
    create_tls_secret(student, ns, tmp_path)
    for exercise in ("namespaces", "configmaps", "secrets", "ingress", "resources",
                     "probes"):
        solve(exercise)
    solve("rolling-updates", check=False)
    rollout(student, ns)
    rollout(student, ns, "set", "image", "deployment/api-server",
            "api-server=ghcr.io/stefanprodan/podinfo:6.7.1")
    rollout(student, ns, "rollout", "undo", "deployment/api-server")
    passes("rolling-updates")
    solve("storage", check=False)
    rollout(student, ns, target="statefulset/postgres")
    passes("storage")
    solve("autoscaling", check=False)
    solve("capstone", check=False)
    passes("capstone", timeout=METRICS_WAIT)
    passes("autoscaling")

    # An eviction, as a node drain makes it: the PDB allows one.
    pods = json.loads(student("get", "pods", "-l", "app=api-server", "-o", "json").stdout)
    name = pods["items"][0]["metadata"]["name"]
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": name, "namespace": ns}}
    allowed(student("create", "--raw", f"/api/v1/namespaces/{ns}/pods/{name}/eviction",
                    "-f", "-", input=json.dumps(eviction)))
    solve("disruptions")
    solve("gateway")        # the Gateway API's objects, and the canary, in the same budget
    # Last, as the course has it: the student locks the namespace down (a stricter Pod
    # Security label, which the classroom's policy lets them set) and fences it in. The
    # instructor sets it back after, for the module's other tests.
    try:
        solve("security")
    finally:
        allowed(kubectl("label", "namespace", ns,
                                "pod-security.kubernetes.io/enforce=baseline", "--overwrite"))


# --- refused, and its allowed counterpart -----------------------------------------------------

def test_another_namespace_is_refused_the_own_allowed(room):
    alice, bob = room.kubectl("alice"), room.kubectl("Bob.B")
    bobs = room.namespace("Bob.B")
    allowed(bob("create", "secret", "generic", "bobs", "--from-literal=k=v"))
    allowed(bob("get", "secret", "bobs"))
    allowed(bob("get", "pods"))
    refused(alice("get", "secret", "bobs", "-n", bobs), "cannot get resource")
    refused(alice("get", "pods", "-n", bobs), "cannot list resource")
    refused(alice("get", "secrets", "--all-namespaces"))
    refused(alice("create", "deployment", "x", "--image=nginx", "-n", bobs))
    route = ("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
             "spec: {parentRefs: [{name: web}]}\n")
    allowed(bob("apply", "-f", "-", input=route))
    allowed(bob("delete", "httproute", "r"))
    refused(alice("apply", "-n", bobs, "-f", "-", input=route), "httproutes")
    refused(alice("get", "gateways", "-n", bobs), "cannot list resource \"gateways\"")
    deny = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d}\n"
            "spec: {podSelector: {}, policyTypes: [Ingress]}\n")
    allowed(bob("apply", "-f", "-", input=deny))
    allowed(bob("delete", "networkpolicy", "d"))
    refused(alice("apply", "-n", bobs, "-f", "-", input=deny), "networkpolicies")


def test_cluster_wide_reads_and_writes(room):
    alice = room.kubectl("alice")
    allowed(alice("get", "storageclasses"))
    allowed(alice("get", "ingressclasses"))
    allowed(alice("get", "gatewayclasses"))
    refused(alice("apply", "-f", "-", input="apiVersion: gateway.networking.k8s.io/v1\n"
                  "kind: GatewayClass\nmetadata: {name: mine}\n"
                  "spec: {controllerName: example.com/mine}\n"), "gatewayclasses")
    allowed(alice("get", "namespace", room.namespace("alice")))
    refused(alice("get", "nodes"), "cannot list resource \"nodes\"")
    refused(alice("create", "namespace", "mine"))
    refused(alice("create", "clusterrolebinding", "mine", "--clusterrole=view",
                  "--serviceaccount=student-alice:student"))
    refused(alice("create", "clusterrole", "mine", "--verb=get", "--resource=pods"))
    refused(alice("delete", "namespace", room.namespace("alice"), "--dry-run=server"))


def test_escalation_is_refused_by_rbac_and_a_binding_within_rights_allowed(room):
    alice = room.kubectl("alice")
    allowed(alice("create", "role", "reader", "--verb=get,list", "--resource=pods"))
    allowed(alice("create", "rolebinding", "reader", "--role=reader",
                  "--serviceaccount=student-alice:default"))
    refused(alice("create", "rolebinding", "admin", "--clusterrole=cluster-admin",
                  "--serviceaccount=student-alice:student"),
            "attempting to grant RBAC permissions not currently held")
    refused(alice("create", "role", "nodes", "--verb=get", "--resource=nodes"),
            "attempting to grant RBAC permissions not currently held")
    # The admission policy: a binding may name only the namespace's ServiceAccounts.
    refused(alice("create", "rolebinding", "everyone", "--role=reader",
                  "--group=system:authenticated"), "may name only ServiceAccounts")
    refused(alice("create", "rolebinding", "bob", "--role=reader",
                  f"--serviceaccount={room.namespace('Bob.B')}:student"),
            "may name only ServiceAccounts")


def test_the_namespace_labels_only_environment_and_a_stricter_pod_security(room, kubectl):
    alice, ns = room.kubectl("alice"), room.namespace("alice")
    allowed(alice("label", "namespace", ns, "environment=staging", "--overwrite"))
    refused(alice("label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged",
                  "--overwrite"), "only stricter")
    invalid = alice("label", "namespace", ns, "pod-security.kubernetes.io/enforce=lax",
                    "--overwrite")       # Pod Security admission refuses a level it lacks
    assert not invalid.ok and "must be one of privileged, baseline, restricted" in \
        invalid.output, invalid.output
    refused(alice("label", "namespace", ns, "pod-security.kubernetes.io/enforce-"),
            "only stricter")
    # The security exercise's label: stricter is allowed (tried, not kept: alice's namespace
    # holds the other exercises' pods).
    allowed(alice("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted",
                  "--overwrite", "--dry-run=server"))
    refused(alice("label", "namespace", ns, "pod-security.kubernetes.io/warn=restricted"),
            "only the `environment` label")
    # Once restricted, never back: Bob's namespace made restricted by the instructor.
    bob, bobs = room.kubectl("Bob.B"), room.namespace("Bob.B")
    allowed(kubectl("label", "namespace", bobs, "pod-security.kubernetes.io/enforce=restricted",
                    "--overwrite"))
    try:
        refused(bob("label", "namespace", bobs, "pod-security.kubernetes.io/enforce=baseline",
                    "--overwrite", "--dry-run=server"), "only stricter")
        allowed(bob("label", "namespace", bobs, "pod-security.kubernetes.io/enforce=restricted",
                    "--overwrite", "--dry-run=server"))
    finally:
        allowed(kubectl("label", "namespace", bobs,
                        "pod-security.kubernetes.io/enforce=baseline", "--overwrite"))
    refused(alice("label", "namespace", ns, "rwk.course/student-"))
    refused(alice("annotate", "namespace", ns, "note=mine"), "annotations")
    refused(alice("label", "namespace", room.namespace("Bob.B"), "environment=x"),
            "cannot get resource")
    refused(alice("label", "namespace", "default", "environment=x"))
    # The instructor is not held to the policy.
    allowed(kubectl("label", "namespace", ns, "course.example/room=2"))
    allowed(kubectl("label", "namespace", ns, "course.example/room-"))
    # Pod Security itself: baseline refuses a privileged pod, admits an ordinary one.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "priv"},
           "spec": {"containers": [{"name": "c", "image": "busybox",
                                    "securityContext": {"privileged": True}}]}}
    refused(alice("apply", "--dry-run=server", "-f", "-", input=json.dumps(pod)),
            "violates PodSecurity")
    pod["spec"]["containers"][0].pop("securityContext")
    allowed(alice("apply", "--dry-run=server", "-f", "-", input=json.dumps(pod)))


def test_the_classroom_budget_and_rights_cannot_be_changed_a_students_own_can(room):
    alice = room.kubectl("alice")
    allowed(alice("create", "quota", "mine", "--hard=pods=30"))
    allowed(alice("patch", "quota", "mine", "-p", '{"spec":{"hard":{"pods":"31"}}}'))
    allowed(alice("delete", "quota", "mine"))
    for what in (f"resourcequota/{QUOTA}", f"limitrange/{LIMITS}", f"rolebinding/{ROLE}",
                 f"role/{ROLE}", "serviceaccount/student"):
        refused(alice("delete", what, "--dry-run=server"), "is the classroom's own")
        refused(alice("label", what, "app.kubernetes.io/managed-by-", "--dry-run=server"),
                "is the classroom's own")
    refused(alice("patch", "quota", QUOTA, "-p", '{"spec":{"hard":{"pods":"999"}}}'),
            "is the classroom's own")
    refused(alice("patch", "limitrange", LIMITS, "--type=json",
                  "-p", '[{"op":"remove","path":"/spec/limits/0/max"}]'),
            "is the classroom's own")
    # A pod's token of another ServiceAccount of the namespace is held to the same rules.
    allowed(alice("create", "serviceaccount", "helper"))
    allowed(alice("create", "rolebinding", "helper", f"--role={ROLE}",
                  "--serviceaccount=student-alice:helper"))
    helper = alice("create", "token", "helper")
    assert not helper.ok, "a student may not mint tokens"


def test_a_pod_beyond_the_budget_is_refused(room):
    alice = room.kubectl("alice")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
           "spec": {"containers": [{"name": "c", "image": "busybox",
                                    "resources": {"limits": {"memory": "2Gi"}}}]}}
    refused(alice("apply", "--dry-run=server", "-f", "-", input=json.dumps(pod)),
            "maximum memory usage per Container is 1Gi")


# --- create again, verify ---------------------------------------------------------------------

def _versions(kubectl: Kubectl) -> dict[str, str]:
    kinds = "namespaces,serviceaccounts,roles,rolebindings,resourcequotas,limitranges," \
            "clusterroles,clusterrolebindings,validatingadmissionpolicies," \
            "validatingadmissionpolicybindings"
    found = kubectl.json("get", kinds, "-A", "-l", SELECTOR)["items"]
    return {f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}":
            o["metadata"]["resourceVersion"] for o in found}


def test_create_again_changes_nothing_then_repairs_a_deleted_rolebinding(room, kubectl):
    before, files = _versions(kubectl), {p: p.read_bytes() for p in room.dir.iterdir()}
    assert room.create()
    assert _versions(kubectl) == before
    assert {p: p.read_bytes() for p in room.dir.iterdir()} == files, "kubeconfigs rewritten"
    assert sorted(line for line in room.said if line.startswith("student-")) == \
        sorted(f"{s.namespace}: unchanged" for s in room.roster.students)

    carol = room.kubectl("carol")
    allowed(carol("get", "pods"))
    allowed(kubectl("delete", "rolebinding", ROLE, "-n", room.namespace("carol")))
    refused(carol("get", "pods"))
    assert room.create()
    assert "student-carol: created RoleBinding" in room.said, room.said
    allowed(carol("get", "pods"))


def test_verify_passes_and_fails_once_a_right_is_broken_either_way(room, kubectl):
    done = room.rwk("verify", str(room.roster_path), "--kubeconfigs", str(room.dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 of 3 student(s) hold every right" in done.stdout
    carol_ns, bob_ns = room.namespace("carol"), room.namespace("Bob.B")
    # Too little: carol's Role loses the eviction right. Too much: Bob may read every pod.
    role = kubectl.json("get", "role", ROLE, "-n", carol_ns)
    role["rules"] = [r for r in role["rules"] if r["resources"] != ["pods/eviction"]]
    allowed(kubectl("replace", "-f", "-", input=json.dumps(role)))
    allowed(kubectl("create", "clusterrolebinding", "too-much", "--clusterrole=view",
                    f"--serviceaccount={bob_ns}:student"))
    try:
        done = room.rwk("verify", str(room.roster_path), "--kubeconfigs", str(room.dir))
        assert done.returncode == 1, done.stdout + done.stderr
        rows = {line.split()[0]: line for line in done.stdout.splitlines() if line}
        assert "refused: create pods/eviction" in rows["carol"], done.stdout
        assert "allowed: list pods in another namespace" in rows["Bob.B"], done.stdout
        assert "FAILED" not in rows["alice"] and "allowed:" not in rows["alice"]
    finally:
        kubectl("delete", "clusterrolebinding", "too-much")
        assert room.create()
    assert room.rwk("verify", str(room.roster_path), "--kubeconfigs",
                    str(room.dir)).returncode == 0


def test_verify_fails_a_student_without_a_working_kubeconfig(room, tmp_path):
    broken = tmp_path / "kubeconfigs"
    broken.mkdir()
    config = yaml.safe_load(room.kubeconfig("alice").read_text())
    config["users"][0]["user"]["token"] = "not-a-token"
    (broken / "student-alice.kubeconfig").write_text(yaml.safe_dump(config))
    done = room.rwk("verify", str(room.roster_path), "--kubeconfigs", str(broken))
    assert done.returncode == 1
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line}
    assert "refused the credentials" in rows["alice"], done.stdout
    assert "no file student-bob-b.kubeconfig" in rows["Bob.B"], done.stdout


# --- bad input, delete ------------------------------------------------------------------------

def test_bad_roster_and_unreachable_cluster_exit_2_and_3(room, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("student\nann\nann\n")
    done = room.rwk("create", str(bad))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("rwk classroom: roster") and "line 3" in done.stderr
    config = yaml.safe_load(room.kubeconfig("alice").read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    away = tmp_path / "away.kubeconfig"
    away.write_text(yaml.safe_dump(config))
    done = subprocess.run([*RWK, "classroom", "verify", str(room.roster_path),
                           "--kubeconfig", str(away)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "connection refused" in done.stderr


def test_delete_removes_exactly_the_classroom(room, kubectl, namespace, tmp_path):
    # A namespace named as a student's would be, but not made by the classroom: create
    # refuses it and delete leaves it; another roster's classroom keeps the shared policy.
    allowed(kubectl("create", "namespace", "student-erin"))
    other = tmp_path / "other.csv"
    other.write_text("student\ndave\nerin\n")
    others = classroom.load_roster(other)
    try:
        assert not room.create(others)
        assert any("student-erin: FAILED" in line and "did not make it" in line
                   for line in room.said), room.said
        done = room.rwk("delete", str(room.roster_path))
        assert done.returncode == 2 and "--yes" in done.stderr, done.stderr
        assert kubectl("get", "namespace", room.namespace("alice")).ok

        # carol's file was changed since create wrote it: delete leaves it, and names it.
        carol = room.kubeconfig("carol")
        edited = kubeconfigs.read(carol)
        edited["contexts"][0]["context"]["namespace"] = "default"
        kubeconfigs.write(carol, edited)
        dave = room.dir / "student-dave.kubeconfig"
        assert dave.exists() and room.kubeconfig("alice").exists()
        done = room.rwk("delete", str(room.roster_path), "--yes", "--kubeconfigs", str(room.dir))
        assert done.returncode == 0, done.stderr
        assert not room.kubeconfig("alice").exists() and not room.kubeconfig("Bob.B").exists()
        assert carol.exists() and dave.exists(), sorted(room.dir.iterdir())
        assert "removed 2 kubeconfig file(s)" in done.stderr, done.stderr
        assert f"left 1 file(s) that create did not write as they are now: {carol.name}" \
            in done.stderr, done.stderr
        names = {ns["metadata"]["name"] for ns in kubectl.json("get", "namespaces")["items"]}
        assert not names & {s.namespace for s in room.roster.students}
        assert {namespace, "student-erin", "student-dave"} <= names
        assert not kubectl("get", "clusterrole", "rwk-classroom:student-alice").ok
        assert kubectl("get", "validatingadmissionpolicy", POLICY).ok

        done = room.rwk("delete", str(other), "--yes", "--kubeconfigs", str(room.dir))
        assert done.returncode == 0, done.stderr
        assert not dave.exists() and carol.exists()
        assert not kubectl("get", "namespace", "student-dave").ok
        assert kubectl("get", "namespace", "student-erin").ok
        assert not kubectl("get", "validatingadmissionpolicy", POLICY).ok
        assert not kubectl("get", "validatingadmissionpolicybinding", POLICY).ok
    finally:
        kubectl("delete", "namespace", "student-erin", "--wait=false")
