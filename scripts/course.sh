#!/usr/bin/env bash
# Install everything, start the course cluster and open the lessons in JupyterLab.
# RWK_BACKEND=auto|sandbox|kind|existing picks the cluster (auto: kind if Docker and kind
# are present, else the sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RWK_VENV:-.venv}

if [[ ! -x $venv/bin/python ]]; then
  echo "== creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
echo "== installing the course"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[course]'
"$venv/bin/python" -m ipykernel install --sys-prefix --name rwk --display-name "Real-World Kubernetes" >/dev/null
echo "== starting the cluster"
"$venv/bin/rwk" up --backend "${RWK_BACKEND:-auto}"
echo "== opening JupyterLab on lessons/ (stop it with Ctrl-C; stop the cluster with: $venv/bin/rwk down)"
PATH="$PWD/$venv/bin:$PATH" exec "$venv/bin/jupyter" lab lessons/
