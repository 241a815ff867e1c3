#!/usr/bin/env bash
# Restores a backup of scripts/backup-embedded.sh into a NEW data folder:
#   scripts/restore-embedded.sh IN.tar.gz DATA_DIR
# DATA_DIR must not exist yet (or be empty): a restore never mixes with, or
# replaces, a folder in use. Move the old folder aside first, restore, then
# give the folder to the service's user (chown -R autogestion: DATA_DIR)
# and start the portal; pending migrations run at start.
set -euo pipefail

fail() { # code, message
  echo "restore-embedded: $2" >&2
  exit "$1"
}

[ $# -eq 2 ] || fail 2 "usage: scripts/restore-embedded.sh IN.tar.gz DATA_DIR"
in=$1
data=$2
[ -f "$in" ] && [ -r "$in" ] || fail 1 "$in: no such readable file"
[ -n "$data" ] || fail 2 "the second argument must name the data folder to create"
if [ -e "$data" ]; then
  [ -d "$data" ] || fail 1 "$data exists and is not a folder"
  [ -z "$(ls -A -- "$data")" ] || fail 1 "$data is not empty: restore into a new folder (move the old one aside first, with the server stopped)"
fi
listing=$(tar --list --gzip --file="$in" 2>/dev/null) \
  || fail 1 "$in is not a .tar.gz archive"
grep -qx './pglite/PG_VERSION' <<<"$listing" \
  || fail 1 "$in is not a backup of an embedded data folder (no pglite/PG_VERSION in it)"

parent=$(dirname -- "$data")
mkdir -p -- "$parent"
staging=$(mktemp -d "$parent/.restore.XXXXXX")
trap 'rm -rf -- "$staging"' EXIT
tar --extract --gzip --file="$in" --directory="$staging" --no-same-owner \
  || fail 1 "tar failed (above): nothing was restored"
chmod 700 "$staging"
[ ! -e "$data" ] || rmdir -- "$data"
mv -- "$staging" "$data"
trap - EXIT
echo "restore-embedded: restored $in into $data"
