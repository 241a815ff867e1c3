#!/usr/bin/env bash
# Backs up the portal's PostgreSQL database into one file, in pg_dump's custom
# format (compressed; pg_restore reads it, table by table if need be):
#   scripts/backup-postgres.sh DATABASE_URL OUT.dump
# Safe while the portal runs: pg_dump reads one consistent snapshot. The dump
# is written beside OUT.dump and renamed once pg_restore can read it, so a
# file named OUT.dump is always a whole backup. It never overwrites a file.
# A password is better kept in ~/.pgpass or PGPASSWORD than in the address
# (command lines are visible to other users of the machine). PG_BINDIR picks
# the PostgreSQL programs (e.g. /usr/lib/postgresql/16/bin); pg_dump must be
# the server's major version or newer. Restore: scripts/restore-postgres.sh.
set -euo pipefail
# The backup holds password hashes and contacts: readable by its owner only.
umask 077

fail() { # code, message
  echo "backup-postgres: $2" >&2
  exit "$1"
}

[ $# -eq 2 ] || fail 2 "usage: scripts/backup-postgres.sh DATABASE_URL OUT.dump"
url=$1
out=$2
case $url in
  postgres://* | postgresql://*) ;;
  *) fail 2 "the first argument must be the database's postgres:// address (DATABASE_URL), not '$url'" ;;
esac
[ -n "$out" ] || fail 2 "the second argument must name the backup file to write"
[ ! -e "$out" ] || fail 1 "$out already exists; a backup never overwrites a file: choose a new name"
dir=$(dirname -- "$out")
[ -d "$dir" ] && [ -w "$dir" ] || fail 1 "cannot write into $dir: the folder does not exist or is not writable"

bin=${PG_BINDIR:+$PG_BINDIR/}
command -v "${bin}pg_dump" >/dev/null && command -v "${bin}pg_restore" >/dev/null \
  || fail 1 "pg_dump and pg_restore not found${PG_BINDIR:+ in $PG_BINDIR}: install the PostgreSQL client programs (Debian: apt-get install postgresql-client)"

partial="$out.partial.$$"
trap 'rm -f -- "$partial"' EXIT
"${bin}pg_dump" --format=custom --no-password --file="$partial" --dbname="$url" \
  || fail 1 "pg_dump failed (above): nothing was written"

# A file pg_restore cannot list is no backup; a dump without the migrations'
# table is not the portal's database (a wrong DATABASE_URL).
contents=$("${bin}pg_restore" --list "$partial") || fail 1 "pg_restore cannot read the dump just written; nothing was kept"
grep -Eq ' TABLE [^ ]+ kysely_migration ' <<<"$contents" \
  || fail 1 "the database at that address has no kysely_migration table: it is not the portal's database; nothing was kept"

mv -- "$partial" "$out"
trap - EXIT
tables=$(grep -Ec ' TABLE DATA ' <<<"$contents" || true)
echo "backup-postgres: wrote $out ($(wc -c <"$out" | tr -d ' ') bytes, $tables tables)"
