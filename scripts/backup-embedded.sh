#!/usr/bin/env bash
# Backs up the embedded database's folder (DATA_DIR) into one .tar.gz:
#   scripts/backup-embedded.sh DATA_DIR OUT.tar.gz
# Only while no process has the folder open: PGlite keeps its database in
# memory and writes pages back as it goes, so a copy taken under a running
# server can be torn. PGlite can dump a folder consistently (dumpDataDir),
# but only from inside the process that has it open, and the server offers
# no such door; so the server is stopped for the copy (seconds on a small
# folder). The script takes the folder's lock (DATA_DIR/pglite.lock, the one
# the server takes, src/db/connect.ts) for the time of the copy, so the
# server cannot start halfway. The copy includes DATA_DIR/app-secret when
# there is one (the development secret: without it, sessions and sealed
# messages of the copy cannot be read). Restore: scripts/restore-embedded.sh.
set -euo pipefail
# The backup holds password hashes and, here, maybe the secret: readable by its owner only.
umask 077

fail() { # code, message
  echo "backup-embedded: $2" >&2
  exit "$1"
}

[ $# -eq 2 ] || fail 2 "usage: scripts/backup-embedded.sh DATA_DIR OUT.tar.gz"
data=$1
out=$2
[ -d "$data" ] || fail 1 "$data: no such folder (DATA_DIR)"
[ -f "$data/pglite/PG_VERSION" ] || fail 1 "$data holds no embedded database (no pglite/PG_VERSION): is it DATA_DIR?"
[ -n "$out" ] || fail 2 "the second argument must name the backup file to write"
[ ! -e "$out" ] || fail 1 "$out already exists; a backup never overwrites a file: choose a new name"
dir=$(dirname -- "$out")
[ -d "$dir" ] && [ -w "$dir" ] || fail 1 "cannot write into $dir: the folder does not exist or is not writable"
case $(realpath -m -- "$out")/ in
  "$(realpath -- "$data")"/*) fail 2 "write the backup outside $data" ;;
esac

[ -w "$data" ] || fail 1 "$data is not writable by $(id -un): run the backup as root or as the service's user (it takes the folder's lock while it copies)"
lock="$data/pglite.lock"
partial="$out.partial.$$"
release() {
  rm -f -- "$partial"
  # Only our own lock: never the server's.
  if [ "$(cat -- "$lock" 2>/dev/null)" = "$$" ]; then rm -f -- "$lock"; fi
}
trap release EXIT
# The lock holds the pid of the process that has the folder; one left by a
# process that no longer runs is taken over, as the server does.
for attempt in 1 2; do
  if (set -o noclobber; echo "$$" >"$lock") 2>/dev/null; then break; fi
  holder=$(tr -dc '0-9' <"$lock" 2>/dev/null || true)
  if [ -n "$holder" ] && [ "$holder" != "$$" ] && [ -d "/proc/$holder" ]; then
    fail 1 "$data is in use by process $holder (the server or an operator command): stop it first (systemctl stop autogestion), then run the backup again; the embedded database cannot be copied while it is open"
  fi
  [ "$attempt" = 1 ] || fail 1 "cannot take the lock $lock"
  rm -f -- "$lock"
done

tar --create --gzip --file="$partial" --directory="$data" --exclude=./pglite.lock . \
  || fail 1 "tar failed (above): nothing was kept"
listing=$(tar --list --gzip --file="$partial") && grep -qx './pglite/PG_VERSION' <<<"$listing" \
  || fail 1 "the archive just written cannot be read back; nothing was kept"
mv -- "$partial" "$out"
echo "backup-embedded: wrote $out ($(wc -c <"$out" | tr -d ' ') bytes) from $data"
