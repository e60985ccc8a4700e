#!/usr/bin/env bash
# Runs the third-party Open311 client test (open311/client_test.py) against `doorstep demo`
# on a fresh database and a free port. Usage: open311/run.sh DOORSTEP_BIN [PYTHON]
# PYTHON must have the packages of open311/requirements.txt (.ci/run makes a venv).
set -euo pipefail
bin="$1"
python="${2:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
. "$(dirname "$0")/../.ci/demo-server.sh"
demo_server "$bin"
# A subdistrict-wide client (as the 12345 hotline would be): it files anywhere in Huamu.
key="$("$bin" token create admin --name "open311 client test (12345 hotline)")"
OPEN311_ROOT="$base/open311/v2" OPEN311_API_KEY="$key" "$python" "$here/client_test.py"
