#!/usr/bin/env bash
# The hand-written baseline of the benchmark (the shell scripts' way): N namespaces, each with lo up, a
# veth to one shared bridge, an address and a default route; plus forwarding and one MASQUERADE
# rule. One `ip` process per step. Runs only inside the benchmark's sandbox.
#   script.sh create N UPLINK | script.sh delete N
set -euo pipefail
op=$1 n=$2 uplink=${3:-up0}
addr() { echo "10.200.$(($1 / 250)).$(($1 % 250 + 2))"; }
case "$op" in
create)
    ip link add name brb type bridge
    ip address add 10.200.255.1/16 dev brb
    ip link set dev brb up
    sysctl -q -w net.ipv4.ip_forward=1
    iptables -w -t nat -A POSTROUTING -s 10.200.0.0/16 -o "$uplink" -j MASQUERADE
    for ((i = 0; i < n; i++)); do
        ip netns add "b$i"
        ip -n "b$i" link set dev lo up
        ip link add name "hb$i" type veth peer name eth0 netns "b$i"
        ip link set dev "hb$i" master brb up
        ip -n "b$i" address add "$(addr "$i")/16" dev eth0
        ip -n "b$i" link set dev eth0 up
        ip -n "b$i" route add default via 10.200.255.1
    done ;;
delete)
    for ((i = 0; i < n; i++)); do
        ip link delete dev "hb$i"
        ip netns delete "b$i"
    done
    ip link delete dev brb
    iptables -w -t nat -D POSTROUTING -s 10.200.0.0/16 -o "$uplink" -j MASQUERADE
    sysctl -q -w net.ipv4.ip_forward=0 ;;
esac
