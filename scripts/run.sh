#!/usr/bin/env bash
# Starts the three servers of `make run` and stops all of them on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# A production token must never have a default: generate one on first start.
if ! grep -qE '^AGENT_API_TOKEN=.+' .env; then
  token=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  if grep -q '^AGENT_API_TOKEN=' .env; then
    sed -i "s|^AGENT_API_TOKEN=.*|AGENT_API_TOKEN=$token|" .env
  else
    echo "AGENT_API_TOKEN=$token" >> .env
  fi
  echo "Generated AGENT_API_TOKEN in .env: $token"
fi

set -a; source .env; set +a
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}

$BIN/python -m actions.check_tables
$BIN/python -m actions.store.migrate

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

$BIN/rasa run actions --actions actions --port "$ACTION_PORT" &
pids+=($!)
$BIN/python -m actions.api.server &
pids+=($!)
$BIN/rasa run --model models/noc.tar.gz --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml &
pids+=($!)

echo "Action server  http://127.0.0.1:$ACTION_PORT"
echo "Rasa (REST)    http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook"
echo "Web/API        http://127.0.0.1:$WEB_PORT/api/regions"
echo "Loading the model takes about a minute; Ctrl-C stops everything."
wait -n "${pids[@]}"
