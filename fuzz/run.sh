#!/usr/bin/env bash
# Checks the JSON API against its OpenAPI document with Schemathesis (property-based, from
# PyPI): `doorstep demo` on a fresh database and a free port, an admin's API token, every
# operation of /api/openapi.json with generated valid and invalid input. It fails on any
# server error, and on any status, content type or response body the document does not
# describe. Usage: fuzz/run.sh DOORSTEP_BIN SCHEMATHESIS [MAX_EXAMPLES]
set -euo pipefail
bin="$1"
st="$2"
examples="${3:-10}"
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
key="$("$bin" token create admin --name "OpenAPI fuzzer")"
cd "$dir"
"$st" run "$base/api/openapi.json" --url "$base" \
  -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing --max-examples "$examples" --seed 1 \
  --generation-database none --workers 2 --request-timeout 30 --no-color
