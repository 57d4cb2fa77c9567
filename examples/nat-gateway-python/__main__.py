"""A namespace behind a bridge that reaches the outside world through the host's NAT: the
NAT-gateway network of the TypeScript examples, in Python, through the pulumi-netns provider plugin."""
import pulumi
import pulumi_netns as netns

config = pulumi.Config()
out_interface = config.require("outInterface")  # the uplink, e.g. eth0
nameserver = config.require("nameserver")  # the namespace's resolver
probe = config.get("probe") or "192.168.80.1"  # an address beyond the uplink, to ping through the NAT
probe_name = config.get("probeName") or probe  # a name that resolves to one

lan = netns.Netns("lan", name="pyns", dns=netns.DnsArgs(nameservers=[nameserver]))
bridge = netns.Bridge("bridge", name="br-py", addresses=["192.168.80.1/24"])
veth = netns.VethPair(
    "veth",
    name="veth-py",
    master=bridge.name,
    peer_name="eth0",
    peer_netns=lan.name,
    peer_addresses=["192.168.80.2/24"],
)
netns.Route("default", destination="default", gateway="192.168.80.1", netns=veth.peer_netns, device=veth.peer_name)
netns.SysctlForward("forwarding", ipv4=True)
netns.MasqueradeRule("masquerade", source="192.168.80.0/24", out_interface=out_interface)
netns.ForwardRule("from-lan", in_interface=bridge.name)
netns.ForwardRule("to-lan", out_interface=bridge.name, established=True)

pulumi.export("namespace", lan.name)
pulumi.export("pingChecks", [{"from": lan.name, "to": to} for to in ["192.168.80.1", probe, probe_name]])
