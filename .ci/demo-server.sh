# Sourced by open311/run.sh and fuzz/run.sh: starts `doorstep demo` on a fresh SQLite
# database and a free port, and stops it (and removes the database) when the caller exits.
# Usage: demo_server DOORSTEP_BIN; then $base is the server's URL and $dir its folder.
demo_server() {
  local bin="$1"
  dir="$(mktemp -d)"
  trap 'kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
  export DOORSTEP_DATABASE_URL="sqlite://$dir/demo.sqlite" DOORSTEP_LOG=warn
  "$bin" demo --bind 127.0.0.1:0 >"$dir/out.log" 2>&1 &
  demo_pid=$!
  base=""
  for _ in $(seq 1 240); do
    base="$(grep -o 'running at http://[0-9.:]*' "$dir/out.log" | head -n1 | sed 's/running at //' || true)"
    [ -n "$base" ] && return 0
    kill -0 "$demo_pid" 2>/dev/null || { cat "$dir/out.log"; echo "demo exited" >&2; exit 1; }
    sleep 0.5
  done
  cat "$dir/out.log"
  echo "demo did not start" >&2
  exit 1
}
