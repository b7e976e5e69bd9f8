#!/usr/bin/env bash
# Starts the three servers of `make run` and stops all of them on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Secrets never have defaults: generated into .env on first start.
source scripts/cluster/secrets.sh

source scripts/env.sh
load_env_file .env
RASA_PORT=${RASA_PORT:-5005}
# Loopback unless configured otherwise: a TLS proxy in front of it serves the
# webhooks and the widget to the Internet (docs/production.md).
RASA_HOST=${RASA_HOST:-127.0.0.1}
ACTION_PORT=${ACTION_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}

$BIN/python -m noc check-tables
$BIN/python -m noc migrate
# The console's first agent, only while there is none (then agents manage agents).
$BIN/python -m noc agents ensure-admin

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# Logging that masks phone numbers and e-mail addresses (noc/logmask.py). Rasa
# reads the file before it adds the project to sys.path, hence PYTHONPATH.
LOGGING=(--logging-config-file logging.yml)
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Listens on ACTION_HOST (127.0.0.1) and answers only the Rasa server (ACTION_SERVER_TOKEN).
$BIN/python -m noc.action_server --port "$ACTION_PORT" "${LOGGING[@]}" &
pids+=($!)
$BIN/python -m noc.web &
pids+=($!)
$BIN/python -m noc.rasa_server run --model models/noc.tar.gz --interface "$RASA_HOST" --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml "${LOGGING[@]}" &
pids+=($!)

echo "Action server  http://127.0.0.1:$ACTION_PORT"
echo "Rasa (REST)    http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook"
echo "Web/API        http://127.0.0.1:$WEB_PORT/api/regions"
echo "Agent console  http://127.0.0.1:$WEB_PORT/agents (user $ADMIN_USERNAME, password in .env)"
echo "Loading the model takes about a minute; Ctrl-C stops everything."
wait -n "${pids[@]}"
