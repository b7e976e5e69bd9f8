# Sourced by scripts/run_cluster.sh from the project root. Secrets never have
# defaults: the missing ones are generated into .env on first start. A value
# already in the environment wins, as it does for the servers (python-dotenv).
ensure_secret() {
  local name=$1 value
  [ -n "${!name:-}" ] && return 0
  grep -qE "^$name=.+" .env 2>/dev/null && return 0
  value=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')
  # .env holds secrets: readable by its owner only, from its first byte.
  [ -f .env ] || (umask 077 && : >.env)
  if grep -q "^$name=" .env 2>/dev/null; then
    sed -i "s|^$name=.*|$name=$value|" .env
  else
    echo "$name=$value" >> .env
  fi
  # Never print the secret itself: terminals and CI logs are kept.
  echo "Generated $name: it is in .env"
}
ensure_secret AGENT_API_TOKEN
# What the Rasa servers send the action servers (endpoints.yml).
ensure_secret ACTION_SERVER_TOKEN
[ -n "${ADMIN_USERNAME:-}" ] || grep -qE '^ADMIN_USERNAME=.+' .env 2>/dev/null || echo "ADMIN_USERNAME=admin" >> .env
ensure_secret ADMIN_PASSWORD
