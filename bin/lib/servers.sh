# The real servers the tests and the benchmarks talk to, all on 127.0.0.1: an HTTP and HTTPS server,
# OpenSSH's sshd, redis-server and an SMTP server. Sourced by bin/test and bench/run, which call
# stop_servers on exit.

work=$(mktemp -d /tmp/flowspool-servers-XXXXXX)
server_pids=()
stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    # Supervisors a test left running on its spool under $work (the tests' temporary directories).
    pkill -KILL -f -- "--spool $work/" 2>/dev/null || true
    # And the small file systems of the full-disk tests.
    awk -v work="$work/" 'index($2, work) == 1 { print $2 }' /proc/mounts | xargs -r -n1 umount --lazy 2>/dev/null || true
    rm -rf "$work"
}

# wait_for_file PATH PID WHAT [LOG]: waits until a server has written PATH, failing if it died first
# (with the end of its LOG, which the clean-up removes) or took over 60 s.
wait_for_file() {
    local tries=0
    until [ -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || { flowspool_say "$3 did not start${4:+: $(tail -5 "$4" 2>/dev/null)}"; exit 1; }
        tries=$((tries + 1)); [ $tries -gt 600 ] && { flowspool_say "$3 did not start within 60 s${4:+: $(tail -5 "$4" 2>/dev/null)}"; exit 1; }
        sleep 0.1
    done
}

# A CA and a certificate for 127.0.0.1 (and for the SMTPS server's own loopback address) signed by
# it, and a second CA that signed nothing.
make_certificates() {
    local dir=$work/tls
    mkdir -p "$dir"
    # SMTP with TLS from the first byte listens on port 465 (RFC 8314), on an address of 127/8 of
    # this run's own, so that runs at the same time do not share the port.
    FLOWSPOOL_TEST_SMTPS_HOST=127.0.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
    export FLOWSPOOL_TEST_SMTPS_HOST
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=flowspool-test-ca \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=flowspool-wrong-ca \
        -keyout "$dir/wrong-ca.key" -out "$dir/wrong-ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:%s,DNS:localhost\nbasicConstraints=CA:FALSE\n' "$FLOWSPOOL_TEST_SMTPS_HOST" > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
    export FLOWSPOOL_TEST_CA=$dir/ca.pem FLOWSPOOL_TEST_WRONG_CA=$dir/wrong-ca.pem
}

start_http_server() {
    python3 Tests/servers/http_server.py --port-file "$work/http.ports" \
        --cert "$work/tls/server.pem" --key "$work/tls/server.key" 2>"$work/http.log" &
    server_pids+=($!)
    wait_for_file "$work/http.ports" $! "the HTTP server" "$work/http.log"
    export FLOWSPOOL_TEST_HTTP_URL="http://127.0.0.1:$(awk '$1=="http"{print $2}' "$work/http.ports")"
    export FLOWSPOOL_TEST_HTTPS_URL="https://127.0.0.1:$(awk '$1=="https"{print $2}' "$work/http.ports")"
    # The same server on another loopback address: another host, for redirects that leave the first.
    export FLOWSPOOL_TEST_HTTP_OTHER_HOST_URL="http://127.0.0.2:$(awk '$1=="http-other"{print $2}' "$work/http.ports")"
}

# start_flowspoold SPOOL: a flowspoold from $FLOWSPOOL_BIN on SPOOL, stopped with the servers, its
# log appended to $work/flowspoold.log; returns once it reads its control FIFO, its pid in
# $flowspoold_pid (the bench drivers read flowspoold's and its runners' CPU time through it).
start_flowspoold() {
    "$FLOWSPOOL_BIN/flowspoold" --spool "$1" 2>>"$work/flowspoold.log" & server_pids+=($!)
    flowspoold_pid=$!
    until [ -p "$1/control" ] && "$FLOWSPOOL_BIN/flowspool" list --spool "$1" >/dev/null 2>&1; do sleep 0.05; done
}

# make_secret: a password for this run's servers, in hex, so that it never starts with a dash that a
# program's option parser would take for an option (token_urlsafe's did, one run in 64).
make_secret() {
    python3 -c 'import secrets; print(secrets.token_hex(12))'
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# OpenSSH's sshd on 127.0.0.1 with host keys of three kinds, a test user with a password, and client
# keys in the formats people have (OpenSSH ed25519 and RSA, PEM RSA, an ed25519 key with a passphrase).
start_sshd() {
    local dir=$work/ssh port user=flowspooltest
    mkdir -p "$dir" /run/sshd
    id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
    # The password is random, made once and kept readable by root only, so that runs at the same
    # time (a developer's and CI's) agree on it.
    local password password_file=${XDG_STATE_HOME:-$HOME/.local/state}/flowspool/test-ssh-password
    if [ ! -s "$password_file" ]; then
        mkdir -p "$(dirname "$password_file")"
        (umask 077; make_secret > "$password_file")
    fi
    password=$(cat "$password_file")
    echo "$user:$password" | chpasswd
    for kind in ed25519 rsa ecdsa; do ssh-keygen -q -t "$kind" -N '' -f "$dir/host_$kind"; done
    ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519"
    ssh-keygen -q -t rsa -b 3072 -N '' -f "$dir/id_rsa"
    ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -f "$dir/id_rsa_pem"
    ssh-keygen -q -t ed25519 -N 'open sesame' -f "$dir/id_ed25519_pass"
    cat "$dir"/id_*.pub > "$dir/authorized_keys"
    chmod 755 "$work" "$dir"; chmod 644 "$dir/authorized_keys"
    port=$(free_port)
    cat > "$dir/sshd_config" <<SSHD
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
HostKey $dir/host_rsa
HostKey $dir/host_ecdsa
PidFile $dir/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
AllowUsers $user
LogLevel ERROR
# libssh2 1.10 (Debian 12) signs with RSA only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later
# refuse unless allowed: allowed here, so the spec's RSA example and RSA keys can be tested.
HostKeyAlgorithms +ssh-rsa
PubkeyAcceptedAlgorithms +ssh-rsa
SSHD
    /usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
    server_pids+=($!)
    local tries=0
    until ssh-keyscan -p "$port" 127.0.0.1 >/dev/null 2>&1; do
        kill -0 "${server_pids[-1]}" 2>/dev/null || { flowspool_say "sshd did not start: $(cat "$dir/sshd.log")"; exit 1; }
        tries=$((tries + 1)); [ $tries -gt 100 ] && { flowspool_say "sshd did not answer within 10 s"; exit 1; }
        sleep 0.1
    done
    export FLOWSPOOL_TEST_SSH_PORT=$port FLOWSPOOL_TEST_SSH_USER=$user FLOWSPOOL_TEST_SSH_PASSWORD=$password
    export FLOWSPOOL_TEST_SSH_DIR=$dir

    # A second sshd as Debian ships it, with no algorithm overrides: OpenSSH 9 refuses ssh-rsa (SHA-1).
    local stock_port
    stock_port=$(free_port)
    grep -v -e '^# libssh2 1.10' -e '^# refuse unless' -e '^HostKeyAlgorithms' -e '^PubkeyAcceptedAlgorithms' -e '^Port ' -e '^PidFile' \
        "$dir/sshd_config" > "$dir/sshd_stock_config"
    printf 'Port %s\nPidFile %s\n' "$stock_port" "$dir/sshd_stock.pid" >> "$dir/sshd_stock_config"
    /usr/sbin/sshd -D -e -f "$dir/sshd_stock_config" 2>"$dir/sshd_stock.log" &
    server_pids+=($!)
    tries=0
    until ssh-keyscan -p "$stock_port" 127.0.0.1 >/dev/null 2>&1; do
        kill -0 "${server_pids[-1]}" 2>/dev/null || { flowspool_say "the stock sshd did not start: $(cat "$dir/sshd_stock.log")"; exit 1; }
        tries=$((tries + 1)); [ $tries -gt 100 ] && { flowspool_say "the stock sshd did not answer within 10 s"; exit 1; }
        sleep 0.1
    done
    export FLOWSPOOL_TEST_STOCK_SSH_PORT=$stock_port
}


# Two redis-servers on 127.0.0.1, nothing kept on disk: one open to all, and one that asks a password
# (requirepass) and has an ACL user of its own. The passwords are made for this run.
start_redis() {
    local dir=$work/redis open_port protected_port password user_password
    mkdir -p "$dir"
    password=$(make_secret)
    user_password=$(make_secret)
    open_port=$(free_port)
    protected_port=$(free_port)
    cat > "$dir/open.conf" <<REDIS
bind 127.0.0.1
port $open_port
save ""
appendonly no
dir $dir
REDIS
    cat > "$dir/protected.conf" <<REDIS
bind 127.0.0.1
port $protected_port
save ""
appendonly no
dir $dir
requirepass $password
user flowspool on >$user_password ~* &* +@all
REDIS
    chmod 600 "$dir"/*.conf
    redis-server "$dir/open.conf" >"$dir/open.log" 2>&1 & server_pids+=($!)
    redis-server "$dir/protected.conf" >"$dir/protected.log" 2>&1 & server_pids+=($!)
    local tries=0
    until redis-cli -p "$open_port" ping >/dev/null 2>&1 && redis-cli -p "$protected_port" ping 2>&1 | grep -q NOAUTH; do
        tries=$((tries + 1)); [ $tries -gt 100 ] && { flowspool_say "redis-server did not answer within 10 s: $(cat "$dir"/*.log)"; exit 1; }
        sleep 0.1
    done
    export FLOWSPOOL_TEST_REDIS_PORT=$open_port FLOWSPOOL_TEST_REDIS_PROTECTED_PORT=$protected_port
    export FLOWSPOOL_TEST_REDIS_PASSWORD=$password FLOWSPOOL_TEST_REDIS_USER=flowspool FLOWSPOOL_TEST_REDIS_USER_PASSWORD=$user_password
}

# The SMTP servers of Tests/servers/smtp_server.py (aiosmtpd), which record what they receive in
# $FLOWSPOOL_TEST_MAIL_DIR: one with STARTTLS and AUTH, one plain, one with TLS from the first byte.
start_smtp_server() {
    local python=python3 dir=$work/smtp
    mkdir -p "$dir/mail"
    if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
        if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
            python=/usr/bin/python3  # Debian's python3-aiosmtpd, where python3 on PATH is another Python
        else
            flowspool_say "installing aiosmtpd with pip"
            python3 -m pip install --quiet aiosmtpd >&2
        fi
    fi
    local password
    password=$(make_secret)
    "$python" Tests/servers/smtp_server.py --port-file "$dir/ports" --mail-dir "$dir/mail" \
        --cert "$work/tls/server.pem" --key "$work/tls/server.key" --user flowspool --password="$password" \
        --smtps-host "$FLOWSPOOL_TEST_SMTPS_HOST" --starttls-port "$(free_port)" --plain-port "$(free_port)" --smtps-port "$(free_port)" \
        2>"$dir/server.log" &
    server_pids+=($!)
    wait_for_file "$dir/ports" $! "the SMTP server" "$dir/server.log"
    export FLOWSPOOL_TEST_SMTP_PORT=$(awk '$1=="starttls"{print $2}' "$dir/ports")
    export FLOWSPOOL_TEST_SMTP_PLAIN_PORT=$(awk '$1=="plain"{print $2}' "$dir/ports")
    export FLOWSPOOL_TEST_SMTPS_PORT=$(awk '$1=="smtps-elsewhere"{print $2}' "$dir/ports")
    export FLOWSPOOL_TEST_MAIL_DIR=$dir/mail FLOWSPOOL_TEST_SMTP_USER=flowspool FLOWSPOOL_TEST_SMTP_PASSWORD=$password
}

# wait_for_moto PORT PID LOG: waits until moto answers on PORT, failing if it died or took over 30 s.
wait_for_moto() {
    local tries=0
    until curl -s -o /dev/null "http://127.0.0.1:$1/moto-api/"; do
        kill -0 "$2" 2>/dev/null || { flowspool_say "moto did not start: $(cat "$3")"; exit 1; }
        tries=$((tries + 1)); [ $tries -gt 300 ] && { flowspool_say "moto did not answer within 30 s"; exit 1; }
        sleep 0.1
    done
}

# moto's AWS-compatible server on 127.0.0.1, with its IAM checks on: the first three calls (unsigned)
# make an IAM user with an allow-all policy and an access key; every call after must be signed with
# that key (SigV4), so that a wrong secret fails as it would on AWS; and a second one without those
# checks. Also the botocore whose models the AWS runner reads, and boto3, the reference client the
# tests compare with (and requests, the REST task's, which moto's server needs too).
start_moto() {
    local dir=$work/moto port keys
    mkdir -p "$dir"
    python3 -c 'import moto.server, boto3, flask, requests' 2>/dev/null || {
        flowspool_say "installing moto[server], boto3 and requests with pip"
        python3 -m pip install --quiet "moto[server]" boto3 requests >&2
    }
    port=$(free_port)
    INITIAL_NO_AUTH_ACTION_COUNT=3 python3 -m moto.server -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
    server_pids+=($!)
    # A second moto with no IAM checks, for the calls whose signatures moto checks wrongly, boto3's
    # too: rest-json and Route 53 GETs, S3 keys and query strings with reserved characters.
    local open_port
    open_port=$(free_port)
    python3 -m moto.server -H 127.0.0.1 -p "$open_port" >"$dir/moto-open.log" 2>&1 &
    server_pids+=($!)
    wait_for_moto "$port" "${server_pids[-2]}" "$dir/moto.log"
    wait_for_moto "$open_port" "${server_pids[-1]}" "$dir/moto-open.log"
    keys=$(python3 - "$port" <<'PY'
import json, sys
import boto3
iam = boto3.client("iam", endpoint_url="http://127.0.0.1:" + sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="flowspool")
iam.put_user_policy(UserName="flowspool", PolicyName="everything", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="flowspool")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
    export FLOWSPOOL_TEST_AWS_ENDPOINT=http://127.0.0.1:$port FLOWSPOOL_TEST_AWS_OPEN_ENDPOINT=http://127.0.0.1:$open_port
    export FLOWSPOOL_TEST_AWS_KEY_ID=${keys% *} FLOWSPOOL_TEST_AWS_SECRET=${keys#* }
    FLOWSPOOL_AWS_MODELS=$(python3 -c 'import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), "data"))')
    export FLOWSPOOL_AWS_MODELS
}
