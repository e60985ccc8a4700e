#!/usr/bin/env bash
# Checks the JSON API against its OpenAPI document with Schemathesis (property-based, from
# PyPI): `doorstep demo` on a fresh database and a free port, an admin's API token, every
# operation of /api/openapi.json with generated valid and invalid input. It fails on any
# server error, and on any status, content type or response body the document does not
# describe. One worker: two threads race in the lazy import of a dependency (anyio) under
# Python 3.11 and fail now and then with "AST constructor recursion depth mismatch".
# Usage: fuzz/run.sh DOORSTEP_BIN SCHEMATHESIS [MAX_EXAMPLES]
set -euo pipefail
bin="$1"
st="$2"
examples="${3:-10}"
. "$(dirname "$0")/../.ci/demo-server.sh"
demo_server "$bin"
key="$("$bin" token create admin --name "OpenAPI fuzzer")"
cd "$dir"
"$st" run "$base/api/openapi.json" --url "$base" \
  -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing --max-examples "$examples" --seed 1 \
  --generation-database none --workers 1 --request-timeout 30 --no-color
