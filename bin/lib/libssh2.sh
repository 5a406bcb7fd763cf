# libssh2 1.11 for the SSH runner where the system's is older. Debian 12's libssh2 1.10 checks RSA host
# keys and signs with RSA keys only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse: an RSA
# key or RSA host key fails with it. Sourced by bin/flowspoold and bin/install, which set 1.11 up
# by themselves where the runner's libssh2 is older, by bin/libssh2-1.11 and by bin/test.
#
# Debian 13's libssh2-1t64 is fetched with apt-get download, through an apt configuration of its own
# made from this machine's Debian sources with their release names changed to trixie (the machine's
# packages and apt state are left alone), and unpacked with dpkg -x under $LIBSSH2_BASE. Its index is
# fetched again once it is a day old, and the package whenever the archive's version is not the one
# unpacked. Beside the library, flowspool-libssh2 names the package, the file that records the
# archive's version (its age is the index's), and the command that refreshes both: flowspool doctor
# reads them, offline.

LIBSSH2_BASE=${FLOWSPOOL_LIBSSH2_DIR:-$FLOWSPOOL_ROOT/.build/libssh2-1.11}
LIBSSH2_PACKAGE=libssh2-1t64
# What flowspool doctor reads beside the library.
LIBSSH2_NOTE=flowspool-libssh2

# runner_libssh2 RUNNER: the version of the libssh2 that RUNNER loads, from its --version ("1.10.0").
runner_libssh2() {
    "$1" --version 2>/dev/null | sed -n 's/^libssh2 \([^ ]*\) from .*$/\1/p'
}

# has_rsa_sha2 VERSION: whether libssh2 VERSION signs and checks RSA keys with SHA-2 (1.11 and later).
has_rsa_sha2() {
    [ -n "$1" ] && dpkg --compare-versions "$1" ge 1.11
}

# unpacked_libssh2: the directory of the unpacked libssh2.so.1, if there is one.
unpacked_libssh2() {
    local library
    library=$(find "$LIBSSH2_BASE/root" -name libssh2.so.1 2>/dev/null | head -1)
    [ -n "$library" ] && dirname "$library"
}

# note_field DIRECTORY FIELD: a field of the note beside an unpacked or installed library.
note_field() {
    sed -n "s/^$2: //p" "$1/$LIBSSH2_NOTE" 2>/dev/null
}

# unpacked_version: the version of the package unpacked ("1.11.1-1+deb13u2"), if any.
unpacked_version() {
    local directory
    directory=$(unpacked_libssh2) && note_field "$directory" package | awk '{ print $2 }'
}

# archive_version: the archive's version of the package when its index was last fetched.
archive_version() {
    [ ! -f "$LIBSSH2_BASE/archive" ] || awk '{ print $2 }' "$LIBSSH2_BASE/archive"
}

# libssh2_apt_config: the apt configuration of $LIBSSH2_BASE/apt, made from this machine's Debian
# sources (not third parties', which may have no trixie) with bookworm (and bookworm-updates,
# -security) read as trixie; sets apt_options.
libssh2_apt_config() {
    local apt_dir=$LIBSSH2_BASE/apt source
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    rm -f "$apt_dir"/sources.list.d/*
    for source in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$source" ] || continue
        case "$source" in
            *.sources)  # deb822 stanzas apart by blank lines: those whose URIs are Debian's
                awk -v RS= -v ORS='\n\n' '/URIs:[^\n]*debian/' "$source" | sed -E '/^Suites:/ s/(^|[[:space:]])bookworm/\1trixie/g' \
                    > "$apt_dir/sources.list.d/$(basename "$source")" ;;
            *) grep -E '^[[:space:]]*deb[[:space:]].*debian' "$source" | sed -E 's/[[:space:]]bookworm/ trixie/' \
                    > "$apt_dir/sources.list.d/$(basename "$source" .list)-debian.list" || true ;;
        esac
    done
    find "$apt_dir/sources.list.d" -empty -delete
    if [ -z "$(ls "$apt_dir/sources.list.d")" ]; then
        echo "no Debian apt sources on this machine to derive Debian 13's from" >&2
        return 1
    fi
    # Short time-outs, so that a machine without the archive falls back within seconds.
    apt_options=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
        -o "APT::Sandbox::User=$(id -un)" -o Acquire::Languages=none -o Acquire::Retries=0
        -o Acquire::http::Timeout=15 -o Acquire::https::Timeout=15)
}

# fetch_libssh2_index: fetches Debian 13's index and records the archive's version of the package in
# $LIBSSH2_BASE/archive; fails, saying why on standard error, when the archive cannot be reached.
fetch_libssh2_index() {
    local version
    apt-get "${apt_options[@]}" -qq --error-on=any update >&2 || return 1
    version=$(apt-cache "${apt_options[@]}" policy "$LIBSSH2_PACKAGE" | awk '$1 == "Candidate:" { print $2 }')
    if [ -z "$version" ] || [ "$version" = "(none)" ]; then
        echo "Debian 13's index has no $LIBSSH2_PACKAGE" >&2
        return 1
    fi
    echo "$LIBSSH2_PACKAGE $version" > "$LIBSSH2_BASE/archive.new" && mv "$LIBSSH2_BASE/archive.new" "$LIBSSH2_BASE/archive"
}

# write_libssh2_note DIRECTORY VERSION: the note flowspool doctor reads beside the library in
# DIRECTORY, written again at each run, so that it names where this checkout is now.
write_libssh2_note() {
    cat > "$1/$LIBSSH2_NOTE.new" <<NOTE
package: $LIBSSH2_PACKAGE $2
archive: $LIBSSH2_BASE/archive
refresh: cd $(sh_quote "$FLOWSPOOL_ROOT") && ./bin/flowspoold
NOTE
    mv "$1/$LIBSSH2_NOTE.new" "$1/$LIBSSH2_NOTE"
}

# unpack_libssh2 VERSION: downloads the package at VERSION and unpacks it in place of the one there,
# with the note beside the library; a runner using the old one keeps it.
unpack_libssh2() {
    local apt_dir=$LIBSSH2_BASE/apt package library
    rm -f "$apt_dir"/*.deb
    (cd "$apt_dir" && apt-get "${apt_options[@]}" -qq download "$LIBSSH2_PACKAGE=$1" >&2) || return 1
    package=$(ls "$apt_dir"/"$LIBSSH2_PACKAGE"_*.deb)
    rm -rf "$LIBSSH2_BASE/root.new"
    dpkg -x "$package" "$LIBSSH2_BASE/root.new" || return 1
    library=$(find "$LIBSSH2_BASE/root.new" -name libssh2.so.1 | head -1)
    if [ -z "$library" ]; then
        echo "$(basename "$package") holds no libssh2.so.1" >&2
        return 1
    fi
    write_libssh2_note "$(dirname "$library")" "$1"
    rm -rf "$LIBSSH2_BASE/root.old"
    [ ! -d "$LIBSSH2_BASE/root" ] || mv "$LIBSSH2_BASE/root" "$LIBSSH2_BASE/root.old"
    mv "$LIBSSH2_BASE/root.new" "$LIBSSH2_BASE/root"
    rm -rf "$LIBSSH2_BASE/root.old" "$package"
}

# fetch_libssh2 [--refresh]: makes $LIBSSH2_BASE/root hold the archive's libssh2-1t64, its index
# fetched again when a day old (or with --refresh). Fails, saying why on standard error, when no
# library is there at all; when the archive cannot be reached and one is, that one stays, and says so.
fetch_libssh2() {
    mkdir -p "$LIBSSH2_BASE"
    # One fetch at a time; the lock is let go on every way out, a failure's too.
    local lock
    exec {lock}>"$LIBSSH2_BASE/lock"
    flock "$lock"
    fetch_libssh2_locked "$@"
    local status=$?
    exec {lock}>&-
    return $status
}

fetch_libssh2_locked() {
    libssh2_apt_config || return 1
    if [ "${1:-}" = --refresh ] || [ -z "$(find "$LIBSSH2_BASE/archive" -mmin -1440 2>/dev/null)" ]; then
        if ! fetch_libssh2_index && [ -n "$(unpacked_libssh2)" ]; then
            flowspool_say "Debian 13's index could not be fetched: the SSH runner keeps $LIBSSH2_PACKAGE $(unpacked_version)"
        fi
    fi
    local wanted
    wanted=$(archive_version)
    if [ -n "$wanted" ] && [ "$wanted" != "$(unpacked_version)" ] && ! unpack_libssh2 "$wanted"; then
        [ -n "$(unpacked_libssh2)" ] || return 1
        flowspool_say "$LIBSSH2_PACKAGE $wanted could not be fetched: the SSH runner keeps $(unpacked_version)"
    fi
    [ -n "$(unpacked_libssh2)" ] || return 1
    write_libssh2_note "$(unpacked_libssh2)" "$(unpacked_version)"
}

# write_ssh_wrapper RUNNERS: writes $LIBSSH2_BASE/runners-NAME/flowspool-task-SSH, which runs the
# SSH runner of RUNNERS with the unpacked libssh2 (LD_LIBRARY_PATH), and prints its directory.
write_ssh_wrapper() {
    local runners library wrapper
    runners=$(realpath "$1")
    library=$(unpacked_libssh2)
    wrapper=$LIBSSH2_BASE/runners-$(basename "$runners")
    mkdir -p "$wrapper"
    cat > "$wrapper/flowspool-task-SSH.new" <<WRAPPER
#!/bin/sh
# The SSH runner with Debian 13's libssh2 ($LIBSSH2_PACKAGE $(unpacked_version)), made by bin/lib/libssh2.sh.
LD_LIBRARY_PATH=$(sh_quote "$library")\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec $(sh_quote "$runners/flowspool-task-SSH") "\$@"
WRAPPER
    chmod 755 "$wrapper/flowspool-task-SSH.new"
    mv "$wrapper/flowspool-task-SSH.new" "$wrapper/flowspool-task-SSH"
    echo "$wrapper"
}

# ssh_runners_with_rsa_sha2 RUNNERS [--offline]: what bin/flowspoold and bin/install run. Prints the
# directory whose SSH runner to use before those of RUNNERS: one that runs it with Debian 13's
# libssh2 1.11, set up (or refreshed) here, where RUNNERS' own loads an older libssh2. Prints nothing
# where the runner's own will do; and where 1.11 cannot be had, says so loudly: SSH tasks then run
# with the system's libssh2. With --offline nothing is fetched: a libssh2 unpacked before is used.
ssh_runners_with_rsa_sha2() {
    local system reason
    system=$(runner_libssh2 "$1/flowspool-task-SSH")
    has_rsa_sha2 "$system" && return 0
    if [ "${2:-}" = --offline ]; then
        if [ -n "$(unpacked_libssh2)" ]; then
            write_ssh_wrapper "$1"
        else
            flowspool_say "WARNING: no libssh2 1.11 was set up, and --no-build fetches none: SSH tasks run with the system's libssh2 ${system:-(unknown version)}, which cannot check RSA host keys or log in with RSA keys on OpenSSH 8.8 and later; run bin/$(basename "$0") once without --no-build"
        fi
        return 0
    fi
    if reason=$(fetch_libssh2 2>&1 >/dev/null); then
        [ -z "$reason" ] || printf '%s\n' "$reason" >&2
        flowspool_say "SSH tasks run with Debian 13's $LIBSSH2_PACKAGE $(unpacked_version), for rsa-sha2, which the system's libssh2 ${system:-(unknown version)} lacks"
        write_ssh_wrapper "$1"
    else
        flowspool_say "WARNING: Debian 13's libssh2 1.11 could not be fetched ($(printf '%s' "$reason" | tail -2 | tr '\n' ' ')): SSH tasks run with the system's libssh2 ${system:-(unknown version)}, which cannot check RSA host keys or log in with RSA keys on OpenSSH 8.8 and later (pin ed25519 host keys and keys there); run bin/$(basename "$0") again when the archive can be reached"
    fi
}
