#!/usr/bin/env bash
# A private Docker engine for `make test-deploy`, on machines that run none.
#
#   scripts/docker-engine.sh start STATE_DIR   install docker.io, docker-compose and debootstrap
#                                              (Debian's packages) when missing, start dockerd
#                                              with all its state in STATE_DIR, wait for it
#   scripts/docker-engine.sh stop STATE_DIR    stop it, remove its network rules and interfaces
#                                              and STATE_DIR; safe to call twice or after a
#                                              failed start
#
# Clients reach it through DOCKER_HOST=unix://STATE_DIR/docker.sock (written to
# STATE_DIR/env). The daemon leaves the host's forwarding alone (--ip-forward=false
# --ip-masq=false) and makes no default bridge (--bridge=none): compose makes its own
# networks, and published 127.0.0.1 ports go through docker-proxy.
set -euo pipefail

action=${1:?usage: docker-engine.sh start|stop STATE_DIR}
state=${2:?usage: docker-engine.sh start|stop STATE_DIR}

log() { echo "docker-engine: $*" >&2; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]}, and installing them needs root and apt-get"
    return 1
  fi
  log "installing ${missing[*]} (Debian's packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
}

# The chains dockerd adds to the host's iptables (it never removes them itself).
DOCKER_CHAINS="DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER"

remove_rules() {
  local cmd table chain rule
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null 2>&1 || continue
    for table in filter nat; do
      # the jumps into docker's chains from the built-in chains
      { "$cmd" -t "$table" -S 2>/dev/null || true; } | { grep -E -- '-j DOCKER' || true; } |
        { grep -v '^-N' || true; } | while read -r rule; do
          # shellcheck disable=SC2086 # the rule is a list of words, as iptables -S prints it
          "$cmd" -t "$table" ${rule/-A /-D } 2>/dev/null || true
        done
      for chain in $DOCKER_CHAINS; do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $DOCKER_CHAINS; do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

remove_interfaces() {
  # the bridges of compose networks (br-<id>) and their veths, if the daemon died before
  # removing them; interfaces that were there before the daemon started are kept
  local before="$state/interfaces.before" name
  [ -f "$before" ] || return 0
  for name in $(ls /sys/class/net); do
    grep -qx "$name" "$before" && continue
    case "$name" in
      br-* | veth* | docker*) ip link delete "$name" 2>/dev/null || true ;;
    esac
  done
}

start() {
  install_packages
  mkdir -p "$state"
  ls /sys/class/net >"$state/interfaces.before"
  # another engine's chains are left alone at the end
  if iptables -t filter -S DOCKER >/dev/null 2>&1 || iptables -t nat -S DOCKER >/dev/null 2>&1; then
    touch "$state/rules.preexisting"
  fi
  local sock="$state/docker.sock"
  log "starting dockerd (state in $state)"
  dockerd \
    --data-root "$state/data" \
    --exec-root "$state/exec" \
    --pidfile "$state/dockerd.pid" \
    --host "unix://$sock" \
    --ip-forward=false --ip-masq=false --bridge=none \
    --storage-driver overlay2 \
    --log-level warn \
    >"$state/dockerd.log" 2>&1 &
  echo $! >"$state/dockerd.launcher.pid"
  echo "export DOCKER_HOST=unix://$sock" >"$state/env"
  local deadline=$((SECONDS + 60))
  until DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$state/dockerd.launcher.pid")" 2>/dev/null; then
      log "dockerd exited; its log:"
      tail -n 30 "$state/dockerd.log" >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "dockerd did not answer within 60 s; its log:"
      tail -n 30 "$state/dockerd.log" >&2
      return 1
    fi
    sleep 0.5
  done
  log "dockerd $(DOCKER_HOST="unix://$sock" docker version --format '{{.Server.Version}}') ready"
}

stop() {
  [ -d "$state" ] || return 0
  local pid=""
  [ -f "$state/dockerd.launcher.pid" ] && pid=$(cat "$state/dockerd.launcher.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd ($pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd still running after 30 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # its containerd (a child it started) and shims: found by their state folder only
  local p
  for p in $(pgrep -f -- "$state/" || true); do
    kill -KILL "$p" 2>/dev/null || true
  done
  [ -f "$state/rules.preexisting" ] || remove_rules
  remove_interfaces
  # overlay mounts and netns files left by a daemon that was killed
  { grep -F " $state/" /proc/mounts || true; } | awk '{print $2}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$state"
  log "stopped; $state removed"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: docker-engine.sh start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
