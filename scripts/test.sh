#!/usr/bin/env bash
# Install pboss with its test dependencies and run the whole test suite, Neo4j included.
# Neo4j comes from NEO4J_URI if set, else a testcontainers container if Docker answers, else the
# local launcher (tools/neo4j-local, built with Maven on first use). The GraphiQL browser test
# needs Debian's Chromium, the console's pages a CJK font (fonts-noto-cjk) and the replica test
# (tests/replicas) Debian's nginx as its load balancer: installed here with apt-get when missing (as
# root; otherwise a hint). The browser tests' accessibility rules (axe-core) come from npm.
# Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing Debian's chromium for the browser tests (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  else
    echo "== /usr/bin/chromium missing: 'sudo apt-get install chromium' (browser tests skip; fail with CI=true)"
  fi
fi
# The console shows Chinese text (site, partner and customer names): its pages and charts need a
# CJK font, which a minimal Debian lacks (tofu boxes otherwise); the browser tests check it.
if ! fc-list :lang=zh family 2>/dev/null | grep -q .; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing Debian's CJK fonts (fonts-noto-cjk) for the console (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "== no CJK font: 'sudo apt-get install fonts-noto-cjk' (the console's font test fails)"
  fi
fi
# axe-core, the accessibility rules the browser tests inject into every console page: the pinned
# version of tests/browser/axe/package-lock.json from the npm registry, installed here, never
# downloaded while the tests run.
if [[ ! -f tests/browser/axe/node_modules/axe-core/axe.min.js ]]; then
  if command -v npm >/dev/null; then
    echo "== installing axe-core for the browser tests (npm ci, tests/browser/axe)"
    npm ci --prefix tests/browser/axe --no-audit --no-fund --silent
  else
    echo "== npm missing: 'sudo apt-get install npm' (accessibility checks skip; fail with CI=true)"
  fi
fi
if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing Debian's nginx for the replica test (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq nginx >/dev/null
  else
    echo "== nginx missing: 'sudo apt-get install nginx' (replica test skips; fails with CI=true)"
  fi
fi
python3 -m pip install --quiet --disable-pip-version-check -e '.[dev,fast]'
python3 -m ruff check pboss tests bench
python3 -m ruff format --check pboss tests bench
python3 -m pytest "$@"
