#!/usr/bin/env bash
# Stand-ins for the public base images the deployment uses, for engines that cannot pull.
#
#   scripts/standin-images.sh WORK_DIR
#
# For every image named by the Dockerfiles' FROM lines and docker-compose.yml's `image:`
# lines that the engine (DOCKER_HOST) does not have, builds one from Debian bookworm with
# Debian's packages and tags it with that name, so the Dockerfiles and the compose file stay
# exactly the ones users build and pull elsewhere. The root file system comes from
# `debootstrap --variant=minbase` off the mirror apt already uses, once, and trusts the
# host's locally added CA certificates (for machines whose HTTPS goes through an inspecting
# proxy); builds run on the host network, where package downloads work.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:?usage: standin-images.sh WORK_DIR}
mkdir -p "$work"
BASE=marketcache-standin/bookworm:minbase

log() { echo "standin-images: $*" >&2; }

# The image names the deployment needs: the Dockerfiles' base images (their `ARG *_IMAGE=`
# defaults) and the compose file's `image:` lines, less the images it builds itself.
wanted() {
  {
    grep -h -E '^ARG [A-Z_]+_IMAGE=' Dockerfile deploy/*/Dockerfile | sed 's/^ARG [A-Z_]*=//'
    docker-compose config | grep -E '^ +image:' | awk '{print $2}' | tr -d "\"'"
  } | grep -v -E '^marketcache' | sort -u
}

mirror() {
  local uri
  uri=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -h -E '^deb .* bookworm( |$)' /etc/apt/sources.list 2>/dev/null |
      awk '{print $2}' | head -n 1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

base_image() {
  docker image inspect "$BASE" >/dev/null 2>&1 && return 0
  local root="$work/rootfs"
  log "debootstrap bookworm (minbase) from $(mirror)"
  rm -rf "$root"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$(mirror)" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    return 1
  }
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  chroot "$root" update-ca-certificates >/dev/null
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  local bundle=/etc/ssl/certs/ca-certificates.crt
  tar -C "$root" -c . | docker import \
    --change "ENV LANG=C.UTF-8" \
    --change "ENV PIP_CERT=$bundle" \
    --change "ENV SSL_CERT_FILE=$bundle" \
    --change "ENV REQUESTS_CA_BUNDLE=$bundle" \
    --change 'CMD ["bash"]' \
    - "$BASE" >/dev/null
  rm -rf "$root"
}

# The Dockerfile of a stand-in, by the repository part of the image's name.
recipe() {
  local install='RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends'
  local clean='&& rm -rf /var/lib/apt/lists/*'
  case "$1" in
    python)
      printf '%s\n' "FROM $BASE" \
        "$install python3 python3-venv python-is-python3 $clean" \
        'CMD ["python3"]'
      ;;
    redis)
      printf '%s\n' "FROM $BASE" \
        "$install redis-server $clean" \
        'USER redis' 'EXPOSE 6379' 'CMD ["redis-server"]'
      ;;
    nginx)
      printf '%s\n' "FROM $BASE" \
        "$install nginx $clean && rm -f /etc/nginx/sites-enabled/default" \
        'STOPSIGNAL SIGQUIT' 'EXPOSE 80' 'CMD ["nginx", "-g", "daemon off;"]'
      ;;
    prom/prometheus)
      printf '%s\n' "FROM $BASE" \
        "$install prometheus wget $clean" \
        'RUN mkdir -p /prometheus /etc/prometheus && chown nobody:nogroup /prometheus' \
        'USER nobody' 'WORKDIR /prometheus' 'EXPOSE 9090' \
        'ENTRYPOINT ["/bin/prometheus"]' \
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
      ;;
    *) return 1 ;;
  esac
}

missing=()
for image in $(wanted); do
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "$image: present"
  elif ! recipe "${image%:*}" >/dev/null; then
    log "$image is missing and there is no stand-in recipe for it"
    exit 1
  else
    missing+=("$image")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
base_image

# the stand-ins build side by side (each mostly waits on package downloads)
pids=()
for image in "${missing[@]}"; do
  log "$image: building a stand-in from Debian's packages"
  recipe "${image%:*}" | docker build --network host -t "$image" - \
    >"$work/build-${image//[\/:]/_}.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!missing[@]}"; do
  if wait "${pids[$i]}"; then
    log "${missing[$i]}: stand-in built"
  else
    log "${missing[$i]}: stand-in build failed:"
    tail -n 20 "$work/build-${missing[$i]//[\/:]/_}.log" >&2
    failed=1
  fi
done
exit $failed
