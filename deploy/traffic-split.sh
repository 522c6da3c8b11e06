#!/usr/bin/env bash
# Step 11, option B (gradual migration): set the share of the migration port's requests
# that go to the cached service, live, without dropping a request (nginx reloads
# gracefully: requests in flight finish on the old workers).
#
#   deploy/traffic-split.sh 20     # 20 % to market-data-cached, 80 % to market-data
#   deploy/traffic-split.sh 100    # everything to the cached service
#
# The share also goes into .env (MIGRATION_CACHED_PERCENT) when .env exists, so that a
# restarted proxy keeps it. Run from the directory of docker-compose.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
share=${1:?usage: deploy/traffic-split.sh PERCENT (0-100)}
case "$share" in
  '' | *[!0-9]*)
    echo "the share is a whole percentage 0-100, not '$share'" >&2
    exit 2
    ;;
esac
if [ "$share" -gt 100 ]; then
  echo "the share is a whole percentage 0-100, not '$share'" >&2
  exit 2
fi
docker-compose exec -T proxy marketcache-router share "$share"
if [ -f .env ]; then
  if grep -q '^MIGRATION_CACHED_PERCENT=' .env; then
    sed -i "s/^MIGRATION_CACHED_PERCENT=.*/MIGRATION_CACHED_PERCENT=$share/" .env
  else
    echo "MIGRATION_CACHED_PERCENT=$share" >>.env
  fi
fi
