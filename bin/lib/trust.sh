# Shared by bin/install and bin/uninstall: the directories and the manifest they trust
# (flowspool-install(8), SECURITY). They often run as root: a directory another user owns or may
# write in, on the way to the prefix or below it, or a manifest another user wrote, would let that
# user choose what they install over or remove, as OpenSSH's StrictModes reasons about ~/.ssh.

invoking_uid=$(id -u)
invoking_user=$(id -un)
declare -A trusted_directories=()

# ownership PATH: "owned by NAME, mode MODE", as ls(1) and chmod(1) speak of it.
ownership() { stat -c 'owned by %U, mode %a' -- "$1"; }

# owner_and_mode PATH: the owner's uid and the mode in octal, of PATH itself (never of a link's target).
owner_and_mode() { stat -c '%u %a' -- "$1"; }

# foreign OWNER: whether OWNER (a uid) is neither root nor the invoking user.
foreign() { [ "$1" -ne 0 ] && [ "$1" -ne "$invoking_uid" ]; }

# owner_name PATH
owner_name() { stat -c '%U' -- "$1"; }

# check_directory DIR [--sticky-ok]: refuses DIR unless it is a directory (not a link) owned by root
# or the invoking user that group and others may not write in; with --sticky-ok (the directories
# above the prefix, as /tmp) they may when it is sticky.
check_directory() {
    local directory=$1 sticky_ok=${2:-} owner mode
    [ -n "${trusted_directories[$directory]:-}" ] && return 0
    if [ -L "$directory" ] || [ ! -d "$directory" ]; then
        flowspool_say "refused $directory: it is $( [ -L "$directory" ] && echo "a symbolic link" || echo "not a directory"), where a directory of the prefix belongs; name the directory itself in --prefix, or remove it"
        exit 1
    fi
    read -r owner mode < <(owner_and_mode "$directory")
    if foreign "$owner"; then
        flowspool_say "refused $directory ($(ownership "$directory")): it belongs to $(owner_name "$directory"), neither root nor you ($invoking_user), so its owner could replace what is installed there; chown $invoking_user $directory, or choose another --prefix"
        exit 1
    fi
    if (( 8#$mode & 8#022 )) && ! { [ "$sticky_ok" = --sticky-ok ] && (( 8#$mode & 8#1000 )); }; then
        flowspool_say "refused $directory ($(ownership "$directory")): group or others may write in it$([ "$sticky_ok" = --sticky-ok ] && echo " and it is not sticky"), so they could replace what is installed there; run chmod go-w $directory, or choose another --prefix"
        exit 1
    fi
    trusted_directories[$directory]=yes
}

# check_way PREFIX DIR: checks every directory that exists from / down to DIR (PREFIX or a directory
# below it), both resolved: those above PREFIX may be sticky and writable by all, as /tmp.
check_way() {
    local prefix=$1 path="" component
    local -a components
    IFS=/ read -ra components <<<"${2#/}"
    check_directory / --sticky-ok
    for component in "${components[@]}"; do
        [ -n "$component" ] || continue
        path=$path/$component
        [ -e "$path" ] || [ -L "$path" ] || return 0
        case $path in
            "$prefix" | "$prefix"/*) check_directory "$path" ;;
            *) check_directory "$path" --sticky-ok ;;
        esac
    done
}

# inside_prefix PREFIX PATH: PATH with its directory resolved, when it is PREFIX or below it.
inside_prefix() {
    local prefix=$1 path=$2 name resolved
    name=$(basename -- "$path")
    case $name in . | .. | /) return 1 ;; esac
    resolved=$(realpath -m -- "$(dirname -- "$path")")/$name
    case $resolved in "$prefix" | "$prefix"/*) printf '%s\n' "$resolved" ;; *) return 1 ;; esac
}

# check_manifest PREFIX MANIFEST: refuses a manifest that another user owns or may write, or that
# names anything outside PREFIX (once resolved) or in a directory the checks above refuse.
check_manifest() {
    local prefix=$1 manifest=$2 owner mode line path resolved
    check_way "$prefix" "$(dirname -- "$manifest")"
    if [ -L "$manifest" ] || [ ! -f "$manifest" ]; then
        flowspool_say "refused the manifest $manifest: it is not a regular file; remove it (bin/install did not make it)"
        exit 1
    fi
    read -r owner mode < <(owner_and_mode "$manifest")
    if foreign "$owner"; then
        refuse_manifest "$manifest" "it belongs to $(owner_name "$manifest"), neither root nor you ($invoking_user)"
    fi
    if (( 8#$mode & 8#022 )); then
        refuse_manifest "$manifest" "group or others may write it"
    fi
    while IFS= read -r line; do
        case $line in
            "file "* | "dir "*) path=${line#* } ;;
            # A directory removed whole: bin/install writes one, the AWS API models, and only there.
            "tree $prefix/share/flowspool/botocore") path=${line#* } ;;
            *) flowspool_say "refused the manifest $manifest: its line '$line' is neither 'file PATH' nor 'dir PATH' (nor the AWS models' tree; nothing was removed); it is not bin/install's: look at it, and remove it if no one you trust wrote it"; exit 1 ;;
        esac
        if [ "${line%% *}" = tree ] && [ -L "$path" ]; then
            flowspool_say "refused the manifest $manifest: $path is a symbolic link, not the tree bin/install put there (nothing was removed)"
            exit 1
        fi
        if ! resolved=$(inside_prefix "$prefix" "$path") || { [ "${line%% *}" = file ] && [ "$resolved" = "$prefix" ]; }; then
            flowspool_say "refused the manifest $manifest: it names $path, outside $prefix (nothing was removed); bin/install lists only what it put under the prefix: look at the manifest, and remove it if no one you trust wrote it"
            exit 1
        fi
        check_way "$prefix" "$(dirname -- "$resolved")"
    done <"$manifest"
}

# refuse_manifest MANIFEST WHY
refuse_manifest() {
    flowspool_say "refused the manifest $1 ($(ownership "$1")): $2, so the files it names could be anyone's (nothing was removed); if you did not write it, remove it, and the files bin/install put under the prefix by hand"
    exit 1
}
