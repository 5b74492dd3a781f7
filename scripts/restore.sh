#!/usr/bin/env bash
# Restore an NTM Portal backup made by scripts/backup.sh into an EMPTY PostgreSQL database.
#
#   createdb -h 127.0.0.1 -U postgres ntm_restored
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ntm_restored scripts/restore.sh backups/ntm-….dump \
#       [backups/ntm-…-media.tar.gz]
#
# Refuses a database that already has tables: restoring over live data would mix two states. Restore into a
# new database, check it, then point the portal's DATABASE_URL at it (docs/BACKUP.md).
set -euo pipefail

dump="${1:?usage: restore.sh DUMP_FILE [MEDIA_ARCHIVE]}"
media="${2:-}"
: "${DATABASE_URL:?DATABASE_URL must name the (empty) PostgreSQL database to restore into}"

tables="$(psql "$DATABASE_URL" -tAc "select count(*) from pg_tables where schemaname = 'public'")"
if [ "$tables" != "0" ]; then
  echo "The target database already has $tables tables; restore into an empty database." >&2
  exit 1
fi

# One transaction: either the whole backup is restored or nothing is.
pg_restore --no-owner --no-acl --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$dump"
echo "database restored from $dump"

if [ -n "$media" ]; then
  : "${MEDIA_ROOT:?MEDIA_ROOT must name the folder to unpack the evidence files into}"
  mkdir -p "$MEDIA_ROOT"
  tar -xzf "$media" -C "$MEDIA_ROOT"
  echo "evidence files restored into $MEDIA_ROOT"
fi
