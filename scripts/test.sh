#!/usr/bin/env bash
# machbot's whole test suite: set-up, then unit, integration (real emulators + the real function),
# rules and browser tests in one emulator run. Exits with the suite's status.
#   scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
# The emulators use fixed ports: a second run on the same machine waits for the first.
exec 9>/tmp/machbot-emulators.lock
flock 9
scripts/setup.sh --browser --tf
echo "==> type check (mypy)"
scripts/typecheck.sh
echo "==> the function's own unit tests, in its runtime (functions/venv: no torch)"
PYTHONPATH=functions functions/venv/bin/python -m pytest -q -p no:cacheprovider tests/function
source .emulators/env.sh
if [ -f webapp/package.json ]; then
  echo "==> web app lint (ESLint: typescript-eslint, React hooks rules)"
  npm run lint --prefix webapp --silent
  echo "==> building the web app"
  npm run build --prefix webapp --silent
  echo "==> web app unit tests (vitest)"
  npm test --prefix webapp --silent
fi
# Tight timings so reliability tests run fast: CURRENT re-read every second, 5 s leases.
export MACHBOT_RECHECK_SECONDS=1 MACHBOT_LEASE_SECONDS=5 MACHBOT_REQUIRE_EMULATORS=1
# Each answer reads the shared pool's latest changes (production: at most every 2 s).
export MACHBOT_POOL_REFRESH_SECONDS=0
export MACHBOT_CACHE_DIR="$PWD/.emulators/function-cache" PYTHONDONTWRITEBYTECODE=1
rm -rf "$MACHBOT_CACHE_DIR"
pytest_args=$(printf '%q ' "${@:-tests}")
# Run under setsid and end the whole group afterwards: firebase-tools leaves function workers behind.
setsid firebase emulators:exec --project demo-machbot --only auth,firestore,storage,functions,hosting \
  ".venv/bin/python -m pytest $pytest_args && node --test tests/rules/" 9>&- &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null || true' INT TERM
set +e
wait $pid
rc=$?
set -e
kill -TERM -- -$pid 2>/dev/null || true
sleep 1
kill -KILL -- -$pid 2>/dev/null || true
exit $rc
