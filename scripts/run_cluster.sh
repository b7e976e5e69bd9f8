#!/usr/bin/env bash
# `make run-cluster`: 2 Rasa servers and 2 action servers behind nginx, with the
# web/API server, on PostgreSQL and Redis (docs/production.md). Ctrl-C stops all.
# Options go to scripts/cluster/launch.py (--rasa-servers, --action-servers, --run-dir).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster/secrets.sh
exec .venv/bin/python -m scripts.cluster.launch "$@"
