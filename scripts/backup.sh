#!/usr/bin/env bash
# Back up NTM Portal: the PostgreSQL database (pg_dump custom format) and the evidence files (MEDIA_ROOT).
#
#   DATABASE_URL=postgres://ntm:…@127.0.0.1:5432/ntm MEDIA_ROOT=/srv/ntm/media scripts/backup.sh /var/backups/ntm
#
# Writes ntm-YYYYmmdd-HHMMSS.dump and, when MEDIA_ROOT exists, ntm-YYYYmmdd-HHMMSS-media.tar.gz into the
# folder (default ./backups). BACKUP_KEEP_DAYS=N removes backups older than N days afterwards.
# See docs/BACKUP.md.
set -euo pipefail

out_dir="${1:-backups}"
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "backup.sh backs up PostgreSQL; for SQLite see docs/BACKUP.md (dumpdata / sqlite3 .backup)." >&2; exit 2 ;;
esac

mkdir -p "$out_dir"
stamp="$(date +%Y%m%d-%H%M%S)"
dump="$out_dir/ntm-$stamp.dump"

# Written under a temporary name first, so that a failed run never leaves a file that looks like a backup.
pg_dump --format=custom --no-owner --no-acl --file="$dump.part" "$DATABASE_URL"
pg_restore --list "$dump.part" >/dev/null  # the archive must at least be readable
mv "$dump.part" "$dump"
echo "$dump"

if [ -n "${MEDIA_ROOT:-}" ] && [ -d "$MEDIA_ROOT" ]; then
  media="$out_dir/ntm-$stamp-media.tar.gz"
  tar -czf "$media.part" -C "$MEDIA_ROOT" .
  mv "$media.part" "$media"
  echo "$media"
fi

if [ -n "${BACKUP_KEEP_DAYS:-}" ]; then
  find "$out_dir" -maxdepth 1 -name 'ntm-*' -mtime +"$BACKUP_KEEP_DAYS" -print -delete
fi
