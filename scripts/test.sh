#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite (unit, sandbox integration,
# notebooks). Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit -q`.
# RWK_BINARY_SOURCE=build|download|auto chooses where sandbox binaries come from (CI: build).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RWK_VENV:-.venv}

if ! command -v python3 >/dev/null; then
  echo "test.sh: python3 (3.11 or newer) is needed" >&2; exit 1
fi
if [[ ! -x $venv/bin/python ]]; then
  echo "== [${SECONDS}s] creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
echo "== [${SECONDS}s] installing the package and its test dependencies"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== [${SECONDS}s] sandbox binaries (cached in ${RWK_CACHE_DIR:-~/.cache/rwk}; built once)"
"$venv/bin/rwk" binaries

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
