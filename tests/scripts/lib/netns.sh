# Agents on their own network: a bridge on the host side holding
# $NETNS_NET.1/24 (where the server, and the apt repository, listen) and
# one network namespace per agent, joined to the bridge by a veth pair
# ($NETNS_NET.IDX/24 inside, traffic only on that subnet). Cutting a link
# takes the host end of one pair down: that namespace alone is cut off.
#
#   . "$(dirname "$0")/lib/netns.sh"      # after lib/test-lib.sh
#   netns_bridge || exit 1                 # sets NETNS_NET, the bridge up
#   netns_add NAME IDX || exit 1           # namespace NAME at $NETNS_NET.IDX
#   ip netns exec "$(netns_ns NAME)" CMD   # run inside it
#   netns_cut NAME / netns_mend NAME       # the link down / up again
#   netns_cert DIR NAME                    # DIR/NAME.pem, DIR/NAME.key for $NETNS_NET.1
#                                          # (after lib/server.sh)
#   netns_cleanup                          # in the caller's EXIT trap
#
# Needs root: without `ip netns add` the script is skipped (exit 77).

NETNS_NET=10.213.$(($$ % 250 + 1))
NETNS_BR=pwb$$
NETNS_NAMES=()

netns_ns() { echo "pwt$$$1"; }

netns_cleanup() {
  local n
  for n in "${NETNS_NAMES[@]}"; do
    ip netns del "$(netns_ns "$n")" 2>/dev/null
    ip link del "pwh$$$n" 2>/dev/null
  done
  ip link del "$NETNS_BR" 2>/dev/null
}

netns_bridge() {
  test_require root
  ip netns add "pwt$$probe" 2>/dev/null ||
    test_skip "needs network namespaces (ip netns add was refused)"
  ip netns del "pwt$$probe"
  ip link add "$NETNS_BR" type bridge &&
    ip addr add "$NETNS_NET.1/24" dev "$NETNS_BR" &&
    ip link set "$NETNS_BR" up ||
    { echo "FAIL: could not set up the bridge $NETNS_BR" >&2; return 1; }
}

# The interface names stay within 15 characters: pwh<pid><NAME> on the
# host, pwn<pid><NAME> inside.
netns_add() {
  local name=$1 ns hif=pwh$$$1 nif=pwn$$$1
  ns=$(netns_ns "$name")
  NETNS_NAMES+=("$name")
  ip netns add "$ns" &&
    ip link add "$hif" type veth peer name "$nif" &&
    ip link set "$nif" netns "$ns" &&
    ip link set "$hif" master "$NETNS_BR" &&
    ip link set "$hif" up &&
    ip -n "$ns" addr add "$NETNS_NET.$2/24" dev "$nif" &&
    ip -n "$ns" link set "$nif" up &&
    ip -n "$ns" link set lo up ||
    { echo "FAIL: could not set up the namespace $ns" >&2; return 1; }
}

netns_cut() { ip link set "pwh$$$1" down; }
netns_mend() { ip link set "pwh$$$1" up; }

# netns_cert DIR NAME: pw_srv_cert (lib/server.sh) for $NETNS_NET.1
netns_cert() { pw_srv_cert "$1" "$2" "$NETNS_NET.1"; }
