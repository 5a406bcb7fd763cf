# Shared by the scripts in bin/: where the checkout is, the Debian packages it needs, and a build
# that happens only when the binaries are missing or older than the sources.

FLOWSPOOL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What building and running flowspool needs.
FLOWSPOOL_PACKAGES=(pkg-config libcurl4-openssl-dev libssh2-1-dev libhiredis-dev libssl-dev zlib1g-dev ca-certificates)

flowspool_say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# sh_quote TEXT: TEXT as one word of a POSIX shell script, in single quotes (a ' in it as '\''), for
# the scripts and commands bin/ writes with paths in them.
sh_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

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

# The botocore whose API models the AWS runner reads first (ServiceModel.swift finds it beside any
# build under .build, and bin/install copies its models): PyPI's, current, where Debian 12's
# python3-botocore is 1.29 of 2022, which knows no service or operation AWS added since.
FLOWSPOOL_BOTOCORE=$FLOWSPOOL_ROOT/.build/botocore

# ensure_botocore: installs PyPI's botocore into $FLOWSPOOL_BOTOCORE with pip --target (a directory
# of the checkout's own: no system Python is changed) when it is not there (as root, pip itself first);
# when pip cannot (no pip, no network), says so and installs Debian's python3-botocore instead. For a
# newer botocore, remove the directory.
ensure_botocore() {
    [ -f "$FLOWSPOOL_BOTOCORE/botocore/__init__.py" ] && return 0
    [ "$(id -u)" -ne 0 ] || python3 -m pip --version >/dev/null 2>&1 || ensure_packages python3-pip
    flowspool_say "installing botocore (the AWS API models) from PyPI into $FLOWSPOOL_BOTOCORE"
    rm -rf "$FLOWSPOOL_BOTOCORE.new"
    mkdir -p "$(dirname "$FLOWSPOOL_BOTOCORE")"
    if python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
        --target "$FLOWSPOOL_BOTOCORE.new" botocore >&2; then
        rm -rf "$FLOWSPOOL_BOTOCORE"
        mv "$FLOWSPOOL_BOTOCORE.new" "$FLOWSPOOL_BOTOCORE"
    else
        rm -rf "$FLOWSPOOL_BOTOCORE.new"
        flowspool_say "WARNING: pip could not install botocore; the AWS runner reads Debian's python3-botocore (1.29 on Debian 12) instead"
        ensure_packages python3-botocore
    fi
}

# ensure_swift: the Swift toolchain must be on PATH (or in /opt/swift).
ensure_swift() {
    command -v swift >/dev/null 2>&1 && return 0
    [ -x /opt/swift/usr/bin/swift ] && { PATH=/opt/swift/usr/bin:$PATH; export PATH; return 0; }
    flowspool_say "no Swift toolchain on PATH; install Swift 6 (https://swift.org/install) and try again"
    exit 1
}

# The programs a release build has: the runners of the built-in task types (Sources/Spool/task-types) among them.
FLOWSPOOL_PROGRAMS=(flowspoold flowspool respond flowspool-drop)
while read -r type; do
    case $type in '' | '#'*) ;; *) FLOWSPOOL_PROGRAMS+=("flowspool-task-$type") ;; esac
done <"$FLOWSPOOL_ROOT/Sources/Spool/task-types"

# release_build_missing: whether a program of the release build is missing.
release_build_missing() {
    local binary
    for binary in "${FLOWSPOOL_PROGRAMS[@]}"; do
        [ -x "$FLOWSPOOL_BIN/$binary" ] || return 0
    done
    return 1
}

# ensure_release_build: builds the release binaries when one is missing or older than the sources.
# $FLOWSPOOL_BIN names other binaries (a debug build, for the tests), used as they are.
FLOWSPOOL_BIN_GIVEN=${FLOWSPOOL_BIN:+yes}
FLOWSPOOL_BIN="${FLOWSPOOL_BIN:-$FLOWSPOOL_ROOT/.build/release}"
ensure_release_build() {
    [ -n "${FLOWSPOOL_BIN_GIVEN:-}" ] && return 0
    if ! release_build_missing && [ -z "$(find "$FLOWSPOOL_ROOT/Sources" "$FLOWSPOOL_ROOT/Package.swift" -newer "$FLOWSPOOL_BIN/flowspoold" -print -quit)" ]; then
        return 0
    fi
    ensure_packages "${FLOWSPOOL_PACKAGES[@]}"
    ensure_swift
    flowspool_say "building release binaries (swift build -c release)"
    (cd "$FLOWSPOOL_ROOT" && swift build -c release --static-swift-stdlib >&2)
    touch "$FLOWSPOOL_BIN/flowspoold"
}

# use_release_build [--build-missing]: what the bin/ wrappers of the programs call. From a terminal
# they build what is missing or stale, as ensure_release_build does; from cron (standard error not a
# terminal), or with FLOWSPOOL_NO_BUILD set (the wrappers' --no-build), they run the binaries there
# are and never build: a source change must not turn one cron call into a minute of compiling.
# With --build-missing (bin/flowspoold, the README's first command), a checkout that was never built
# is built wherever it is started from, unless FLOWSPOOL_NO_BUILD is set.
use_release_build() {
    if [ -z "${FLOWSPOOL_NO_BUILD:-}" ] && { [ -t 2 ] || { [ "${1:-}" = --build-missing ] && release_build_missing; }; }; then
        ensure_release_build
    elif release_build_missing; then
        flowspool_say "no release build in $FLOWSPOOL_BIN: run ./bin/flowspoold once (it builds), or install with bin/install"
        exit 1
    fi
}
