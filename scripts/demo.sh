#!/usr/bin/env bash
# Runs the portal with demo data on SQLite at http://127.0.0.1:8000, or at PORT (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements/base.txt
export DEBUG="${DEBUG:-True}"
echo "• Tạo hoặc cập nhật cơ sở dữ liệu (SQLite, db.sqlite3), nạp bộ tiêu chí và bản đồ hành chính…"
.venv/bin/python manage.py migrate --noinput
echo "• Nạp bản đồ hành chính chính thức…"
.venv/bin/python manage.py load_admin_map
echo "• Nạp dữ liệu mẫu từ năm kế hoạch…"
.venv/bin/python manage.py seed_demo
# PORT is what runserver takes, "8003" or "0.0.0.0:8003": print the address it really serves.
ADDRESS="${PORT:-127.0.0.1:8000}"
case "$ADDRESS" in *:*) ;; *) ADDRESS="127.0.0.1:$ADDRESS" ;; esac
echo "• Khởi động máy chủ: mở http://$ADDRESS và đăng nhập bằng một tài khoản ở trên (Ctrl+C để dừng)."
exec .venv/bin/python manage.py runserver "$ADDRESS"
