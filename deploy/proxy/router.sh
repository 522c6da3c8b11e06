#!/bin/sh
# marketcache-router: runs the front door's two nginx and keeps the routes true to what
# answers. front.conf holds the clients' connections and is never reloaded; routes.conf,
# behind it, is reloaded when the routes change (see front.conf for why).
#
#   marketcache-router run          probe both services every PROXY_PROBE_INTERVAL_S, write
#                                   backends.conf and reload the routing nginx when it changes
#   marketcache-router share N      set the migration port's share of the cached service to
#                                   N % (0-100) and wait until nginx serves with it
#   marketcache-router status       print the routing state
#
# A service is in rotation while its GET /health answers 200 ("healthy" or "degraded");
# one that answers 503 ("unhealthy") or nothing is left out, and when neither answers 200,
# whichever answers at all is used. Environment: CACHED_BACKEND, ORIGINAL_BACKEND
# (host:port), MIGRATION_CACHED_PERCENT (the share at start), PROXY_PROBE_INTERVAL_S;
# PROXY_CONF_DIR, PROXY_STATE_DIR and PROXY_STATUS_PORT move the configurations, the state
# folder and the status port (a test runs the front door outside a container with them).
set -eu

STATE=${PROXY_STATE_DIR:-/tmp/nginx}
CONF_DIR=${PROXY_CONF_DIR:-/etc/nginx}
STATUS_PORT=${PROXY_STATUS_PORT:-8081}
CONF=$STATE/backends.conf
CACHED=${CACHED_BACKEND:-market-data-cached:8001}
ORIGINAL=${ORIGINAL_BACKEND:-market-data:8001}
INTERVAL=${PROXY_PROBE_INTERVAL_S:-1}

log() { echo "router: $*" >&2; }

valid_share() {
  case "$1" in
    '' | *[!0-9]*) return 1 ;;
  esac
  [ "$1" -le 100 ]
}

# "<http status> <ip>" of GET http://BACKEND/health ("000 " when nothing answered)
probe() {
  curl -s -o /dev/null -m 2 --connect-timeout 1 -w '%{http_code} %{remote_ip}' \
    "http://$1/health" 2>/dev/null || true
}

# The gateways of this container's networks (where docker-proxy connects from): the
# default route's gateway and the first address of each attached IPv4 network.
gateways() {
  # /proc/net/route: Iface Destination Gateway ... in little-endian hex
  while read -r _iface dest gw _rest; do
    case "$dest" in Destination) continue ;; esac
    if [ "$dest" = 00000000 ]; then hex=$gw; add=0; else hex=$dest; add=1; fi
    [ "$hex" = 00000000 ] && continue
    printf '%d.%d.%d.%d\n' "0x${hex#??????}" "0x$(echo "$hex" | cut -c5-6)" \
      "0x$(echo "$hex" | cut -c3-4)" "$((0x$(echo "$hex" | cut -c1-2) + add))"
  done </proc/net/route | sort -u
}

# upstream NAME PRIMARY_ADDR BACKUP_ADDR (either may be empty)
upstream() {
  echo "upstream $1 {"
  if [ -n "$2" ]; then echo "    server $2 max_fails=1 fail_timeout=2s;"; fi
  if [ -n "$3" ]; then
    if [ -n "$2" ]; then echo "    server $3 backup;"; else echo "    server $3;"; fi
  fi
  if [ -z "$2" ] && [ -z "$3" ]; then echo "    server 127.0.0.1:9;  # nothing answers: 502"; fi
  echo "    keepalive 16;"
  echo "}"
}

render() {
  share=$1 cached=$2 original=$3
  c_code=${cached%% *} c_ip=${cached#* } o_code=${original%% *} o_ip=${original#* }
  port_c=${CACHED##*:} port_o=${ORIGINAL##*:}
  c_addr="" o_addr=""
  if [ "$c_code" = 200 ] || [ "$o_code" = 200 ]; then
    [ "$c_code" = 200 ] && c_addr="$c_ip:$port_c"
    [ "$o_code" = 200 ] && o_addr="$o_ip:$port_o"
  else
    [ "$c_code" != 000 ] && [ -n "$c_ip" ] && c_addr="$c_ip:$port_c"
    [ "$o_code" != 000 ] && [ -n "$o_ip" ] && o_addr="$o_ip:$port_o"
  fi
  c_state=down o_state=down
  [ -n "$c_addr" ] && c_state=up
  [ -n "$o_addr" ] && o_state=up
  echo "# written by marketcache-router; do not edit"
  upstream prefer_cached "$c_addr" "$o_addr"
  upstream prefer_original "$o_addr" "$c_addr"
  if [ "$share" -ge 100 ]; then
    echo 'map "" $migration_pool { default prefer_cached; }'
  elif [ "$share" -le 0 ]; then
    echo 'map "" $migration_pool { default prefer_original; }'
  else
    echo "split_clients \"\${request_id}\" \$migration_pool { $share% prefer_cached; * prefer_original; }"
  fi
  echo 'map $upstream_addr $served_by {'
  echo '    default "";'
  [ -n "$c_addr" ] && echo "    \"~(^|, )$(echo "$c_addr" | sed 's/\./\\./g')\$\" \"${CACHED%%:*}\";"
  [ -n "$o_addr" ] && echo "    \"~(^|, )$(echo "$o_addr" | sed 's/\./\\./g')\$\" \"${ORIGINAL%%:*}\";"
  echo '}'
  echo "map \"\" \$router_state { default \"share=$share ${CACHED%%:*}=$c_state ${ORIGINAL%%:*}=$o_state\"; }"
}

# who the services are told the client is (front.conf's $client_for_backend)
clients() {
  echo "# written by marketcache-router at start; do not edit"
  echo 'map $remote_addr $client_for_backend {'
  echo '    default $proxy_add_x_forwarded_for;'
  for gw in $(gateways); do echo "    $gw 127.0.0.1;"; done
  echo '}'
}

current_share() {
  if [ -f "$STATE/share" ]; then cat "$STATE/share"; else echo "${MIGRATION_CACHED_PERCENT:-20}"; fi
}

refresh() {
  cached_probe=$STATE/probe.cached original_probe=$STATE/probe.original
  probe "$CACHED" >"$cached_probe" &
  p1=$!
  probe "$ORIGINAL" >"$original_probe" &
  p2=$!
  wait "$p1" "$p2" || true
  render "$(current_share)" "$(cat "$cached_probe")" "$(cat "$original_probe")" >"$CONF.new"
  if cmp -s "$CONF.new" "$CONF"; then
    rm -f "$CONF.new"
    return 1
  fi
  mv "$CONF.new" "$CONF"
  return 0
}

# nginx with one of the two configurations, in the foreground (its pid in $!)
nginx_with() {
  nginx -c "$CONF_DIR/$1" -e stderr -g 'daemon off;' &
}

run() {
  for dir in body proxy fastcgi uwsgi scgi front/body front/proxy front/fastcgi front/uwsgi \
    front/scgi; do
    mkdir -p "$STATE/$dir"
  done
  share=${MIGRATION_CACHED_PERCENT:-20}
  valid_share "$share" || { log "MIGRATION_CACHED_PERCENT must be 0-100, not '$share'"; exit 2; }
  echo "$share" >"$STATE/share"
  clients >"$STATE/clients.conf"
  refresh || true
  rm -f "$STATE/service.sock" "$STATE/migration.sock" "$STATE/status.sock"
  nginx_with routes.conf
  routes_pid=$!
  nginx_with front.conf
  front_pid=$!
  trap 'kill -TERM "$front_pid" "$routes_pid" 2>/dev/null; wait; exit 0' TERM INT
  log "routing: $(grep -o 'share=[^"]*' "$CONF")"
  while kill -0 "$routes_pid" 2>/dev/null && kill -0 "$front_pid" 2>/dev/null; do
    if refresh; then
      if nginx -c "$CONF_DIR/routes.conf" -e stderr -t -q 2>/dev/null; then
        kill -HUP "$routes_pid"
        log "routing: $(grep -o 'share=[^"]*' "$CONF")"
      else
        log "rendered configuration rejected:"
        nginx -c "$CONF_DIR/routes.conf" -e stderr -t 2>&1 | sed 's/^/router: /' >&2 || true
      fi
    fi
    sleep "$INTERVAL" &
    wait $! || true
  done
  log "an nginx stopped; stopping the front door"
  kill -TERM "$front_pid" "$routes_pid" 2>/dev/null || true
  wait
  exit 1
}

set_share() {
  valid_share "${1:-}" || { echo "usage: marketcache-router share 0-100" >&2; exit 2; }
  echo "$1" >"$STATE/share"
  i=0
  while [ $i -lt 100 ]; do
    if status | grep -q "share=$1 "; then
      status
      return 0
    fi
    i=$((i + 1))
    sleep 0.1
  done
  echo "the share did not take effect within 10 s" >&2
  exit 1
}

status() { curl -fsS "http://127.0.0.1:$STATUS_PORT/_router"; }

case "${1:-run}" in
  run) run ;;
  share) set_share "${2:-}" ;;
  status) status ;;
  *)
    echo "usage: marketcache-router run | share N | status" >&2
    exit 2
    ;;
esac
