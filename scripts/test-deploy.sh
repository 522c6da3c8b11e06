#!/usr/bin/env bash
# `make test-deploy`: the deployment checklist, run literally on the compose stack.
#
# Starts a private Docker engine (scripts/docker-engine.sh), builds stand-ins for the base
# images it cannot pull (scripts/standin-images.sh), runs tests/deploy (the checklist in
# its order, with the offline exchange), then removes everything it started — containers,
# networks, the images built, the engine, its network rules and interfaces and its state
# folder — whether the test passed or not.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
python=${PYTHON:-.venv/bin/python}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_in_use "${DEPLOY_PORT:-8001}"; then
  echo "test-deploy: port ${DEPLOY_PORT:-8001} is taken on this machine; the checklist needs it" >&2
  exit 1
fi

state=$(mktemp -d /tmp/mc-deploy.XXXXXX)
export COMPOSE_FILE=docker-compose.yml:docker-compose.offline.yml
export COMPOSE_PROJECT_NAME=marketcache-deploy-test
free_port() { "$python" -c 'from marketcache.netutil import free_port; print(free_port())'; }
MIGRATION_PORT=${MIGRATION_PORT:-$(free_port)}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-$(free_port)}
export MIGRATION_PORT PROMETHEUS_PORT
# a loaded 2-core machine can stall Redis past the 50 ms default; give it more room
export REDIS_TIMEOUT_MS=${REDIS_TIMEOUT_MS:-250}

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [ -f "$state/env" ]; then
    # shellcheck disable=SC1091
    source "$state/env"
    echo "test-deploy: docker-compose down (containers, networks, built images)" >&2
    timeout 180 docker-compose down --rmi all --volumes --remove-orphans -t 5 >&2 || true
  fi
  bash scripts/docker-engine.sh stop "$state" || code=1
  echo "test-deploy: $([ $code -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s" >&2
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/docker-engine.sh start "$state"
# shellcheck disable=SC1091
source "$state/env"
bash scripts/standin-images.sh "$state/standin"
echo "test-deploy: engine and base images ready after $((SECONDS - started)) s" >&2
MARKETCACHE_TEST_DEPLOY=1 "$python" -m pytest tests/deploy -x -v -p no:cacheprovider --timeout 1800
