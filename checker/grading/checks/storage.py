"""Exercise `storage`: postgres as a StatefulSet, behind a headless Service, on a bound claim.

A StatefulSet's claims are named `TEMPLATE-SET-ORDINAL` (data-postgres-0); they are created
with the pods and outlive them. A pod volume naming one claim (`persistentVolumeClaim:
claimName`) is accepted too while the set has one replica, as the syllabus shows it.
"""

from __future__ import annotations

from ..model import Criterion, Failure
from ..quantities import parse_quantity
from .common import (condition, fail_on, instead, is_ready, listing, near, require,
                     selector_matches)
from ..state import ClusterState

LESSON = "lessons/09-storage.ipynb"
NAME = "postgres"
IMAGE = "postgres:16-alpine"
PORT = 5432
DATA_PATH = "/var/lib/postgresql/data"
SIZE = "1Gi"
ACCESS_MODE = "ReadWriteOnce"
DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class",
                 "storageclass.beta.kubernetes.io/is-default-class")


# --- pure helpers -------------------------------------------------------------------------

def same_image(a: str, b: str) -> bool:
    """Whether two image references name the same image (Docker Hub spellings agree)."""
    def plain(image: str) -> str:
        for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/",
                       "index.docker.io/"):
            if image.startswith(prefix):
                image = image[len(prefix):]
                break
        return image if ":" in image.rsplit("/", 1)[-1] or "@" in image else image + ":latest"
    return plain(a) == plain(b)


def _mount_path(path: str) -> str:
    return path.rstrip("/") or "/"


# --- reads --------------------------------------------------------------------------------

def _statefulset(state: ClusterState) -> dict:
    found = state.get("statefulset", NAME)
    if found is not None:
        return found
    if state.get("deployment", NAME) is not None:
        raise Failure(f"{NAME} is a Deployment, not a StatefulSet: no StatefulSet {NAME!r} in "
                      f"namespace {state.namespace}")
    return require(state, "statefulset", NAME)


def _database(sts: dict) -> dict:
    """The container that runs postgres (by image, else the first one)."""
    containers = sts["spec"]["template"]["spec"].get("containers") or [{}]
    for item in containers:
        if "postgres" in item.get("image", ""):
            return item
    return containers[0]


def _data_source(sts: dict) -> tuple[str, dict | None, str]:
    """(volume name, claim template or pod volume, 'template' | 'claim' | other source)
    of what is mounted at the data path; Failure when nothing is."""
    db = _database(sts)
    mounts = db.get("volumeMounts") or []
    at_path = [m for m in mounts if _mount_path(m.get("mountPath", "")) == DATA_PATH]
    if not at_path:
        paths = listing(_mount_path(m.get("mountPath", "")) for m in mounts)
        parent = [p for p in (_mount_path(m.get("mountPath", "")) for m in mounts)
                  if DATA_PATH.startswith(p + "/")]
        why = (f"; postgres keeps its files in {DATA_PATH} (PGDATA), a subdirectory of "
               f"{parent[0]}" if parent else "")
        raise Failure(f"container {db.get('name')} mounts nothing at {DATA_PATH} (its mounts: "
                      f"{paths}){why}")
    volume_name = at_path[0].get("name")
    for template in sts["spec"].get("volumeClaimTemplates") or []:
        if template["metadata"].get("name") == volume_name:
            return volume_name, template, "template"
    for volume in sts["spec"]["template"]["spec"].get("volumes") or []:
        if volume.get("name") == volume_name:
            if "persistentVolumeClaim" in volume:
                return volume_name, volume, "claim"
            source = next((k for k in volume if k != "name"), "?")
            return volume_name, volume, source
    raise Failure(f"container {db.get('name')} mounts volume {volume_name!r} at {DATA_PATH}, "
                  "but neither spec.volumeClaimTemplates nor the pod's volumes declare it")


def _claim_names(sts: dict) -> list[str]:
    """Every claim the set's pods use: one per template and ordinal, and any named claim."""
    replicas = sts["spec"].get("replicas", 1)
    names = [f"{t['metadata'].get('name')}-{NAME}-{i}"
             for t in sts["spec"].get("volumeClaimTemplates") or [] for i in range(replicas)]
    names += [v["persistentVolumeClaim"].get("claimName", "")
              for v in sts["spec"]["template"]["spec"].get("volumes") or []
              if (v.get("persistentVolumeClaim") or {}).get("claimName")]
    return names


def _classes(state: ClusterState) -> tuple[list[str], str | None]:
    classes = state.list_cluster("storageclass")
    default = next((c["metadata"]["name"] for c in classes
                    if any((c["metadata"].get("annotations") or {}).get(a) == "true"
                           for a in DEFAULT_CLASS)), None)
    return [c["metadata"]["name"] for c in classes], default


def _classes_text(names: list[str], default: str | None) -> str:
    return listing(f"{n} (default)" if n == default else n for n in names)


# --- criteria -----------------------------------------------------------------------------

def is_statefulset(state: ClusterState) -> None:
    if state.get("statefulset", NAME) is None and state.get("deployment", NAME) is not None:
        dep = state.get("deployment", NAME)
        claims = [v["persistentVolumeClaim"].get("claimName") for v in
                  dep["spec"]["template"]["spec"].get("volumes") or []
                  if "persistentVolumeClaim" in v]
        shared = (f" with claim {listing(claims)}: every replica and every rolling update "
                  "would mount that one ReadWriteOnce volume" if claims else "")
        raise Failure(f"{NAME} is a Deployment{shared}. A database needs a StatefulSet: "
                      "stable pod names, and a claim of its own per replica")
    _statefulset(state)


def postgres_container(state: ClusterState) -> None:
    sts = _statefulset(state)
    db = _database(sts)
    problems = []
    image = db.get("image", "")
    if not same_image(image, IMAGE):
        problems.append(f"image is {image!r}, expected {IMAGE!r}")
    env = {e.get("name"): e for e in db.get("env") or []}
    entry = env.get("POSTGRES_PASSWORD")
    ref = ((entry or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    if entry is None:
        problems.append(f"env POSTGRES_PASSWORD is missing{near('POSTGRES_PASSWORD', env)}")
    elif "value" in entry and "valueFrom" not in entry:
        problems.append("env POSTGRES_PASSWORD is a literal value (not shown here); take it "
                        "from Secret db-credentials with valueFrom.secretKeyRef")
    elif (ref.get("name"), ref.get("key")) != ("db-credentials", "password"):
        problems.append(f"env POSTGRES_PASSWORD takes Secret {ref.get('name')!r} key "
                        f"{ref.get('key')!r}, expected Secret 'db-credentials' key 'password'")
    elif state.get("secret", "db-credentials") is None:
        problems.append(f"env POSTGRES_PASSWORD refers to Secret db-credentials, which does not "
                        f"exist in namespace {state.namespace}")
    fail_on(problems, f"StatefulSet {NAME}, container {db.get('name')}")


def headless_service(state: ClusterState) -> str | None:
    sts = _statefulset(state)
    service_name = sts["spec"].get("serviceName")
    if not service_name:
        raise Failure(f"StatefulSet {NAME}: spec.serviceName is not set, expected {NAME!r}")
    service = state.get("service", service_name)
    if service is None:
        raise Failure(f"StatefulSet {NAME}: spec.serviceName {service_name!r} names no Service"
                      f"{instead(state, 'service', service_name)}")
    spec = service.get("spec") or {}
    if spec.get("clusterIP") != "None":
        raise Failure(f"Service {service_name} is not headless: spec.clusterIP is "
                      f"{spec.get('clusterIP')!r}, expected 'None' (clusterIP cannot be "
                      "changed: delete the Service and create it again)")
    ports = [p.get("port") for p in spec.get("ports") or []]
    if PORT not in ports:
        raise Failure(f"Service {service_name} exposes port(s) {listing(map(str, ports))}, "
                      f"expected {PORT}")
    selector = spec.get("selector") or {}
    labels = sts["spec"]["template"]["metadata"].get("labels") or {}
    if not selector or not selector_matches({"matchLabels": selector}, labels):
        shown = listing(f"{k}={v}" for k, v in selector.items())
        raise Failure(f"Service {service_name}: spec.selector {shown} does not match the "
                      f"StatefulSet's pod labels ({listing(f'{k}={v}' for k, v in labels.items())})"
                      ": its pods get no DNS records")
    if service_name != NAME:
        return (f"spec.serviceName {service_name!r} is headless and selects the pods; the "
                f"task names it {NAME!r}")
    return None


def data_mounted(state: ClusterState) -> str | None:
    sts = _statefulset(state)
    volume_name, source, how = _data_source(sts)
    if how == "template":
        return None
    if how == "claim":
        replicas = sts["spec"].get("replicas", 1)
        claim = source["persistentVolumeClaim"].get("claimName")
        if replicas > 1:
            raise Failure(f"{DATA_PATH} comes from claim {claim!r}, named in the pod template: "
                          f"all {replicas} replicas would share it; use volumeClaimTemplates")
        return (f"{DATA_PATH} comes from claim {claim!r}, named in the pod template: fine for 1 "
                "replica; volumeClaimTemplates would give each replica a claim of its own")
    raise Failure(f"{DATA_PATH} is mounted from volume {volume_name!r} of type {how}, not from "
                  "a PersistentVolumeClaim: the data is lost with the pod")


def _claim_source(state: ClusterState, sts: dict) -> tuple[dict, str]:
    """(spec, what) of the claim holding the data: the one mounted at the data path, else
    the set's only claim template or named claim."""
    try:
        _, source, how = _data_source(sts)
    except Failure:
        templates = sts["spec"].get("volumeClaimTemplates") or []
        named = [v for v in sts["spec"]["template"]["spec"].get("volumes") or []
                 if "persistentVolumeClaim" in v]
        if len(templates) + len(named) != 1:
            raise
        source, how = (templates[0], "template") if templates else (named[0], "claim")
    if how == "template":
        return source.get("spec") or {}, f"volumeClaimTemplate {source['metadata']['name']}"
    if how != "claim":
        raise Failure(f"{DATA_PATH} is not mounted from a PersistentVolumeClaim")
    claim_name = source["persistentVolumeClaim"].get("claimName")
    claim = state.get("persistentvolumeclaim", claim_name) if claim_name else None
    if claim is None:
        raise Failure(f"PersistentVolumeClaim {claim_name!r} does not exist in namespace "
                      f"{state.namespace}")
    return claim.get("spec") or {}, f"PersistentVolumeClaim {claim_name}"


def claim_spec(state: ClusterState) -> None:
    spec, what = _claim_source(state, _statefulset(state))
    problems = []
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if size is None:
        problems.append("spec.resources.requests.storage is not set")
    elif parse_quantity(size) != parse_quantity(SIZE):
        problems.append(f"spec.resources.requests.storage is {size!r}, expected {SIZE} "
                        f"({int(parse_quantity(SIZE))} bytes)")
    modes = spec.get("accessModes") or []
    if modes != [ACCESS_MODE]:
        problems.append(f"spec.accessModes is {modes}, expected [{ACCESS_MODE}]")
    names, default = _classes(state)
    wanted = spec.get("storageClassName")
    if wanted == "":
        problems.append("spec.storageClassName is '' (no class: only a hand-made volume can "
                        f"bind it); leave it out to get the default class {default!r}")
    elif wanted is not None and wanted not in names:
        problems.append(f"spec.storageClassName {wanted!r} is no StorageClass of this cluster "
                        f"(it has {_classes_text(names, default)})")
    elif wanted is not None and wanted != default:
        problems.append(f"spec.storageClassName is {wanted!r}, expected the default class "
                        f"{default!r} (or leave it out)")
    fail_on(problems, what)


def claims_bound(state: ClusterState) -> None:
    sts = _statefulset(state)
    names, default = _classes(state)
    claims = _claim_names(sts)
    if not claims:
        raise Failure(f"StatefulSet {NAME} uses no PersistentVolumeClaim (no "
                      "spec.volumeClaimTemplates, no persistentVolumeClaim volume)")
    problems = []
    for claim_name in claims:
        claim = state.get("persistentvolumeclaim", claim_name)
        if claim is None:
            problems.append(f"claim {claim_name} does not exist (yet)")
            continue
        phase = (claim.get("status") or {}).get("phase", "Pending")
        if phase == "Bound":
            continue
        wanted = (claim.get("spec") or {}).get("storageClassName")
        why = ""
        if wanted and wanted not in names:
            why = (f": its StorageClass {wanted!r} does not exist in this cluster (it has "
                   f"{_classes_text(names, default)}), so no volume is ever provisioned")
        elif wanted == "":
            why = ": storageClassName '' asks for a hand-made volume, and none matches"
        problems.append(f"claim {claim_name} is {phase}{why}")
    fail_on(problems)


def pod_ready(state: ClusterState) -> None:
    sts = _statefulset(state)
    problems = []
    for ordinal in range(sts["spec"].get("replicas", 1)):
        pod_name = f"{NAME}-{ordinal}"
        pod = state.get("pod", pod_name)
        if pod is None:
            problems.append(f"pod {pod_name} does not exist (yet)")
            continue
        if is_ready(pod):
            continue
        phase = (pod.get("status") or {}).get("phase", "Pending")
        scheduled, ready = condition(pod, "PodScheduled"), condition(pod, "Ready")
        if scheduled.get("status") == "False":
            why = f": not scheduled ({scheduled.get('message') or scheduled.get('reason')})"
        else:
            said = ready.get("message") or ready.get("reason")
            why = f": {said}" if said else ""
        problems.append(f"pod {pod_name} is {phase} and not Ready{why}")
    fail_on(problems)


CRITERIA = (
    Criterion("storage-statefulset", "postgres runs as a StatefulSet (not a Deployment)", 2,
              f"kind: StatefulSet named {NAME}; delete a Deployment {NAME} first; see {LESSON}, "
              "'Why a Deployment is the wrong home for state'", is_statefulset),
    Criterion("storage-postgres-container", "postgres:16-alpine with POSTGRES_PASSWORD from "
              "db-credentials", 1,
              f"image: {IMAGE}; env POSTGRES_PASSWORD valueFrom.secretKeyRef {{name: "
              f"db-credentials, key: password}}; see {LESSON}, 'StatefulSets'",
              postgres_container),
    Criterion("storage-headless-service", "serviceName names an existing headless Service "
              "(clusterIP None, port 5432)", 2,
              f"a Service {NAME} with clusterIP: None, port {PORT} and the pods' labels as "
              f"selector, named in spec.serviceName; see {LESSON}, 'Headless Services'",
              headless_service),
    Criterion("storage-data-mount", "/var/lib/postgresql/data is mounted from a "
              "PersistentVolumeClaim", 2,
              f"a volumeClaimTemplate, mounted by its name at {DATA_PATH}; see {LESSON}, "
              "'volumeClaimTemplates'", data_mounted),
    Criterion("storage-claim-spec", "the claim asks for 1Gi, ReadWriteOnce, in the default "
              "StorageClass", 1,
              f"requests.storage: {SIZE}, accessModes: [{ACCESS_MODE}], no storageClassName "
              f"(`kubectl get storageclass` shows the default); volumeClaimTemplates cannot be "
              f"edited in place: delete the StatefulSet, then apply again; see {LESSON}, "
              "'StorageClasses'", claim_spec),
    Criterion("storage-claims-bound", "every claim of the set is Bound", 2,
              f"`kubectl get storageclass` lists the classes this cluster has; a claim naming "
              f"another stays Pending. Delete the StatefulSet and its Pending claims, fix "
              f"storageClassName, apply again; see {LESSON}, 'StorageClasses'", claims_bound),
    Criterion("storage-pod-ready", "the postgres pod is Ready", 1,
              f"`kubectl describe pod {NAME}-0` shows why it waits (often: its claim is not "
              f"bound); see {LESSON}, 'StatefulSets'", pod_ready),
)
