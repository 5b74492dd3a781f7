# Shared by demo.sh and test.sh: a virtual environment in .venv with the given requirements file.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "NTM Portal cần Python 3.11 trở lên (đang có: $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "• Tạo môi trường Python riêng (.venv)…"
  "$PYTHON" -m venv .venv
fi
echo "• Cài các thư viện trong $1 (lần đầu mất vài phút)…"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
