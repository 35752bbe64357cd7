#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu, with
# network). The autograder zip holds this file, run_autograder and the course: either the
# repository itself in a folder `real-world-kubernetes/` beside them, or set RWK_SOURCE to a
# pip requirement (a git URL, a wheel) before zipping (edit the default below).
#
# It installs Python, the course into /opt/rwk (a virtual environment: rwk, papermill and a
# Jupyter kernel), and the sandbox's binaries downloaded from their official releases,
# checksums verified (`rwk binaries --binary-source download`), so grading a submission
# starts at once. Nothing is started here: run_autograder starts a sandbox per submission.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_spec=${RWK_SOURCE:-$here/real-world-kubernetes}

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q python3 python3-venv python3-pip openssl ca-certificates curl
fi

python3 -m venv /opt/rwk
/opt/rwk/bin/pip install --quiet --upgrade pip
# papermill and a kernel run the notebooks; the course's extra brings ipykernel.
/opt/rwk/bin/pip install --quiet "${source_spec}[course]" "papermill>=2.5"

# The sandbox's binaries into the cache of the user that runs the autograder (root).
RWK_BINARY_SOURCE=download /opt/rwk/bin/rwk binaries --binary-source download

# run_autograder must sit at /autograder/run_autograder; Gradescope copies it there from
# the zip, but keep it executable either way.
chmod +x "$here/run_autograder"
