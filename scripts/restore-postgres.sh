#!/usr/bin/env bash
# Restores a backup of scripts/backup-postgres.sh into an EMPTY database:
#   scripts/restore-postgres.sh IN.dump DATABASE_URL
# Create the database first (createdb, owned by the portal's user), restore,
# then point DATABASE_URL at it and start the portal. One transaction: any
# error leaves the database as empty as it was. --no-owner: the tables
# belong to the user of DATABASE_URL, whatever role owned them before.
# The portal also needs the APP_SECRET it ran with (sessions, sealed
# messages and the staff's second factors depend on it). PG_BINDIR picks
# the PostgreSQL programs, as for the backup.
set -euo pipefail

fail() { # code, message
  echo "restore-postgres: $2" >&2
  exit "$1"
}

[ $# -eq 2 ] || fail 2 "usage: scripts/restore-postgres.sh IN.dump DATABASE_URL"
in=$1
url=$2
case $url in
  postgres://* | postgresql://*) ;;
  *) fail 2 "the second argument must be the target database's postgres:// address, not '$url'" ;;
esac
[ -f "$in" ] && [ -r "$in" ] || fail 1 "$in: no such readable file"

bin=${PG_BINDIR:+$PG_BINDIR/}
for program in pg_restore psql; do
  command -v "${bin}$program" >/dev/null \
    || fail 1 "$program not found${PG_BINDIR:+ in $PG_BINDIR}: install the PostgreSQL client programs (Debian: apt-get install postgresql-client)"
done

"${bin}pg_restore" --list "$in" >/dev/null 2>&1 \
  || fail 1 "$in is not a backup pg_restore can read (expected pg_dump's custom format, as scripts/backup-postgres.sh writes)"

# Restoring over existing tables would mix two databases: only an empty one.
objects=$("${bin}psql" --no-psqlrc --no-password --quiet --tuples-only --no-align --dbname="$url" --command="
  select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
    and n.nspname not like 'pg_temp%' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')") \
  || fail 1 "cannot connect to the target database (above); create it first: createdb -O OWNER NAME"
[ "$objects" = 0 ] \
  || fail 1 "the target database is not empty ($objects tables, views or sequences): restore into a new, empty database (createdb), never over one in use"

"${bin}pg_restore" --no-owner --exit-on-error --single-transaction --no-password --dbname="$url" "$in" \
  || fail 1 "pg_restore failed (above); the transaction was rolled back and the target database is still empty"

latest=$("${bin}psql" --no-psqlrc --no-password --quiet --tuples-only --no-align --dbname="$url" \
  --command="select count(*) || ' migrations, the last ' || coalesce(max(name), 'none') from kysely_migration") \
  || latest="migrations unknown"
echo "restore-postgres: restored $in ($latest); pending migrations, if any, run when the portal starts"
