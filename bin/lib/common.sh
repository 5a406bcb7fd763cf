# Shared by the scripts in bin/: where the checkout is, the Debian packages it needs, and a build
# that happens only when the binaries are missing or older than the sources.

FLOWSPOOL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What building and running flowspool needs.
FLOWSPOOL_PACKAGES=(pkg-config libcurl4-openssl-dev libssh2-1-dev libhiredis-dev libssl-dev zlib1g-dev ca-certificates)

flowspool_say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# ensure_packages PACKAGE...: installs the Debian packages that are missing. As root it runs apt-get;
# otherwise it prints the command to run and stops.
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        flowspool_say "missing Debian packages; install them with:"
        echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    flowspool_say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# ensure_swift: the Swift toolchain must be on PATH (or in /opt/swift).
ensure_swift() {
    command -v swift >/dev/null 2>&1 && return 0
    [ -x /opt/swift/usr/bin/swift ] && { PATH=/opt/swift/usr/bin:$PATH; export PATH; return 0; }
    flowspool_say "no Swift toolchain on PATH; install Swift 6 (https://swift.org/install) and try again"
    exit 1
}

# ensure_release_build: builds the release binaries when one is missing or older than the sources.
FLOWSPOOL_BIN="$FLOWSPOOL_ROOT/.build/release"
ensure_release_build() {
    ensure_packages "${FLOWSPOOL_PACKAGES[@]}"
    ensure_swift
    local binary stale=
    for binary in flowspoold flowspool respond flowspool-task-REST flowspool-task-FLOW flowspool-task-INPUT flowspool-task-SSH flowspool-task-REDIS flowspool-task-SMTP flowspool-task-AWS; do
        [ -x "$FLOWSPOOL_BIN/$binary" ] || stale=yes
    done
    if [ -z "$stale" ] && [ -n "$(find "$FLOWSPOOL_ROOT/Sources" "$FLOWSPOOL_ROOT/Package.swift" -newer "$FLOWSPOOL_BIN/flowspoold" -print -quit)" ]; then
        stale=yes
    fi
    [ -z "$stale" ] && return 0
    flowspool_say "building release binaries (swift build -c release)"
    (cd "$FLOWSPOOL_ROOT" && swift build -c release --static-swift-stdlib >&2)
    touch "$FLOWSPOOL_BIN/flowspoold"
}
