#!/usr/bin/env bash
# Runs the third-party Open311 client test (open311/client_test.py) against `doorstep demo`
# on a fresh database and a free port. Usage: open311/run.sh DOORSTEP_BIN [PYTHON]
# PYTHON must have the packages of open311/requirements.txt (.ci/run makes a venv).
set -euo pipefail
bin="$1"
python="${2:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
export DOORSTEP_DATABASE_URL="sqlite://$dir/demo.sqlite" DOORSTEP_LOG=warn
"$bin" demo --bind 127.0.0.1:0 >"$dir/out.log" 2>&1 &
pid=$!
base=""
for _ in $(seq 1 240); do
  base="$(grep -o 'running at http://[0-9.:]*' "$dir/out.log" | head -n1 | sed 's/running at //' || true)"
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/out.log"; echo "demo exited" >&2; exit 1; }
  sleep 0.5
done
[ -n "$base" ] || { cat "$dir/out.log"; echo "demo did not start" >&2; exit 1; }
# A subdistrict-wide client (as the 12345 hotline would be): it files anywhere in Huamu.
key="$("$bin" token create admin --name "open311 client test (12345 hotline)")"
OPEN311_ROOT="$base/open311/v2" OPEN311_API_KEY="$key" "$python" "$here/client_test.py"
