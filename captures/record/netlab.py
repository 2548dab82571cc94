"""Record real ICE agents behind real NATs, all inside network namespaces this script makes.

Run as root: python captures/record/netlab.py [SCENARIO...] (see record_all.sh).
`python captures/record/netlab.py --segments [FOLDER...]` records nothing: it writes where each tap
sits (`segments`) into the truth files of calls recorded with these taps (captures/real/ by default).
Topology (every address exists only inside the namespaces made here):

  itl 192.168.1.10 -- itrl [NAT] 203.0.113.1 --+
                                               +-- itpub bridge, coturn 203.0.113.254
  itr 192.168.2.10 -- itrr [NAT] 203.0.113.2 --+

Each router masquerades its LAN (or with random ports: a symmetric NAT) and drops
unsolicited packets to its own public address, as consumer routers do. tcpdump
records on both LANs and on the public bridge. Everything started is stopped by
PID and the namespaces are removed on exit, error or Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from baresip_truth import parse_baresip_log  # noqa: E402

OUT = HERE.parent / "real"
# Namespace names start with ICETRACE_LAB (default "it"), so two labs can run side by side.
LAB = os.environ.get("ICETRACE_LAB", "it")
PUB, ROUTER_L, ROUTER_R, HOST_L, HOST_R = (LAB + n for n in ("pub", "rl", "rr", "l", "r"))
NAMESPACES = (PUB, ROUTER_L, ROUTER_R, HOST_L, HOST_R)
TURN_USER, TURN_PASSWORD, REALM = "icetrace", "recorder", "icetrace.test"
PUBLIC = {ROUTER_L: "203.0.113.1", ROUTER_R: "203.0.113.2"}
LAN = {HOST_L: ("192.168.1.10", "192.168.1.1", ROUTER_L), HOST_R: ("192.168.2.10", "192.168.2.1", ROUTER_R)}
SHARED_LAN = ("192.168.5.20", "192.168.5.1", ROUTER_L)
SERVER = "203.0.113.254"
RELAY_PORTS = "49160-49200"  # coturn's --min-port/--max-port
PYTHON = os.environ.get("PYTHON", sys.executable)


PUBLIC_WITHOUT_CHECKS = {
    "public.pcap": {
        "ice_streams": 0,
        "why": "the routers drop every packet between the two public addresses, so no check reaches the public "
        "segment: it holds only each agent's Binding and Allocate requests to coturn and their answers",
    }
}  # capture_facts of a call whose direct checks die at the routers and which has no relay
RIGHT_WITHOUT_CONTROLLING_CHECKS = {
    "nomination_style": "none",
    "why": "the routers drop every packet between the two public addresses and no relayed check gets through, "
    "so no check of the left (controlling) agent reaches the right LAN: every Binding request on it is the right "
    "agent's own, with ICE-CONTROLLED",
}  # a tap's facts where the controlling agent's checks never arrive
DARK_LEFT = {
    "nomination_style": "none",
    "why": "the left network is dark before the first check: no check of the left (controlling) agent leaves its "
    "router, so every Binding request here is the right agent's own, with ICE-CONTROLLED",
}

SCENARIOS = {
    "aioice-direct": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "aioice <-> aioice, both behind endpoint-independent NATs, STUN and TURN "
        "configured: a direct (srflx) path is expected.",
        "turn": True,
        "timeout": 30,
    },
    "aioice-relay-only": {
        "cause": {
            "code": "relayed:policy",
            "side": "both",
            "why": "both agents gather only relayed candidates (TransportPolicy.RELAY); nothing in the network is blocked.",
            "connectivity": "RELAY",
        },
        "description": "Both agents restricted to relayed candidates (transport policy RELAY): "
        "the relay pair is the only one.",
        "turn": True,
        "relay_only": True,
        "timeout": 30,
    },
    "aioice-turn-tcp": {
        "cause": {
            "code": "relayed:policy",
            "side": "both",
            "why": "both agents gather only relayed candidates (TransportPolicy.RELAY) and are configured for TURN over TCP; UDP is not blocked, so TCP is the configuration, not a fallback.",
            "connectivity": "RELAY",
        },
        "description": "Relay-only over TURN/TCP to coturn.",
        "turn": True,
        "relay_only": True,
        "turn_transport": "tcp",
        "timeout": 30,
    },
    "aioice-symmetric": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "the left NAT is symmetric, but the right host is reachable on every UDP port, so the left agent's checks (peer-reflexive) get through and no relay is configured.",
            "connectivity": "DIRECT",
        },
        "description": "The left agent is behind a symmetric NAT (random port per destination): "
        "its checks arrive from an unsignaled address (peer-reflexive). The right router "
        "forwards every inbound UDP port to its host (a DMZ host), so those checks get in.",
        "turn": False,
        "symmetric": True,
        "dmz_right": True,
        "timeout": 30,
    },
    "baresip-kamailio": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "baresip <-> baresip (ice, stun and turn modules) calling through kamailio, "
        "both behind endpoint-independent NATs, coturn as STUN/TURN server: SIP and SDP are in "
        "the capture, audio has RTP and RTCP components (no rtcp-mux).",
        "agent": "baresip",
        "timeout": 45,
    },
    "baresip-relay-only": {
        "cause": {
            "code": "failed:no-common-path",
            "side": "both",
            "why": "the routers drop every direct path and baresip 1.0's relayed checks go unanswered, while coturn keeps answering its Allocate, CreatePermission and Refresh requests (437 at the end).",
            "connectivity": "FAILED",
        },
        "description": "As baresip-kamailio, but the NATs drop everything between the two public "
        "addresses: only the TURN relays can carry the checks and the media.",
        "agent": "baresip",
        "block_direct": True,
        "timeout": 45,
    },
    "aioice-failure": {
        "cause": {
            "code": "failed:no-common-path",
            "side": "both",
            "why": "the routers drop everything between the two public addresses and no TURN is configured, while the STUN server keeps answering: every pair fails.",
            "connectivity": "FAILED",
        },
        "description": "No TURN, and the NATs drop everything between the two public addresses: "
        "every check fails and ICE gives up.",
        "turn": False,
        "block_direct": True,
        "timeout": 75,
    },
    # --- why a call went relayed or failed: one cause per scenario, set by the lab's rules ---
    "aioice-direct-blocked": {
        "description": "STUN and TURN configured; both routers drop every packet between the two public "
        "addresses (nft forward: ip daddr <other NAT> drop; ip saddr <other NAT> drop), so only coturn "
        "is reachable: the direct checks go unanswered and the relay carries the call.",
        "turn": True,
        "block_direct": "drop",
        "timeout": 75,
        "cause": {
            "code": "relayed:direct-blocked",
            "side": "both",
            "why": "the routers drop every packet between the two public addresses; coturn stays reachable.",
            "connectivity": "RELAY",
        },
    },
    "aioice-direct-rejected": {
        "description": "As aioice-direct-blocked, but each router refuses its own agent's packets to the other "
        "NAT with ICMP port unreachable (nft forward: ip daddr <other NAT> reject with icmp type "
        "port-unreachable; packets from the other NAT are still dropped): each LAN capture holds the "
        "ICMP errors quoting the direct checks.",
        "turn": True,
        "block_direct": "reject",
        "timeout": 75,
        "cause": {
            "code": "relayed:direct-blocked",
            "side": "both",
            "why": "the routers refuse (ICMP port unreachable) every packet to the other public address; coturn stays reachable.",
            "connectivity": "RELAY",
        },
    },
    "aioice-udp-blocked": {
        "description": "The left router drops every UDP datagram from its LAN (nft forward: iifname lan meta "
        "l4proto udp drop) and lets TCP through. The left agent is configured with STUN (UDP) and TURN over "
        "TCP, the right one with STUN and TURN over UDP: the left agent's Binding requests to the STUN server "
        "go unanswered (no srflx), its TURN/TCP allocation works, and every pair ends on its relay.",
        "turn": True,
        "block_udp": {"side": "left", "action": "drop"},
        "agent_args": {"left": ["--turn-transport", "tcp"]},
        "timeout": 75,
        "cause": {
            "code": "relayed:udp-blocked",
            "side": "left",
            "why": "the left network drops all outgoing UDP; only TURN over TCP reaches coturn.",
            "connectivity": "RELAY",
        },
    },
    "aioice-udp-rejected": {
        "description": "As aioice-udp-blocked, but the left router refuses each UDP datagram from its LAN with "
        "ICMP port unreachable (nft forward: iifname lan meta l4proto udp reject with icmp type "
        "port-unreachable): the left LAN capture holds the ICMP errors quoting the STUN requests to "
        "port 3478 and the direct checks.",
        "turn": True,
        "block_udp": {"side": "left", "action": "reject"},
        "agent_args": {"left": ["--turn-transport", "tcp"]},
        "timeout": 75,
        "cause": {
            "code": "relayed:udp-blocked",
            "side": "left",
            "why": "the left network refuses all outgoing UDP with ICMP port unreachable; only TURN over TCP reaches coturn.",
            "connectivity": "RELAY",
        },
    },
    "aioice-symmetric-relay": {
        "description": "The left router maps every new destination to a new random port (nft: masquerade random, "
        "a symmetric NAT); both routers drop unsolicited inbound packets (address- and port-dependent "
        "filtering); STUN and TURN on both sides. The left agent's srflx port is the one mapped for coturn's "
        "3478 only: its checks leave from other ports, the right agent's checks to that srflx are dropped, "
        "and the call goes through a relay.",
        "turn": True,
        "symmetric": True,
        "timeout": 75,
        "cause": {
            "code": "relayed:symmetric-nat",
            "side": "left",
            "why": "the left NAT maps per destination (masquerade random): the checks leave from ports other than the srflx one, and nothing reaches the srflx from the peer.",
            "connectivity": "RELAY",
        },
    },
    "aioice-network-lost": {
        "description": "STUN and TURN on both sides. Once both agents have gathered and signaled, the left router "
        "stops forwarding anything to or from its LAN (nft forward: iifname lan drop; oifname lan drop), "
        "before the first check: the left agent's checks and its own TURN requests (a ChannelBind per "
        "relayed check, the closing Refresh) go unanswered, while the right agent's ChannelBinds and Refresh "
        "are answered. coturn grants 600 s allocations (its minimum), so no periodic Refresh falls in the call.",
        "turn": True,
        "cut_after_gathering": "left",
        "timeout": 75,
        "cause": {
            "code": "failed:network-lost",
            "side": "left",
            "why": "the left network goes dark after gathering: its checks and its TURN requests to coturn stop being answered together.",
            "connectivity": "FAILED",
        },
        "capture_facts": {"public.pcap": DARK_LEFT, "right-lan.pcap": DARK_LEFT},
    },
    "aioice-no-common-path": {
        "description": "STUN and TURN on both sides; both routers drop every packet between the two public "
        "addresses, and coturn's relayed ports (49160-49200) send and receive nothing (nft in the public "
        "namespace: output udp sport 49160-49200 drop; input udp dport 49160-49200 drop). coturn keeps "
        "answering Binding, Allocate, CreatePermission and ChannelBind on 3478: every pair fails.",
        "turn": True,
        "block_direct": "drop",
        "block_relaying": True,
        "timeout": 75,
        "cause": {
            "code": "failed:no-common-path",
            "side": "both",
            "why": "every direct path is dropped between the NATs and nothing leaves or reaches the relayed ports, while the STUN/TURN server keeps answering.",
            "connectivity": "FAILED",
        },
        "capture_facts": {"right-lan.pcap": RIGHT_WITHOUT_CONTROLLING_CHECKS},
    },
    "aioice-ice-credentials": {
        "description": "STUN only, nothing blocked, but each agent signals an ICE password that is not its own "
        "(its real one reversed; truth keeps both as ice_pwd and signaled_pwd): every check arrives with a "
        "MESSAGE-INTEGRITY the receiver cannot verify and is answered 401 Unauthenticated.",
        "turn": False,
        "agent_args": {"left": ["--signal-wrong-pwd"], "right": ["--signal-wrong-pwd"]},
        "timeout": 75,
        "cause": {
            "code": "failed:credentials",
            "side": "both",
            "why": "each agent's checks are signed with the password its peer signaled, which is not the peer's own: 401 to every check.",
            "connectivity": "FAILED",
        },
    },
    "aioice-turn-credentials": {
        "description": "STUN and TURN on both sides, but both agents have the wrong TURN password: coturn answers "
        "each Allocate with 401 twice (the challenge, then the failed authenticated retry) and neither gathers a "
        "relayed candidate; both routers drop every packet between the two public addresses (nft forward: ip daddr "
        "<other NAT> drop; ip saddr <other NAT> drop), so the direct checks die and the call fails.",
        "turn": True,
        "block_direct": "drop",
        "agent_args": {"left": ["--turn-password", "wrong-password"], "right": ["--turn-password", "wrong-password"]},
        "timeout": 75,
        "cause": {
            "code": "failed:credentials",
            "side": "both",
            "why": "the TURN password is wrong on both sides: 401 to the authenticated Allocates, no relayed candidate, and the direct path is blocked.",
            "connectivity": "FAILED",
        },
        "capture_facts": {**PUBLIC_WITHOUT_CHECKS, "right-lan.pcap": RIGHT_WITHOUT_CONTROLLING_CHECKS},
    },
    "aioice-turn-quota": {
        "description": "STUN and TURN on both sides; coturn allows one allocation in all (--total-quota 1) and "
        "another client holds it (turn_holder.py, over loopback in coturn's namespace, so no tap sees it): "
        "both agents' Allocates are refused with 486 Allocation Quota Reached. Both routers drop every packet "
        "between the two public addresses, so the direct checks die and the call fails.",
        "turn": True,
        "block_direct": "drop",
        "coturn_args": ["--total-quota", "1"],
        "turn_holder": True,
        "timeout": 75,
        "cause": {
            "code": "failed:turn-refused",
            "side": "both",
            "why": "coturn refuses both allocations with 486 Allocation Quota Reached, and the direct path is blocked.",
            "connectivity": "FAILED",
        },
        "capture_facts": {**PUBLIC_WITHOUT_CHECKS, "right-lan.pcap": RIGHT_WITHOUT_CONTROLLING_CHECKS},
    },
    "aioice-turn-forbidden": {
        "description": "STUN and TURN on both sides; coturn refuses every peer address in 203.0.113.0/24 "
        "(--denied-peer-ip 203.0.113.0-203.0.113.255), which holds both NATs and the relays: the allocations "
        "work, every ChannelBind gets 403 Forbidden, so no relayed check leaves. Both routers drop every packet "
        "between the two public addresses, so the direct checks die and the call fails.",
        "turn": True,
        "block_direct": "drop",
        "coturn_args": ["--denied-peer-ip", "203.0.113.0-203.0.113.255"],
        "timeout": 75,
        "cause": {
            "code": "failed:turn-refused",
            "side": "both",
            "why": "coturn answers every permission request (ChannelBind) with 403 Forbidden, and the direct path is blocked.",
            "connectivity": "FAILED",
        },
        "capture_facts": {"right-lan.pcap": RIGHT_WITHOUT_CONTROLLING_CHECKS},
    },
    "aioice-no-media": {
        "description": "As aioice-direct, but after connect() neither agent sends anything on the selected pair: "
        "for 12 s only aioice's consent checks (RFC 7675, every ~5 s) pass.",
        "turn": True,
        "agent_args": {"left": ["--no-data", "--linger", "12"], "right": ["--no-data", "--linger", "12"]},
        "timeout": 30,
        "cause": {
            "code": "connected:no-media",
            "side": "both",
            "why": "ICE connects on a direct pair, then no datagram other than STUN is sent.",
            "connectivity": "DIRECT",
        },
    },
    "aioice-no-hairpin": {
        "description": "Both agents behind one router and one public address (203.0.113.1): left on 192.168.1.0/24, "
        "right on 192.168.5.0/24; the router forwards nothing between its two LANs and does not hairpin (a "
        "packet from a LAN to 203.0.113.1 is neither translated back nor answered: nft input iifname != wan "
        "ip daddr 203.0.113.1 drop). The srflx <-> srflx checks would need hairpinning; STUN and TURN on both "
        "sides, so the relay carries the call.",
        "turn": True,
        "shared_nat": True,
        "timeout": 75,
        "cause": {
            "code": "relayed:no-hairpin",
            "side": "both",
            "why": "both agents share one NAT that does not hairpin and their LANs cannot reach each other: srflx <-> srflx and host pairs fail, the relay works.",
            "connectivity": "RELAY",
        },
    },
    "aioice-consent-lost": {
        "description": "STUN only; the call connects on the direct pair, then (2 s after both agents report it up) "
        "both routers start dropping everything between the two public addresses: aioice's consent checks "
        "(RFC 7675) go unanswered and it gives the call up after six of them (about 30 s).",
        "turn": False,
        "cut_direct_after_connected": True,
        "agent_args": {"left": ["--linger", "45"], "right": ["--linger", "45"]},
        "timeout": 30,
        "cause": {
            "code": "failed:consent-lost",
            "side": "both",
            "why": "the direct path is cut after the call connected: consent checks stop being answered and the agents give the call up.",
            "connectivity": "DIRECT",
        },
    },
}


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def ns(name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return sh("ip", "netns", "exec", name, *args, check=check)


def teardown(namespaces: tuple[str, ...] = NAMESPACES) -> None:
    for name in namespaces:
        sh("ip", "netns", "del", name, check=False)
        shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)


def make_namespaces(namespaces: tuple[str, ...]) -> None:
    """Fresh namespaces (any left from an earlier run removed): loopback up, no IPv6, and a
    resolv.conf of their own, so nothing inside asks the machine's resolver."""
    teardown(namespaces)
    for name in namespaces:
        sh("ip", "netns", "add", name)
        Path(f"/etc/netns/{name}").mkdir(parents=True, exist_ok=True)
        Path(f"/etc/netns/{name}/resolv.conf").write_text("nameserver 127.0.0.1\n")
        ns(name, "ip", "link", "set", "lo", "up")
        ns(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")


def lan_of(host: str, spec: dict) -> tuple[str, str, str]:
    """(address, gateway, router) of a host; with `shared_nat` the right host sits on a second
    LAN of the left router (192.168.5.0/24), behind the same public address as the left one."""
    if spec.get("shared_nat") and host == HOST_R:
        return SHARED_LAN
    return LAN[host]


def side_of(router: str) -> str:
    return "left" if router == ROUTER_L else "right"


def _reject_or_drop(action: str) -> str:
    """nftables verdict: `reject` answers with ICMP port unreachable quoting the packet, `drop` is silent."""
    return "reject with icmp type port-unreachable" if action == "reject" else "drop"


def router_rules(router: str, spec: dict) -> str:
    """The router's nftables ruleset: masquerade (random ports when symmetric), drop unsolicited
    packets from the WAN, and whatever the scenario blocks."""
    public = PUBLIC[router]
    other = next(p for r, p in PUBLIC.items() if r != router)
    random = " random" if spec.get("symmetric") and router == ROUTER_L else ""
    block = ""
    if spec.get("block_direct"):
        block += f"ip daddr {other} {_reject_or_drop(str(spec['block_direct']))};\n ip saddr {other} drop;\n"
    udp = spec.get("block_udp")
    if udp and udp["side"] == side_of(router):
        block += f'iifname "lan" meta l4proto udp {_reject_or_drop(udp["action"])};\n'
    local = ""
    if spec.get("shared_nat") and router == ROUTER_L:
        # two LANs that cannot reach each other, and no hairpinning: a packet from a LAN to the
        # router's own public address is neither translated back nor answered
        block += 'iifname "lan" oifname "lan2" drop; iifname "lan2" oifname "lan" drop;\n'
        local = f'iifname != "wan" ip daddr {public} drop;'
    dmz = ""
    if spec.get("dmz_right") and router == ROUTER_R:
        dmz = f'chain prerouting {{ type nat hook prerouting priority -100; iifname "wan" udp dport 1024-65535 dnat to {LAN[HOST_R][0]}; }}'
    return f"""
table ip nat {{
  chain postrouting {{ type nat hook postrouting priority 100; oifname "wan" masquerade{random}; }}
  {dmz}
}}
table ip filter {{
  chain input {{ type filter hook input priority 0; {local} iifname "wan" ct state established,related accept;
                 iifname "wan" drop; }}
  chain forward {{ type filter hook forward priority 0;
                 {block} iifname "wan" ct state established,related accept; iifname "wan" ct status dnat accept;
                 iifname "wan" drop; }}
}}
"""


def nft(space: str, rules: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as fh:
        fh.write(rules)
    try:
        ns(space, "nft", "-f", fh.name)
    finally:
        os.unlink(fh.name)


# Rules a scenario adds while the agents run, each in a table of its own (priority before netlab's).
CUT_TABLE = "icetrace_cut"


def cut_network(side: str) -> None:
    """The side's network goes dark: its router forwards nothing to or from its LAN any more."""
    router = ROUTER_L if side == "left" else ROUTER_R
    nft(
        router,
        f"table ip {CUT_TABLE} {{\n  chain forward {{ type filter hook forward priority -10;\n"
        f'    iifname "lan" drop; oifname "lan" drop; }}\n}}\n',
    )


def cut_direct() -> None:
    """Both routers drop everything between the two public addresses from now on."""
    for router in PUBLIC:
        other = next(p for r, p in PUBLIC.items() if r != router)
        nft(
            router,
            f"table ip {CUT_TABLE} {{\n  chain forward {{ type filter hook forward priority -10;\n"
            f"    ip daddr {other} drop; ip saddr {other} drop; }}\n}}\n",
        )


def lift_cut() -> None:
    """Both routers forget what cut_direct added."""
    for router in PUBLIC:
        ns(router, "nft", "delete", "table", "ip", CUT_TABLE, check=False)


def block_relaying() -> None:
    """coturn keeps answering on 3478 but nothing reaches or leaves its relayed ports."""
    nft(
        PUB,
        f"table ip icetrace_relay {{\n"
        f"  chain output {{ type filter hook output priority 0; udp sport {RELAY_PORTS} drop; }}\n"
        f"  chain input {{ type filter hook input priority 0; udp dport {RELAY_PORTS} drop; }}\n}}\n",
    )


def build(spec: dict) -> None:
    make_namespaces(NAMESPACES)
    ns(PUB, "ip", "link", "add", "br0", "type", "bridge")
    ns(PUB, "ip", "addr", "add", f"{SERVER}/24", "dev", "br0")
    ns(PUB, "ip", "link", "set", "br0", "up")
    # An address the public segment cannot reach (a peer's private host candidate) must vanish as
    # it does on the Internet, not fail with ENETUNREACH: coturn stops relaying for an allocation
    # after such a send error. On-link, the datagram dies unanswered after ARP.
    ns(PUB, "ip", "route", "add", "default", "dev", "br0")
    for router, public in PUBLIC.items():
        sh("ip", "link", "add", f"{router}-wan", "type", "veth", "peer", "name", f"{router}-pub")
        sh("ip", "link", "set", f"{router}-wan", "netns", router)
        sh("ip", "link", "set", f"{router}-pub", "netns", PUB)
        ns(PUB, "ip", "link", "set", f"{router}-pub", "master", "br0", "up")
        ns(router, "ip", "link", "set", f"{router}-wan", "name", "wan")
        ns(router, "ip", "addr", "add", f"{public}/24", "dev", "wan")
        ns(router, "ip", "link", "set", "wan", "up")
        ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # a datagram to an address no LAN holds (a peer's private host candidate) vanishes silently,
        # as it does beyond a home router's ISP: no ICMP net or host unreachable from the lab
        ns(router, "ip", "route", "add", "blackhole", "default")
    for host in (HOST_L, HOST_R):
        address, gateway, router = lan_of(host, spec)
        lan = "lan2" if (host, router) == (HOST_R, ROUTER_L) else "lan"
        sh("ip", "link", "add", f"{host}-eth", "type", "veth", "peer", "name", f"{host}-gw")
        sh("ip", "link", "set", f"{host}-eth", "netns", host)
        sh("ip", "link", "set", f"{host}-gw", "netns", router)
        ns(host, "ip", "link", "set", f"{host}-eth", "name", "eth0")
        ns(host, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
        ns(host, "ip", "link", "set", "eth0", "up")
        ns(host, "ip", "route", "add", "default", "via", gateway)
        ns(router, "ip", "link", "set", f"{host}-gw", "name", lan)
        ns(router, "ip", "addr", "add", f"{gateway}/24", "dev", lan)
        ns(router, "ip", "link", "set", lan, "up")
    for router in PUBLIC:
        nft(router, router_rules(router, spec))
    if spec.get("block_relaying"):
        block_relaying()


def start(name: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - closed when the process is reaped
    return subprocess.Popen(
        ["ip", "netns", "exec", name, *args], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


BARESIP_CONFIG = """poll_method epoll
sip_listen 0.0.0.0:5060
audio_player aufile,{work}/{name}-play.wav
audio_source ausine,440
audio_alert aufile,/dev/null
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module stun.so
module turn.so
module ice.so
module_app account.so
module_app menu.so
"""


def _baresip_agents(work: Path, folder: Path, spec: dict) -> list[subprocess.Popen[bytes]]:
    """Two baresip user agents registered at kamailio; left calls right, right answers."""
    procs = []
    for host, name in ((HOST_R, "right"), (HOST_L, "left")):
        home = work / name
        home.mkdir()
        (home / "config").write_text(BARESIP_CONFIG.format(work=work, name=name))
        (home / "accounts").write_text(
            f"<sip:{name}@{SERVER}>;auth_pass=none;medianat=ice;stunserver=turn:{SERVER}:3478;"
            f"stunuser={TURN_USER};stunpass={TURN_PASSWORD};regint=60;audio_codecs=PCMU;answermode=auto\n"
        )
        args = ["baresip", "-v", "-f", str(home), "-t", str(spec["timeout"] + (5 if name == "right" else 0))]
        if name == "left":
            time.sleep(3.0)  # let the callee register first
            args += ["-e", f"/dial sip:right@{SERVER}"]
        procs.append(start(host, *args, log=folder / f"{name}.log"))
    return procs


TAPS = {"left-lan.pcap": (HOST_L, "eth0"), "right-lan.pcap": (HOST_R, "eth0"), "public.pcap": (PUB, "br0")}
# where each tap sits (truth.json's `segments`): on an agent's own LAN side, inside its NAT, where its
# private addresses travel; or on the public segment, beyond both NATs
SEGMENTS = {"left-lan.pcap": "lan:left", "right-lan.pcap": "lan:right", "public.pcap": "public"}
# ICMP too: a router that rejects a datagram answers with an ICMP error quoting it
TAP_FILTER = "udp or tcp or icmp"


def start_taps(
    folder: Path, work: Path, taps: dict[str, tuple[str, str]] = TAPS, tap_filter: str = TAP_FILTER
) -> list[subprocess.Popen[bytes]]:
    """tcpdump on each tap (file name -> namespace and device), writing into `folder`."""
    return [
        start(space, "tcpdump", "-i", dev, "-U", "-n", "-w", str(folder / file), tap_filter, log=work / f"{file}.log")
        for file, (space, dev) in taps.items()
    ]


def start_coturn(folder: Path, spec: dict) -> subprocess.Popen[bytes]:
    low, high = RELAY_PORTS.split("-")
    return start(
        PUB, "turnserver", "-n", "--listening-ip", SERVER, "--relay-ip", SERVER, "--listening-port", "3478",
        "--lt-cred-mech", "--user", f"{TURN_USER}:{TURN_PASSWORD}", "--realm", REALM, "--no-tls", "--no-dtls",
        "--no-cli", "--fingerprint", "--min-port", low, "--max-port", high, *spec.get("coturn_args", ()),
        "--log-file", "stdout", "--simple-log",
        log=folder / "coturn.log",
    )  # fmt: skip


def start_turn_holder(work: Path, spec: dict) -> subprocess.Popen[bytes]:
    """Someone else's allocation, made over loopback in the public namespace (no tap sees it)."""
    proc = start(
        PUB, PYTHON, str(HERE / "turn_holder.py"), "--server", SERVER, "--user", TURN_USER,
        "--password", TURN_PASSWORD, "--dir", str(work), "--seconds", str(spec["timeout"] + 40),
        log=work / "holder.log",
    )  # fmt: skip
    if not _wait_for_files([work / "held"], [proc]):
        raise SystemExit("turn_holder.py got no allocation: " + (work / "holder.log").read_text())
    return proc


def aioice_args(host: str, me: str, peer: str, role: str, work: Path, spec: dict) -> list[str]:
    address, _, router = lan_of(host, spec)
    args = [
        PYTHON, str(HERE / "aioice_agent.py"), "--name", me, "--peer", peer, "--role", role, "--dir", str(work),
        "--stun", SERVER, "--timeout", str(spec["timeout"]), "--lan", address, "--public", PUBLIC[router],
    ]  # fmt: skip
    if spec.get("turn"):
        args += ["--turn", SERVER, "--turn-user", TURN_USER, "--turn-password", TURN_PASSWORD]
        args += ["--turn-transport", spec.get("turn_transport", "udp")]
    if spec.get("relay_only"):
        args.append("--relay-only")
    if spec.get("cut_after_gathering") or spec.get("delay_direct"):
        args += ["--hold-file", str(work / "go")]
    return args + list(spec.get("agent_args", {}).get(me, ()))


def _wait_for_files(paths: list[Path], procs: list[subprocess.Popen[bytes]]) -> bool:
    """Until every path exists (True) or every process has ended (False)."""
    while not all(p.exists() for p in paths):
        if all(proc.poll() is not None for proc in procs):
            return False
        time.sleep(0.02)
    return True


def run_events(spec: dict, work: Path, agents: list[subprocess.Popen[bytes]]) -> None:
    """The scenario's changes while the agents run: a network going dark once both agents have
    gathered (the agents wait for `go` before their checks), the direct path closed until a while
    after the checks start, or cut once both agents report the call connected."""
    side = spec.get("cut_after_gathering")
    if side:
        if _wait_for_files([work / "left.offer.json", work / "right.offer.json"], agents):
            cut_network(side)
            print(f"{side} network cut after gathering", flush=True)
        (work / "go").touch()
    delay = spec.get("delay_direct")
    if delay:
        # the direct path opens `delay` seconds after the checks start: the relayed pairs answer first
        if _wait_for_files([work / "left.offer.json", work / "right.offer.json"], agents):
            cut_direct()
        (work / "go").touch()
        time.sleep(delay)
        lift_cut()
        print(f"direct path opened {delay} s after the checks started", flush=True)
    if spec.get("cut_direct_after_connected"):
        if _wait_for_files([work / "left.connected", work / "right.connected"], agents):
            time.sleep(spec.get("cut_delay", 2.0))
            cut_direct()
            print("direct path cut after the call connected", flush=True)


def connectivity(reports: dict, connected: bool) -> str:
    """FAILED, RELAY (a selected pair with a relayed candidate on either end, as the agents know
    their own and the peer's signaled candidates) or DIRECT."""
    if not connected:
        return "FAILED"
    for report in reports.values():
        for stream in report["streams"]:
            for comp in stream["components"]:
                sel = comp["selected"]
                if sel and "relay" in (sel["local_type"], sel["remote_type"]):
                    return "RELAY"
    return "DIRECT"


def cause_fields(name: str, spec: dict, reports: dict, connected: bool) -> dict:
    """truth.json's expected_connectivity (from the agents' selected pairs) and expected_cause
    (from the rules the scenario set: code, the side it lies with, the stream, why)."""
    fields: dict = {"expected_connectivity": connectivity(reports, connected)}
    if "cause" in spec:
        cause = {"stream": 0, **spec["cause"]}
        if callable(cause["side"]):  # decided by what the agents report
            cause["side"] = cause["side"](reports)
        intended = cause.pop("connectivity", None)
        if intended and intended != fields["expected_connectivity"]:
            print(f"{name}: WARNING the agents report {fields['expected_connectivity']}, the scenario meant {intended}")
        fields["expected_cause"] = cause
    return fields


def refused_directions(spec: dict, reports: dict) -> list[dict]:
    """What the routers refuse with ICMP port unreachable (the scenario's `reject` rules,
    router_rules): from an agent's LAN address to an address (`*`: any), with the rule. An agent
    may not act on the ICMP error (aioice only logs it), so its own check list keeps such a pair in
    progress while the capture shows it refused."""
    out = []
    for router, public in PUBLIC.items():
        side = side_of(router)
        if side not in reports:
            continue
        lan = reports[side]["lan_address"]
        if spec.get("block_direct") == "reject":
            other = next(p for p in PUBLIC.values() if p != public)
            rule = f"ip daddr {other} {_reject_or_drop('reject')}"
            out.append({"from": lan, "to": other, "rule": f"{side} router, nft forward: {rule}"})
        udp = spec.get("block_udp")
        if udp and udp["side"] == side and udp["action"] == "reject":
            rule = f'iifname "lan" meta l4proto udp {_reject_or_drop("reject")}'
            out.append({"from": lan, "to": "*", "rule": f"{side} router, nft forward: {rule}"})
    return out


def truth_for(name: str, spec: dict, reports: dict) -> dict:
    connected = bool(reports) and all(r["streams"][0]["components"][0]["selected"] for r in reports.values())
    fields = cause_fields(name, spec, reports, connected)
    return {
        "scenario": name,
        "description": spec["description"],
        "expected_outcome": "connected" if connected else "failed",
        **(spec["facts"](reports) if "facts" in spec else {}),
        "expected_connectivity": fields["expected_connectivity"],
        "vantage_points": {
            "left-lan.pcap": "left agent's LAN side (behind its NAT)",
            "right-lan.pcap": "right agent's LAN side (behind its NAT)",
            "public.pcap": "the public segment between the NATs and coturn",
        },
        "segments": dict(SEGMENTS),
        **({"expected_cause": fields["expected_cause"]} if "expected_cause" in fields else {}),
        **({"capture_facts": spec["capture_facts"]} if "capture_facts" in spec else {}),
        **({"refused": refused} if (refused := refused_directions(spec, reports)) else {}),
        "agents": reports,
    }


def placed(truth: dict, segments: dict[str, str]) -> dict:
    """`truth` with its taps' segments beside its vantage points, every other key as it was."""
    out: dict = {}
    for key, value in truth.items():
        if key != "segments":
            out[key] = value
        if key == "vantage_points":
            out["segments"] = {tap: segments[tap] for tap in value}
    return out


def place_taps(folders: list[Path], segments: dict[str, str]) -> None:
    """Write the taps' segments into the truth files of calls already recorded with these taps."""
    for folder in folders:
        path = folder / "truth.json"
        truth = json.loads(path.read_text())
        if set(truth["vantage_points"]) != set(segments):
            raise SystemExit(f"{path}: its taps are not {', '.join(segments)}")
        path.write_text(json.dumps(placed(truth, segments), indent=2) + "\n")


def _start_agents(work: Path, folder: Path, spec: dict) -> list[subprocess.Popen[bytes]]:
    if spec.get("agent") == "baresip":
        return _baresip_agents(work, folder, spec)
    if "launch" in spec:  # agents launched by another module (libnice_lab.py)
        return spec["launch"](work, folder, spec)
    agents = []
    for host, me, role, peer in ((HOST_L, "left", "controlling", "right"), (HOST_R, "right", "controlled", "left")):
        args = aioice_args(host, me, peer, role, work, spec)
        agents.append(start(host, "timeout", str(spec["timeout"] + 30), *args, log=folder / f"{me}.log"))
    return agents


def _reports(work: Path, folder: Path, spec: dict) -> dict:
    reports = {}
    for me in ("left", "right"):
        report = work / f"{me}.report.json"
        if report.exists():
            reports[me] = json.loads(report.read_text())
        elif spec.get("agent") == "baresip" and (folder / f"{me}.log").exists():
            address, _, router = lan_of(HOST_L if me == "left" else HOST_R, spec)
            parsed = parse_baresip_log(folder / f"{me}.log", address, PUBLIC[router])
            if parsed is not None:
                reports[me] = parsed
    return reports


def record(name: str, spec: dict) -> None:
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="icetrace-rec-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        build(spec)
        procs += start_taps(folder, work)
        procs.append(start_coturn(folder, spec))
        if spec.get("agent") == "baresip":
            procs.append(
                start(PUB, "kamailio", "-DD", "-E", "-f", str(HERE / "kamailio.cfg"), log=work / "kamailio.log")
            )
        time.sleep(2.0)
        if spec.get("turn_holder"):
            procs.append(start_turn_holder(work, spec))
        agents = _start_agents(work, folder, spec)
        run_events(spec, work, agents)
        for proc in agents:
            proc.wait()
        time.sleep(1.0)
    finally:
        for proc in procs:
            stop(proc)
        teardown()
    reports = _reports(work, folder, spec)
    if "after" in spec:  # the launching module keeps what its agents signaled
        spec["after"](work, folder, reports)
    shutil.rmtree(work, ignore_errors=True)
    truth = truth_for(name, spec, reports)
    for file in TAPS:
        for fmt, suffix in (("pcapng", ".pcapng"), ("netmon2", ".cap")):
            sh("editcap", "-F", fmt, str(folder / file), str(folder / file.replace(".pcap", suffix)))
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{name}: {truth['expected_outcome']} ({truth['expected_connectivity']})")


def run(
    script: str,
    scenarios: dict[str, dict],
    record_one: Callable[[str, dict], None],
    namespaces: tuple[str, ...] = NAMESPACES,
) -> None:
    """Record the scenarios named on the command line (all by default), as root; the lab's
    namespaces are removed when it ends, fails or is sent SIGTERM."""
    if os.geteuid() != 0:
        raise SystemExit(f"{script} needs root (network namespaces, nftables, tcpdump)")
    chosen = sys.argv[1:] or list(scenarios)
    signal.signal(signal.SIGTERM, lambda *_: (teardown(namespaces), sys.exit(1)))
    try:
        for name in chosen:
            record_one(name, scenarios[name])
    finally:
        teardown(namespaces)


def segments_asked(out: Path, segments: dict[str, str]) -> bool:
    """`--segments [FOLDER...]`: no recording; the truths of the calls recorded under `out` (or of
    the folders named) learn where their taps sit."""
    if sys.argv[1:2] != ["--segments"]:
        return False
    place_taps([Path(a) for a in sys.argv[2:]] or sorted(p.parent for p in out.glob("*/truth.json")), segments)
    return True


def main() -> None:
    if not segments_asked(OUT, SEGMENTS):
        run("netlab.py", SCENARIOS, record)


if __name__ == "__main__":
    main()
