#!/usr/bin/env bash
# Install everything, start the course cluster and open the lessons in JupyterLab.
# RWK_BACKEND=auto|sandbox|kind|existing picks the cluster (auto: kind if Docker and kind
# are present, else the sandbox).
set -euo pipefail

# open_lab VENV UID: replace this shell by JupyterLab on lessons/, from VENV, for user UID.
# JupyterLab refuses to start as root unless given --allow-root, and containers and dev
# machines often run as root: there it gets the flag, and the screen says so.
open_lab() {
  local venv=$1 uid=$2 bin
  local args=(lab lessons/)
  bin=$(cd "$venv/bin" && pwd)
  if [[ $uid == 0 ]]; then
    echo "== running as root: starting JupyterLab with --allow-root (it refuses root without it)"
    args+=(--allow-root)
  fi
  echo "== opening JupyterLab on lessons/ (stop it with Ctrl-C; stop the cluster with: $venv/bin/rwk down)"
  PATH="$bin:$PATH" exec "$bin/jupyter" "${args[@]}"
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  local venv=${RWK_VENV:-.venv}

  if [[ ! -x $venv/bin/python ]]; then
    echo "== creating the virtual environment $venv"
    python3 -m venv "$venv"
  fi
  echo "== installing the course"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[course]'
  "$venv/bin/python" -m ipykernel install --sys-prefix --name rwk --display-name "Real-World Kubernetes" >/dev/null
  echo "== starting the cluster"
  "$venv/bin/rwk" up --backend "${RWK_BACKEND:-auto}"
  open_lab "$venv" "$EUID"
}

# Sourced (as the tests do, to call open_lab alone), it only defines the functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
