#!/usr/bin/env bash
# Test the lower bounds pyproject.toml declares: install the lowest allowed version of every direct
# dependency (runtime, `fast` and `dev` extras) into a fresh virtualenv with uv's
# `--resolution lowest-direct` (indirect dependencies resolve as usual), then run the memory-only part
# of the suite there. A bound that no test ever ran is a guess; this makes each one a tested fact.
# Needs only python3 and PyPI (uv itself comes from PyPI through pip). Extra args go to pytest.
# LOWEST_VENV=dir keeps the virtualenv in dir (recreated each run); by default a temporary one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${LOWEST_VENV:-}" ]]; then
  venv="$LOWEST_VENV"
  rm -rf "$venv"
else
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  venv="$scratch/venv"
fi
python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check "uv>=0.4,<1"
"$py" -m uv pip install --quiet --python "$py" --resolution lowest-direct -e '.[dev,fast]'
echo "== lowest direct dependencies installed in $venv:"
"$py" -m uv pip list --python "$py"
# The venv's bin comes first so a test that starts `pboss` or `python` gets this environment.
# The request fuzz runs at full size in the main run; here a fifth of it checks the lowest versions.
PATH="$venv/bin:$PATH" PBOSS_FUZZ_REQUESTS="${PBOSS_FUZZ_REQUESTS:-2000}" "$py" -m pytest -q -x -m "not neo4j" -p no:cacheprovider "$@"
