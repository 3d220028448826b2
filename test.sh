#!/usr/bin/env bash
# Quick start, command 2: run the whole test suite (sets up whatever is missing first, idempotently).
#   ./test.sh              everything, slow end-to-end tests included (what CI runs)
#   ./test.sh -m "not slow"  extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --no-run
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m pytest -q --durations=15 "$@"   # the slowest tests named in every CI log: the suite must stay under 20 min
if [ -f web/package.json ] && [ $# -eq 0 ]; then
  (cd web && npm test)
fi
