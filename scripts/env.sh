# Sourced by the start scripts (run.sh, shell.sh). Loads .env without overriding
# the environment: a variable already set there wins, even when empty, as
# python-dotenv does for the servers (override=False). Sourcing .env with
# `set -a` did the opposite: an empty AGENT_API_TOKEN= in .env erased the token
# an operator gave in the environment.
load_env_file() {
  local file=${1:-.env} line key value
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[2]}
    value=${BASH_REMATCH[3]}
    [ -n "${!key+set}" ] && continue
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    export "$key=$value"
  done <"$file"
}
