# The answers' gate, flowspool-drop (respond(1), flowspool-spool(5) SECURITY): a program setgid to
# the group flowspool-drop, which owns each spool's answers/ and of which no person is a member.

FLOWSPOOL_GATE_GROUP=flowspool-drop

# install_gate PROGRAM DIR: installs PROGRAM as DIR/flowspool-drop, root's, setgid to the gate's
# group (made when missing), writable by root alone. Root only.
install_gate() {
    local program=$1 dir=$2
    getent group "$FLOWSPOOL_GATE_GROUP" >/dev/null || groupadd --system "$FLOWSPOOL_GATE_GROUP"
    install -d -o root -g root -m 755 "$dir"
    install -o root -g "$FLOWSPOOL_GATE_GROUP" -m 2755 "$program" "$dir/flowspool-drop.new"
    mv -f "$dir/flowspool-drop.new" "$dir/flowspool-drop"
}
