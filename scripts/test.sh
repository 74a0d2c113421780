#!/usr/bin/env bash
# Install pboss with its test dependencies and run the whole test suite, Neo4j included.
# Neo4j comes from NEO4J_URI if set, else a testcontainers container if Docker answers, else the
# local launcher (tools/neo4j-local, built with Maven on first use). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[dev,fast]'
python3 -m ruff check pboss tests bench
python3 -m ruff format --check pboss tests bench
python3 -m pytest "$@"
