#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run) and as a developer runs it
# (`npm test`): installs what is missing (PostgreSQL and Chromium from
# Debian, node modules), starts a throwaway PostgreSQL, then runs lint,
# typecheck, unit tests, integration tests on PGlite and on PostgreSQL, and
# the browser end-to-end tests, and the operations suite (the compiled build
# installed for production, two instances behind nginx, faults). Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/.tmp/test-results"
rm -rf "$OUT"; mkdir -p "$OUT"
export DEBIAN_FRONTEND=noninteractive
START=$(date +%s)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- 1. System packages --------------------------------------------------
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  step "Installing from Debian: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "Installing ${need[*]} needs root (apt-get)." >&2; exit 1; fi
  # The packages' services are not started (the tests start their own
  # PostgreSQL and nginx on loopback, on free ports).
  policy_made=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_made=1
  fi
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >"$OUT/apt.log" 2>&1
  apt_code=$?
  [ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d
  [ "$apt_code" -eq 0 ] || { tail -20 "$OUT/apt.log"; echo "apt-get install failed" >&2; exit 1; }
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "Installing node modules (npm ci)"
  npm ci --no-audit --no-fund </dev/null || { echo "npm ci failed" >&2; exit 1; }
fi

# Each suite appends "name: N passed, N failed (S s)" to summary.txt; the
# totals are added up from it at the end (a suite run in the background
# records its line there too).
SUITE_START=$(date +%s)
record() { # name, pass-count, fail-count [, start time of the suite]
  local since=${4:-$SUITE_START}
  printf '%s: %s passed, %s failed (%s s)\n' "$1" "$2" "$3" "$(( $(date +%s) - since ))" >>"$OUT/summary.txt"
  SUITE_START=$(date +%s)
}

# --- 2. Throwaway PostgreSQL ---------------------------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDIR=$(mktemp -d)
chown postgres "$PGDIR" 2>/dev/null || true
PGPORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
stop_pg() {
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PGDIR"
}
trap stop_pg EXIT
step "Starting a throwaway PostgreSQL on port $PGPORT"
if runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$OUT/initdb.log" 2>&1 \
  && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
       -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null; then
  PG_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
else
  cat "$OUT/initdb.log" "$PGDIR/log" 2>/dev/null | tail -20
  echo "PostgreSQL did not start: the PostgreSQL suite will count as failed." >&2
  PG_URL=""
fi

# --- 3. Lint and typecheck -----------------------------------------------
step "Lint (biome)"
if npx biome check . ; then record lint 1 0; else record lint 0 1; fi
step "Typecheck (tsc --noEmit)"
if npx tsc --noEmit -p . ; then record typecheck 1 0; else record typecheck 0 1; fi
step "Build (npm run build: tsc to dist/)"
if npm run build --silent </dev/null; then record build 1 0; else record build 0 1; fi

# --- 4. Node test suites ---------------------------------------------------
run_node_suite() { # name, env..., -- files...
  local name=$1; shift
  local started; started=$(date +%s)
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  if [ $# -eq 0 ]; then echo "No test files for $name" >&2; record "$name" 0 1; return; fi
  step "$name ($# files)"
  env "${envs[@]}" node --import tsx --test --test-concurrency=2 --test-timeout="${OPS_TIMEOUT:-120000}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$OUT/$name.tap" "$@"
  local code=$?
  local p f
  p=$(grep -E '^# pass ' "$OUT/$name.tap" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail ' "$OUT/$name.tap" | tail -1 | awk '{print $3}')
  p=${p:-0}; f=${f:-0}
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name ran no test" >&2; fi
  record "$name" "$p" "$f" "$started"
}

mapfile -t UNIT < <(find test/unit -name '*.test.ts' | sort)
# The timing test measures answer times: it runs alone, after the others,
# so that no other test file competes with it for the two cores.
TIMING=test/security/timing.test.ts
mapfile -t INTEGRATION < <(find test/integration test/security -name '*.test.ts' ! -path "$TIMING" | sort)
mapfile -t OPS < <(find test/ops -name '*.test.ts' | sort)
# The operations suite (real processes, nginx, PostgreSQL restarts, outages)
# mostly waits on processes and networks: it runs in the background, beside
# the unit and integration suites, its output kept apart and shown when it
# ends. Each file starts its own PostgreSQL and servers on free ports.
step "Operations suite, in the background (${#OPS[@]} files)"
( OPS_TIMEOUT=600000 run_node_suite ops LOG_LEVEL=silent -- "${OPS[@]}" ) >"$OUT/ops.log" 2>&1 &
OPS_PID=$!
run_node_suite unit LOG_LEVEL=silent -- "${UNIT[@]}"
run_node_suite integration-pglite LOG_LEVEL=silent -- "${INTEGRATION[@]}"
if [ -n "$PG_URL" ]; then
  run_node_suite integration-postgres LOG_LEVEL=silent "TEST_DATABASE_URL=$PG_URL" -- "${INTEGRATION[@]}"
else
  record integration-postgres 0 1
fi
step "Operations suite (waiting for it to end)"
wait "$OPS_PID"
cat "$OUT/ops.log"
# The timing tests measure answer times: they run when nothing else does.
run_node_suite timing-pglite LOG_LEVEL=silent -- "$TIMING"
if [ -n "$PG_URL" ]; then
  run_node_suite timing-postgres LOG_LEVEL=silent "TEST_DATABASE_URL=$PG_URL" -- "$TIMING"
fi

# --- 5. Browser end-to-end -------------------------------------------------
step "Browser end-to-end (Playwright, Chromium)"
PW_JSON="$OUT/e2e.json" npx playwright test </dev/null
code=$?
read -r p f < <(node -e '
  try {
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats;
    console.log((s.expected ?? 0) + (s.flaky ?? 0), s.unexpected ?? 0);
  } catch { console.log("0 1"); }' "$OUT/e2e.json")
if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
record e2e "$p" "$f"

# --- 6. Benchmark smoke run -------------------------------------------------
# Every scenario of `npm run bench` for a second or two: proves the script
# and the peer work; asserts nothing about speed (bench/README.md).
step "Benchmark smoke run (npm run bench -- --quick)"
if node --import tsx bench/run.ts --quick </dev/null >"$OUT/bench.log" 2>&1 \
  && tail -1 "$OUT/bench.log" | node -e '
    const line = require("fs").readFileSync(0, "utf8").trim();
    if (!line.startsWith("BENCH ")) process.exit(1);
    const keys = ["hash_only_rps","login_rps","login_vs_hash","better_auth_login_rps","login_vs_better_auth","request_rps","better_auth_reset_rps","request_vs_better_auth","login_p99_ms_10k","login_p99_ms_1m","p99_1m_vs_10k","import_1m_s","rss_mb","rss_pglite_mb"];
    const bench = JSON.parse(line.slice(6));
    process.exit(keys.every((k) => typeof bench[k] === "number" && Number.isFinite(bench[k])) ? 0 : 1);'; then
  tail -22 "$OUT/bench.log"; record bench-quick 1 0
else
  tail -40 "$OUT/bench.log"; echo "the benchmark smoke run failed" >&2; record bench-quick 0 1
fi

# --- 7. Summary -------------------------------------------------------------
step "Summary ($(( $(date +%s) - START )) s)"
cat "$OUT/summary.txt"
read -r passed failed < <(awk '{ p += $2; f += $4 } END { print p + 0, f + 0 }' "$OUT/summary.txt")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
