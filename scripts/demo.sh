#!/usr/bin/env bash
# Runs the portal with demo data on SQLite at http://127.0.0.1:8000 (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements/base.txt
export DEBUG="${DEBUG:-True}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
echo "Mở http://127.0.0.1:8000 và đăng nhập bằng một tài khoản ở trên."
exec .venv/bin/python manage.py runserver "${PORT:-127.0.0.1:8000}"
