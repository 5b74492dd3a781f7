"""gunicorn settings for NTM Portal: `gunicorn -c deploy/gunicorn.conf.py ntm_portal.wsgi`.

Every value can be overridden from the environment (GUNICORN_BIND, GUNICORN_WORKERS, ...), so the same file
serves a small province server and a larger app server behind a load balancer.
"""

import multiprocessing
import os

# nginx talks to gunicorn on loopback (or a private network address when several app servers are used).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, 2 × cores + 1 (5 on 2 cores): the pages are CPU-bound Python behind nginx, which buffers slow
# clients, and Biểu exports larger than NTM_INLINE_EXPORT_MAX_COMMUNES go to the export worker, so no request
# holds a worker for long. Each worker keeps its PostgreSQL connection open between requests (CONN_MAX_AGE,
# docs/DEPLOY.md). Measured against threaded workers (GUNICORN_WORKER_CLASS=gthread, 3 × 4 threads) in
# loadtest/run.sh: the same throughput, and a p95 of 8 s against 15 s once saturated (docs/PERFORMANCE.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# Biểu exports of a whole province build a workbook in the request; give them time before the worker is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak in a library never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
# Only nginx on this machine may set X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The usual combined format, then the time taken (ms) and the application's Server-Timing header (its CPU and wall
# time, present when SERVER_TIMING is on: ntm_portal/timing.py), which loadtest/summary.py reads per page.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)s "%({server-timing}o)s"'
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "ntm-portal"
