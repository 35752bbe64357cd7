"""The Binder rehearsal (scripts/rehearse_binder.py): the image built as repo2docker builds
it and a session started as JupyterHub starts it, in a 2 GB, 1 CPU cgroup, as a non-root
user. Slow (about three minutes: a fresh virtual environment, the sandbox on one CPU, four
notebooks); it needs root (CI runs as root) and the sandbox binaries in the cache, which
scripts/test.sh provides."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checker.clusters.sandbox import DEFAULT_PORT, SMALL_FLAGS
from checker.clusters.versions import load

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.cost(165)
def test_a_binder_session_as_mybinder_runs_it(tmp_path):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the Binder rehearsal must run in CI, and CI runs as root")
        pytest.skip("the Binder rehearsal creates a user and cgroups: run it as root")
    figures_file = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "rehearse_binder.py"),
                           "--json", str(figures_file)],
                          capture_output=True, text=True, timeout=600)
    print(done.stdout[-6000:])
    assert done.returncode == 0, f"rehearsal failed:\n{done.stderr[-4000:]}"
    figures = json.loads(figures_file.read_text())
    assert figures["result"] == "passed"
    assert figures["jupyterlab_api_s"] <= 30
    assert figures["first_node_ready_s"] <= 90
    assert figures["check_configmaps"] == "passed"
    assert figures["peak_rss_bytes"] < figures["memory_limit_bytes"]
    assert figures["oom_kills"] == 0
    # binder/start's RWK_SANDBOX_MEMORY=small reached every component it limits.
    assert figures["component_flags"] == {
        component: sorted(f"{key}={value}" for key, value in flags.items())
        for component, flags in SMALL_FLAGS.items()}
    assert figures["rebuild_dependency_layer"] == "reused"
    v = load()
    assert sorted(figures["rebuild_post_build_provided"]) == sorted([
        f"kubernetes v{v.kubernetes}", f"etcd v{v.etcd}", f"kwok v{v.kwok}",
        f"metrics-server v{v.metrics_server}", "metrics-server's manifests"])
    # The sandbox's logs outlive the home the cleanup removes, so a failed run can be read.
    kept = Path(os.environ.get("RWK_REHEARSAL_DIR", "/var/tmp/rwk-binder-rehearsal")) / "logs"
    assert "(exit 0)" in (kept / "rwk" / "background-up.log").read_text()
    assert (kept / "rwk" / "cluster-rwk" / "kube-apiserver.log").is_file()
    # Nothing of it is left behind: the user, the cgroups, its processes.
    assert subprocess.run(["id", "rwk-binder"], capture_output=True).returncode != 0
    assert not Path("/sys/fs/cgroup/memory/rwk-binder-rehearsal").exists()
    assert not Path("/sys/fs/cgroup/cpu/rwk-binder-rehearsal").exists()


def test_the_sessions_sandbox_port_is_one_the_kernel_hands_no_one_else():
    """The rehearsal names the API server's port before its minute of building. A port from
    bind(0) lies in the kernel's ephemeral range, where the suite's sandboxes and kernels are
    handed ports meanwhile: one taken makes the background `rwk up` exit 1 (PortInUse)."""
    spec = importlib.util.spec_from_file_location("rehearse_binder",
                                                  REPO / "scripts" / "rehearse_binder.py")
    rehearse = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rehearse)
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    env = rehearse.Rehearsal(keep=False).user_env()     # what binder/start is given
    port = int(env["RWK_SANDBOX_PORT"])
    assert not low <= port <= high, f"port {port} is in the ephemeral range {low}-{high}"
    assert port != DEFAULT_PORT      # this machine's own sandbox's
