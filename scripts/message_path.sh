#!/usr/bin/env bash
# Follow one message through the function's code, file by file (scripts/message_path.py).
#   scripts/message_path.sh [checkout]   # default: this one; another checkout's code is measured the same way
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(realpath "${1:-.}")
# The emulators use fixed ports: wait for any other run on this machine.
exec 9>/tmp/machbot-emulators.lock
flock 9
source .emulators/env.sh
export PYTHONPATH="$target:$target/functions:$target/training${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
firebase emulators:exec --project demo-machbot --only firestore ".venv/bin/python scripts/message_path.py" 9>&-
