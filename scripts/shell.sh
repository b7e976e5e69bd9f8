#!/usr/bin/env bash
# `make shell`: the action server in the background and rasa shell in front.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# The action server needs its token (generated into .env on first start).
source scripts/cluster/secrets.sh
source scripts/env.sh
load_env_file .env
ACTION_PORT=${ACTION_PORT:-5055}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
mkdir -p var
$BIN/python -m noc migrate
$BIN/python -m noc.action_server --port "$ACTION_PORT" >var/actions-shell.log 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT
$BIN/python -m noc.rasa_server shell --model models/noc.tar.gz --endpoints endpoints.yml
