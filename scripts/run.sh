#!/usr/bin/env bash
# Start the sandbox (local AWS) and the dashboard; stop both on Ctrl-C.
set -euo pipefail
port=${1:-8000}
sandbox_port=${2:-4566}
export SANDBOX_ENDPOINT_URL=${SANDBOX_ENDPOINT_URL:-http://127.0.0.1:${sandbox_port}}
export SANDBOX_PORT=$sandbox_port
py=.venv/bin/python

if curl -fs "$SANDBOX_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; then
  echo "sandbox already answering at $SANDBOX_ENDPOINT_URL"
else
  $py manage.py sandbox >var/sandbox.log 2>&1 &
  sandbox_pid=$!
  trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    curl -fs "$SANDBOX_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "sandbox (local AWS) at $SANDBOX_ENDPOINT_URL, log in var/sandbox.log"
fi
echo
echo "  Strands Deploy: http://127.0.0.1:${port}/   (user demo, password printed above)"
echo
$py -m daphne -b 127.0.0.1 -p "$port" dashboard.asgi:application
