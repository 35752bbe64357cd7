#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite (unit, sandbox integration,
# notebooks). Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit -q`.
# RWK_BINARY_SOURCE=build|download|auto chooses where sandbox binaries come from (CI: build).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RWK_VENV:-.venv}

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "test.sh: python3 3.11 or newer is needed (python3 is $(python3 --version 2>&1 || echo missing))" >&2
  exit 1
fi
# The sandbox binaries are built with the machine's python3 from this checkout (that part of
# the package needs only the standard library), in the background, so a first run's Go
# compile (about 10 minutes on 2 cores: 686 s with the install beside it) overlaps the venv and pip install instead of following.
echo "== [${SECONDS}s] sandbox binaries, beside the install (cached in ${RWK_CACHE_DIR:-~/.cache/rwk}; built once)"
# set -m: a process group of its own, so an early exit stops go as well as rwk.
set -m
python3 -m checker.cli binaries &
binaries=$!
set +m
trap 'kill -- "-$binaries" 2>/dev/null || true' EXIT

if [[ ! -x $venv/bin/python ]]; then
  echo "== [${SECONDS}s] creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
echo "== [${SECONDS}s] installing the package and its test dependencies"
# With uv (from PyPI, into the venv) when it can be had: it installs the same resolution as
# pip from its cache (~/.cache/uv) in about 4 s, where pip takes about 54 s with a warm cache.
# pip does it when uv cannot be installed or fails.
# Both leave every installed module compiled to bytecode (pip does by default; uv with
# --compile-bytecode), and so is the checkout's package below: each of the suite's Python
# processes (six workers, a kernel per notebook run, every rwk and papermill) would otherwise
# compile what it imports from source again wherever PYTHONDONTWRITEBYTECODE is set (it is on
# the machines this project is developed on): `import kubernetes` costs 3.2 CPU-s from source
# and 0.56 from bytecode; ipykernel 0.93 and 0.30.
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if "${pip[@]}" 'uv>=0.5,<1' 2>/dev/null &&
   "$venv/bin/python" -m uv pip install --quiet --compile-bytecode --python "$venv/bin/python" -e '.[test]'; then
  :
else
  echo "== [${SECONDS}s] uv could not install them (above, if it said why); pip does"
  "${pip[@]}" -e '.[test]'
fi
"$venv/bin/python" -m compileall -q checker

echo "== [${SECONDS}s] waiting for the sandbox binaries"
if ! wait "$binaries"; then
  echo "test.sh: the sandbox binaries could not be provided (above); \`rwk binaries\` retries" >&2
  exit 1
fi
trap - EXIT
if [[ ${RWK_SETUP_ONLY:-} == 1 ]]; then
  echo "== [${SECONDS}s] set up (RWK_SETUP_ONLY=1: no tests)"
  exit 0
fi

echo "== [${SECONDS}s] tests"
# Most tests wait on the cluster rather than compute, so they run in parallel workers, each
# with its own sandbox; a notebook's two passes, the solutions' chain and each test file stay
# on one worker, longest first (tests/conftest.py). 6 workers on 2 cores: with 4, a third
# of the CPU stayed idle (CI 896 s against 688 s with 6). RWK_TEST_WORKERS=0: one process.
workers=${RWK_TEST_WORKERS:-6}
if [[ $workers != 0 ]]; then
  set -- -n "$workers" --dist loadgroup --no-loadscope-reorder "$@"
fi
exec "$venv/bin/python" -m pytest --durations=10 "$@"
