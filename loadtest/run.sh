#!/usr/bin/env bash
# Load test on loopback: a scratch PostgreSQL database with generated data (generate_scale, LOADTEST_PROVINCES
# provinces, 8 by default: ~1,000 communes) and the load-test people with their sessions already made
# (loadtest/prepare.py), gunicorn in production mode with deploy/gunicorn.conf.py's defaults for this machine, on the
# distribution's Python as docs/DEPLOY.md installs it (.venv-deploy),
# locust with 100 officers and 10 reviewers (plus 4 logins a minute and an anonymous visitor of the login form)
# for 60 s. Stops everything and drops the database at the end. Results: $OUT/locust_stats.csv, $OUT/summary.txt
# (per request type: n, failures, req/s, median, p95, median against the login form's; the server's median CPU
# per request type, from each response's Server-Timing in the access log) and $OUT/uptime.txt.
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
# Each response says the CPU it took (Server-Timing), which the access log keeps for summary.py.
export SERVER_TIMING=True

# The server runs on the Python docs/DEPLOY.md installs: the distribution's (Debian's python3, built with PGO and LTO),
# in .venv-deploy made here, not on .venv's interpreter, which may be a pyenv build without them (measured here: a
# quarter more CPU per page). DEPLOY_PYTHON names another; locust stays in .venv.
DEPLOY_PYTHON="${DEPLOY_PYTHON:-/usr/bin/python3}"
SERVER=.venv/bin
if [ -x "$DEPLOY_PYTHON" ] && { [ -x .venv-deploy/bin/python ] || "$DEPLOY_PYTHON" -m venv .venv-deploy; }; then
  .venv-deploy/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/base.txt
  SERVER=.venv-deploy/bin
else
  echo "No virtual environment from $DEPLOY_PYTHON (Debian: apt-get install python3-venv): the server runs on .venv." >&2
fi
echo "server: $("$SERVER/python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"

"$SERVER/python" manage.py migrate -v0
"$SERVER/python" manage.py collectstatic --noinput -v0
"$SERVER/python" manage.py generate_scale --provinces "${LOADTEST_PROVINCES:-8}" >/dev/null
"$SERVER/python" loadtest/prepare.py >"$OUT/plan.json"

# Workers, threads and worker class: deploy/gunicorn.conf.py's defaults unless GUNICORN_* say otherwise.
GUNICORN_BIND="127.0.0.1:$PORT" \
  GUNICORN_ACCESS_LOG="$OUT/access.log" GUNICORN_ERROR_LOG="$OUT/error.log" \
  "$SERVER/gunicorn" -c deploy/gunicorn.conf.py ntm_portal.wsgi &
gunicorn_pid=$!
cleanup() {
  kill "$gunicorn_pid" 2>/dev/null && wait "$gunicorn_pid" 2>/dev/null || true
  if [ -z "${KEEP_DB:-}" ]; then psql "$PG_URL/postgres" -qc "drop database if exists $DB with (force)"; fi
}
trap cleanup EXIT
for _ in $(seq 1 30); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/dang-nhap/" && break; sleep 1; done

# CPU seconds used so far by the gunicorn workers (/proc, in clock ticks): the server's CPU per request.
cpu_of() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {print s / hz}'; }
# shellcheck disable=SC2046
workers_cpu() { cpu_of $(pgrep -P "$gunicorn_pid"); }
cpu_before="$(workers_cpu)"

# LOADTEST_CLASSES picks some of the user classes (e.g. "Officer Arrival Visitor" for the officers alone);
# --users is then the sum of their fixed counts.
CLASSES="${LOADTEST_CLASSES:-Officer Reviewer Arrival Visitor}"
USERS=0
for c in $CLASSES; do case $c in Officer) USERS=$((USERS + 100));; Reviewer) USERS=$((USERS + 10));; *) USERS=$((USERS + 1));; esac; done
# shellcheck disable=SC2086
LOADTEST_PLAN="$OUT/plan.json" .venv/bin/locust -f loadtest/locustfile.py $CLASSES --headless --host "http://127.0.0.1:$PORT" \
  --users "$USERS" --spawn-rate 20 --run-time "$RUN_TIME" --stop-timeout 10 --csv "$OUT/locust" --only-summary \
  >"$OUT/locust.txt" 2>&1 &
locust_pid=$!
sleep 30 && uptime >"$OUT/uptime.txt" && ps -o times= -p "$locust_pid" >"$OUT/locust_cpu_30s.txt" &
wait "$locust_pid" || true
cpu_after="$(workers_cpu)"
.venv/bin/python loadtest/summary.py "$OUT/locust_stats.csv" --cpu "$cpu_before" "$cpu_after" --access-log "$OUT/access.log" | tee "$OUT/summary.txt"
echo "load during the run: $(cat "$OUT/uptime.txt"); locust's own CPU after 30 s: $(cat "$OUT/locust_cpu_30s.txt") s"
echo "gunicorn errors: $(grep -c 'ERROR\|Traceback' "$OUT/error.log" || true)"
