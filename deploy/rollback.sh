#!/usr/bin/env bash
# The checklist's emergency rollback, as written, then a check that the original answers:
#
#   docker-compose stop market-data-cached
#   docker-compose start market-data
#   curl http://localhost:8001/health      -> "service": "market-data"
#
# The front door (service `proxy`, owner of port 8001) sends every request to the original
# as soon as the cached service stops answering; this waits (up to ROLLBACK_WAIT_S, 90 s)
# until the original's /health answers through it, prints it, and exits non-zero if it
# never does. Then follow the original's log: docker-compose logs -f market-data
set -euo pipefail
cd "$(dirname "$0")/.."
port=${DEPLOY_PORT:-8001}
wait_s=${ROLLBACK_WAIT_S:-90}

docker-compose stop market-data-cached
docker-compose start market-data

deadline=$((SECONDS + wait_s))
while :; do
  body=$(curl -s -m 5 "http://localhost:$port/health" || true)
  if printf '%s' "$body" | grep -Eq '"service": ?"market-data"'; then
    echo "$body"
    echo "rollback done: the original service answers on localhost:$port" >&2
    exit 0
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "rollback: the original did not answer on localhost:$port within $wait_s s" >&2
    echo "last answer: ${body:-none}" >&2
    docker-compose ps >&2 || true
    exit 1
  fi
  sleep 1
done
