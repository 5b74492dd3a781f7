#!/usr/bin/env bash
# Load test on loopback: a scratch PostgreSQL database with the demo data and 110 load-test users, gunicorn
# in production mode (2 workers for 2 cores), locust with 100 officers and 10 reviewers for 60 s. Stops
# everything and drops the database at the end. Results: $OUT/locust_stats.csv and the printed summary.
#
#   bash loadtest/run.sh            # PG_URL=postgres://postgres@127.0.0.1:5432 by default
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB="${LOADTEST_DB:-ntm_loadtest}"
PORT="${LOADTEST_PORT:-8766}"
OUT="${LOADTEST_OUT:-/tmp/ntm-loadtest}"
RUN_TIME="${LOADTEST_RUN_TIME:-60s}"
mkdir -p "$OUT"

psql "$PG_URL/postgres" -qc "drop database if exists $DB with (force)"
psql "$PG_URL/postgres" -qc "create database $DB"

export ENVIRONMENT=production DEBUG=False SECURE_SSL=False ALLOWED_HOSTS=127.0.0.1,localhost
export SECRET_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))')"
export DATABASE_URL="$PG_URL/$DB" CONN_MAX_AGE=60 STATIC_ROOT="$OUT/static" MEDIA_ROOT="$OUT/media"
export LOG_LEVEL=ERROR

.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py seed_demo >/dev/null
.venv/bin/python loadtest/prepare.py >"$OUT/plan.json"

GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS="${GUNICORN_WORKERS:-2}" GUNICORN_THREADS="${GUNICORN_THREADS:-1}" \
  GUNICORN_ACCESS_LOG="$OUT/access.log" GUNICORN_ERROR_LOG="$OUT/error.log" \
  .venv/bin/gunicorn -c deploy/gunicorn.conf.py ntm_portal.wsgi &
gunicorn_pid=$!
cleanup() {
  kill "$gunicorn_pid" 2>/dev/null && wait "$gunicorn_pid" 2>/dev/null || true
  if [ -z "${KEEP_DB:-}" ]; then psql "$PG_URL/postgres" -qc "drop database if exists $DB with (force)"; fi
}
trap cleanup EXIT
for _ in $(seq 1 30); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/dang-nhap/" && break; sleep 1; done

LOADTEST_PLAN="$OUT/plan.json" .venv/bin/locust -f loadtest/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
  --users 110 --spawn-rate 10 --run-time "$RUN_TIME" --stop-timeout 10 --csv "$OUT/locust" --only-summary \
  2>&1 | tee "$OUT/summary.txt"
echo "gunicorn errors: $(grep -c 'ERROR\|Traceback' "$OUT/error.log" || true)"
