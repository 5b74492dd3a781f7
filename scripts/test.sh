#!/usr/bin/env bash
# Installs what the tests need (Python packages, Debian's Chromium for browser tests) and runs the whole
# suite, lint and the migrations check. Extra arguments go to pytest. DATABASE_URL selects PostgreSQL.
# PYTEST_WORKERS=0 runs the tests in one process (pytest-xdist's -n).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements/test.txt
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Browser tests need Debian's Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'." >&2
    exit 1
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python manage.py makemigrations --check --dry-run
# Two workers on this 2-core machine; a test class (and its setUpTestData world) stays on one worker. No reordering:
# pytest-django puts the browser tests (which empty the database after them) last, and each worker must keep that.
.venv/bin/pytest -n "${PYTEST_WORKERS:-auto}" --dist loadscope --no-loadscope-reorder "$@"
