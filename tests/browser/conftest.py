"""JupyterLab in a real browser, against this worker's sandbox.

`lab` starts JupyterLab on a free port with a token, its kernels pointed at the sandbox
(KUBECONFIG, the sandbox's kubectl first on PATH), in a folder holding copies of the
notebooks a test opens. `page` is a headless Debian chromium driven by Playwright (the
`playwright` package from PyPI, never a browser download of its own). When a test fails its
screenshot, the page's HTML and JupyterLab's log are saved under the artifacts folder, which
the test prints (RWK_BROWSER_ARTIFACTS, default a folder of pytest's tmp path).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker.clusters.binaries import cached_path
from checker.clusters.sandbox import Sandbox
from checker.clusters.versions import load

CHROMIUM = Path(os.environ.get("RWK_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 420


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab."""

    url: str
    token: str
    root: Path
    """The folder it serves; notebooks copied here open as `/lab/tree/<relative path>`."""
    log: Path
    env: dict[str, str]
    """The environment of its kernels (and of the test's kubectl)."""

    def tree(self, relative: str) -> str:
        # `reset`: a fresh workspace, so the notebooks an earlier test opened are not restored
        # beside this one (their hidden cells matched the tests' selectors first).
        return f"{self.url}/lab/tree/{relative}?reset&token={self.token}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _settings(folder: Path) -> Path:
    """JupyterLab settings for a test: every cell kept in the page (JupyterLab 4 otherwise
    drops the cells scrolled out of view, outputs included), and no news pop-up."""
    for plugin, text in (("notebook-extension/tracker", '{"windowingMode": "none"}'),
                         ("apputils-extension/notification", '{"fetchNews": "false"}')):
        path = folder / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("RWK_BROWSER_ARTIFACTS")
                  or tmp_path_factory.mktemp("browser-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\n[browser] artifacts (screenshots on failure, JupyterLab's log): {folder}")
    return folder


@pytest.fixture(scope="session")
def lab(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory,
        artifacts: Path) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    bin_dir = tmp_path_factory.mktemp("lab-bin")
    kubectl = cached_path("kubectl", load().kubernetes)
    if kubectl.is_file():
        (bin_dir / "kubectl").symlink_to(kubectl)
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig),
           "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                    os.environ.get("PATH", "")]),
           "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(root / ".jupyter-runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(_settings(root / ".jupyterlab-settings"))}
    port, token = _free_port(), secrets.token_hex(16)
    log = artifacts / "jupyterlab.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
             "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
             "--ServerApp.allow_root=True"],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; its log: {log}") from None
                time.sleep(0.3)
        yield Lab(url=url, token=token, root=root, log=log, env=env)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        stem = artifacts / request.node.name.replace("/", "_")
        try:
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content())
        except Exception as error:   # a dead page must not hide the test's own failure
            print(f"[browser] no screenshot: {error}")
        print(f"[browser] failed: screenshot and page saved as {stem}.png, {stem}.html")
    context.close()


def copy_notebook(lab: Lab, relative: str, namespace: str) -> str:
    """The notebook copied into the lab's folder with its NAMESPACE parameter set; returns
    its path relative to the lab."""
    import nbformat

    notebook = nbformat.read(ROOT / relative, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = f'NAMESPACE = "{namespace}"'
    target = lab.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    for sibling in (ROOT / relative).parent.iterdir():
        if sibling.suffix != ".ipynb" and not (target.parent / sibling.name).exists():
            if sibling.is_dir():
                shutil.copytree(sibling, target.parent / sibling.name, symlinks=True)
            else:
                (target.parent / sibling.name).symlink_to(sibling)
    nbformat.write(notebook, target)
    return relative
