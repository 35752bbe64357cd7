"""Exercise `configmaps`: api-config's values, taken as env and mounted as files."""

from __future__ import annotations

from ..model import Criterion, Failure
from .common import (APP, check_rolled_out, container, deployment, fail_on, listing, near,
                     require)
from ..state import ClusterState

LESSON = "lessons/02-configmaps.ipynb"
NAME = "api-config"
EXPECTED = {"LOG_LEVEL": "info", "MAX_CONNECTIONS": "100", "FEATURE_NEW_UI": "true"}
MOUNT_PATH = "/etc/config"


def configmap_values(state: ClusterState) -> None:
    # Every namespace holds kube-root-ca.crt: naming it would only be noise.
    found = require(state, "configmap", NAME, ignore={"kube-root-ca.crt"})
    data = found.get("data") or {}
    problems = []
    for key, want in EXPECTED.items():
        if key not in data:
            problems.append(f"key {key} is missing{near(key, set(data) - set(EXPECTED))}")
        elif data[key] != want:
            case = " (values are case-sensitive)" if data[key].lower() == want else ""
            problems.append(f"data.{key} is {data[key]!r}, expected {want!r}{case}")
    fail_on(problems, f"ConfigMap {NAME}")


def env_from(state: ClusterState) -> None:
    app = container(deployment(state))
    refs = [(item.get("configMapRef") or {}).get("name") for item in app.get("envFrom") or []
            if "configMapRef" in item]
    if NAME in refs:
        return None
    single = [e["name"] for e in app.get("env") or []
              if ((e.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name") == NAME]
    if single:
        raise Failure(f"container {APP} takes only {listing(single)} from {NAME} through "
                      "env[].valueFrom.configMapKeyRef; envFrom takes every key at once")
    if refs:
        raise Failure(f"container {APP}: envFrom refers to ConfigMap {listing(refs)}, expected "
                      f"{NAME!r}")
    raise Failure(f"container {APP} has no envFrom with configMapRef {NAME!r}")


def mounted_as_files(state: ClusterState) -> None:
    dep = deployment(state)
    volumes = [v for v in dep["spec"]["template"]["spec"].get("volumes") or []
               if (v.get("configMap") or {}).get("name") == NAME]
    if not volumes:
        raise Failure(f"the pod template has no volume of ConfigMap {NAME} "
                      "(spec.template.spec.volumes[].configMap.name)")
    names = {v["name"] for v in volumes}
    mounts = [m for m in container(dep).get("volumeMounts") or [] if m.get("name") in names]
    if not mounts:
        raise Failure(f"volume {listing(names)} (ConfigMap {NAME}) is declared but container "
                      f"{APP} does not mount it (volumeMounts)")
    paths = [m.get("mountPath", "").rstrip("/") or "/" for m in mounts]
    if MOUNT_PATH not in paths:
        raise Failure(f"container {APP} mounts {NAME} at {listing(paths)}, expected "
                      f"{MOUNT_PATH}")


CRITERIA = (
    Criterion("configmap-values", "ConfigMap api-config holds LOG_LEVEL=info, "
              "MAX_CONNECTIONS=100, FEATURE_NEW_UI=true", 2,
              f"keys and values are exact and case-sensitive; `kubectl get configmap "
              f"api-config -o yaml`; see {LESSON}, 'Creating a ConfigMap'", configmap_values),
    Criterion("configmap-envfrom", "api-server takes all of api-config as environment "
              "(envFrom)", 2, f"add envFrom: [{{configMapRef: {{name: {NAME}}}}}] to the "
              f"container; see {LESSON}, 'Environment variables from a ConfigMap'", env_from),
    Criterion("configmap-volume", "api-config is mounted as files at /etc/config", 2,
              f"declare a configMap volume AND a volumeMount in the container; see {LESSON}, "
              "'Mounting a ConfigMap as files'", mounted_as_files),
    Criterion("configmap-rolled-out", "Deployment api-server is rolled out", 1,
              f"`kubectl rollout status deployment/api-server -n NS`; see {LESSON}, "
              "'Rolling out the change'", check_rolled_out),
)
