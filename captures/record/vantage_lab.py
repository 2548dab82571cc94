"""Record calls where the captures sit where users take them on servers: on a TURN server's own
interface, and on a WebRTC gateway's (an SFU on a public address) own interface.

Run as root: ICETRACE_LAB=vt python3 captures/record/vantage_lab.py [SCENARIO...]
(PYTHON names an interpreter with aioice; the libnice agents run under /usr/bin/python3.)
Topology (namespaces prefixed with ICETRACE_LAB, default "vt"; every address exists only there):

  vtl 192.168.1.10 -- vtrl [NAT] 203.0.113.1 --+
                                               +-- vtpub bridge (the public segment)
  vtts 10.0.22.48 -- vtcr [1:1 NAT] 203.0.113.200 --+   coturn, as in a cloud: its own interface
                                               |        holds a private address, --external-ip
  vtgw 203.0.113.50 (no NAT) ------------------+        maps it to the public one
                                                        the gateway: its host address is public

Taps: `turn-server.pcap` on coturn's own interface, `gateway.pcap` on the gateway's, `left-lan.pcap`
on the left agent's LAN, `public.pcap` on the public bridge. Truth from the agents' own objects,
as netlab.py writes it (aioice_agent.py, libnice_agent.py). Everything started is stopped by PID
and the namespaces are removed on exit. `python3 captures/record/vantage_lab.py --segments` records
nothing: it writes where each tap sits (`segments`) into the recorded calls' truth files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import libnice_lab  # noqa: E402
import netlab  # noqa: E402
from netlab import nft, ns, sh, start, stop  # noqa: E402

OUT = HERE.parent / "servers"
LAB = os.environ.get("ICETRACE_LAB", "vt")
PUB, ROUTER_L, HOST_L, CLOUD, TURN_HOST, GATEWAY = (LAB + n for n in ("pub", "rl", "l", "cr", "ts", "gw"))
NAMESPACES = (PUB, ROUTER_L, HOST_L, CLOUD, TURN_HOST, GATEWAY)
LEFT_LAN, LEFT_GW, LEFT_PUBLIC = "192.168.1.10", "192.168.1.1", "203.0.113.1"
TURN_PRIVATE, CLOUD_GW, TURN_PUBLIC = "10.0.22.48", "10.0.22.1", "203.0.113.200"
GATEWAY_ADDRESS = "203.0.113.50"
PYTHON = os.environ.get("PYTHON", sys.executable)

SCENARIOS = {
    "turn-server-vantage": {
        "description": "aioice behind a NAT, relay-only, calls an aioice gateway on a public address "
        "(full ICE, no NAT) through coturn, which runs in a cloud behind a 1:1 NAT (its own interface "
        "10.0.22.48, public 203.0.113.200, --external-ip): the relayed data leaves coturn's relay "
        "port towards the gateway. turn-server.pcap is coturn's own interface.",
        "agents": "aioice",
        "cause": {
            "code": "relayed:policy",
            "side": "left",
            "why": "the left agent gathers only relayed candidates (TransportPolicy.RELAY); nothing in the network is "
            "blocked.",
            "connectivity": "RELAY",
        },
        "facts": {
            "nomination_style": "aggressive",
            "nomination_style_source": "aioice 0.13.0 itself: Connection.check_start (aioice/ice.py) sets nominate = "
            "ice_controlling and not remote_is_lite, and build_request adds USE-CANDIDATE when nominating: the "
            "controlling left agent nominates with every check (the gateway is a full agent)",
            "candidate_types_signaled": False,
            "capture_facts": {
                "gateway.pcap": {
                    "unobservable": ["connectivity", "cause"],
                    "why": "at the gateway's own interface the left agent's relayed address (coturn's public side) "
                    "arrives like any peer's address: its Allocate travels the left agent's leg to coturn and no "
                    "signaling is captured, so nothing in gateway.pcap says the pair is relayed, nor that the left "
                    "agent used relayed candidates only",
                },
            },
        },
    },
    "gateway-ice-lite": {
        "description": "libnice full (controlling) behind a NAT calls a libnice ICE-lite gateway on a "
        "public address (no NAT; its host candidate is the public address), coturn in the cloud for "
        "STUN and TURN. gateway.pcap is the gateway's own interface.",
        "agents": "libnice",
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the left agent's NAT mapping reaches the gateway's public host address.",
            "connectivity": "DIRECT",
        },
        "facts": {
            "nomination_style": "aggressive",
            "nomination_style_source": "libnice 0.1.21 itself: the agent captures/record/libnice_agent.py creates "
            "(Nice.Agent.new_full without NICE_AGENT_OPTION_REGULAR_NOMINATION) reports its nomination-mode property "
            "as NICE_NOMINATION_MODE_AGGRESSIVE in the RFC5245 mode (read back through PyGObject from Debian's "
            "libnice10 0.1.21-1); the lite gateway never nominates (RFC 8445 §2.5)",
            "candidate_types_signaled": True,
            "capture_facts": {
                "turn-server.pcap": {
                    "unobservable": ["outcome", "selected", "succeeded", "connectivity", "nomination_style"],
                    "cause": "unknown:partial-capture",
                    "why": "the call runs on the left agent's server-reflexive address to the gateway's host, a path "
                    "that never crosses coturn: its own interface holds only the left agent's Allocate and its "
                    "Binding requests to coturn, no connectivity check, so nothing in it decides a cause",
                },
            },
        },
    },
}

TAPS = {
    "turn-server.pcap": (TURN_HOST, "eth0", "coturn's own interface (10.0.22.48, behind the cloud's 1:1 NAT)"),
    "gateway.pcap": (GATEWAY, "eth0", "the gateway's own interface (203.0.113.50, no NAT)"),
    "left-lan.pcap": (HOST_L, "eth0", "left agent's LAN side (behind its NAT)"),
    "public.pcap": (PUB, "br0", "the public segment between the left NAT, the cloud NAT and the gateway"),
}
# where each tap sits (truth.json's `segments`): the gateway is an agent whose own interface is its LAN
# side (with no NAT), coturn's interface is a server's, beyond the left agent's NAT like the public bridge
SEGMENTS = {
    "turn-server.pcap": "server:coturn",
    "gateway.pcap": "lan:gateway",
    "left-lan.pcap": "lan:left",
    "public.pcap": "public",
}
TAP_FILTER = "udp or tcp"


def teardown() -> None:
    netlab.teardown(NAMESPACES)


def _veth(a: str, a_dev: str, b: str, b_dev: str) -> None:
    """A cable from namespace `a` (device `a_dev`) to namespace `b` (device `b_dev`)."""
    sh("ip", "link", "add", f"{LAB}x{a_dev[:3]}", "type", "veth", "peer", "name", f"{LAB}y{a_dev[:3]}")
    sh("ip", "link", "set", f"{LAB}x{a_dev[:3]}", "netns", a)
    sh("ip", "link", "set", f"{LAB}y{a_dev[:3]}", "netns", b)
    ns(a, "ip", "link", "set", f"{LAB}x{a_dev[:3]}", "name", a_dev)
    ns(b, "ip", "link", "set", f"{LAB}y{a_dev[:3]}", "name", b_dev)


def _host(space: str, dev: str, address: str, prefix: int, gateway: str | None) -> None:
    ns(space, "ip", "addr", "add", f"{address}/{prefix}", "dev", dev)
    ns(space, "ip", "link", "set", dev, "up")
    if gateway:
        ns(space, "ip", "route", "add", "default", "via", gateway)


CONSUMER_NAT = """table ip nat {
  chain postrouting { type nat hook postrouting priority 100; oifname "wan" masquerade; }
}
table ip filter {
  chain forward { type filter hook forward priority 0;
    iifname "wan" ct state established,related accept; iifname "wan" drop; }
}
"""
CLOUD_NAT = f"""table ip nat {{
  chain prerouting {{ type nat hook prerouting priority -100;
    iifname "wan" ip daddr {TURN_PUBLIC} dnat to {TURN_PRIVATE}; }}
  chain postrouting {{ type nat hook postrouting priority 100;
    oifname "wan" ip saddr {TURN_PRIVATE} snat to {TURN_PUBLIC}; }}
}}
"""


def _behind_nat(host: str, address: str, router: str, gateway: str, rules: str) -> None:
    """`host` at `address` on the LAN side of `router` (its address there `gateway`), which
    forwards under the nftables `rules`."""
    _veth(host, "eth0", router, "lan")
    _host(host, "eth0", address, 24, gateway)
    _host(router, "lan", gateway, 24, None)
    ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    nft(router, rules)


def build() -> None:
    netlab.make_namespaces(NAMESPACES)
    ns(PUB, "ip", "link", "add", "br0", "type", "bridge")
    ns(PUB, "ip", "link", "set", "br0", "up")
    for space, dev, port, address in (
        (ROUTER_L, "wan", "plw", LEFT_PUBLIC),
        (CLOUD, "wan", "pcw", TURN_PUBLIC),
        (GATEWAY, "eth0", "pgw", GATEWAY_ADDRESS),
    ):
        _veth(space, dev if space != GATEWAY else "eth0", PUB, port)
        ns(PUB, "ip", "link", "set", port, "master", "br0", "up")
        _host(space, dev, address, 24, None)
    # the left agent behind a consumer NAT (as netlab.py's)
    _behind_nat(HOST_L, LEFT_LAN, ROUTER_L, LEFT_GW, CONSUMER_NAT)
    # coturn in a cloud: a 1:1 NAT keeps every port, as a cloud's elastic address does
    _behind_nat(TURN_HOST, TURN_PRIVATE, CLOUD, CLOUD_GW, CLOUD_NAT)


def _coturn(folder: Path) -> subprocess.Popen[bytes]:
    return start(
        TURN_HOST,
        "turnserver",
        "-n",
        "--listening-ip",
        TURN_PRIVATE,
        "--relay-ip",
        TURN_PRIVATE,
        "--external-ip",
        f"{TURN_PUBLIC}/{TURN_PRIVATE}",
        "--listening-port",
        "3478",
        "--lt-cred-mech",
        "--user",
        f"{netlab.TURN_USER}:{netlab.TURN_PASSWORD}",
        "--realm",
        netlab.REALM,
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--fingerprint",
        "--min-port",
        "49160",
        "--max-port",
        "49200",
        "--log-file",
        "stdout",
        "--simple-log",
        log=folder / "coturn.log",
    )


def _aioice_agents(work: Path, folder: Path) -> list[subprocess.Popen[bytes]]:
    common = ["--dir", str(work), "--stun", TURN_PUBLIC, "--timeout", "30"]
    left = [
        PYTHON, str(HERE / "aioice_agent.py"), "--name", "left", "--peer", "gateway", "--role", "controlling",
        *common, "--lan", LEFT_LAN, "--public", LEFT_PUBLIC, "--turn", TURN_PUBLIC, "--relay-only",
    ]  # fmt: skip
    gateway = [
        PYTHON, str(HERE / "aioice_agent.py"), "--name", "gateway", "--peer", "left", "--role", "controlled",
        *common, "--lan", GATEWAY_ADDRESS, "--public", GATEWAY_ADDRESS,
    ]  # fmt: skip
    return [
        start(GATEWAY, "timeout", "60", *gateway, log=folder / "gateway-agent.log"),
        start(HOST_L, "timeout", "60", *left, log=folder / "left-agent.log"),
    ]


def _libnice_agents(work: Path, folder: Path) -> list[subprocess.Popen[bytes]]:
    version = libnice_lab._version()
    out = []
    for space, name, role, peer, lan, public, port in (
        (GATEWAY, "gateway", "controlled", "left", GATEWAY_ADDRESS, GATEWAY_ADDRESS, "41000"),
        (HOST_L, "left", "controlling", "gateway", LEFT_LAN, LEFT_PUBLIC, "40000"),
    ):
        args = [
            libnice_lab.SYSTEM_PYTHON, str(HERE / "libnice_agent.py"), "--name", name, "--peer", peer,
            "--role", role, "--mode", "rfc5245", "--dir", str(work), "--timeout", "20", "--lan", lan,
            "--public", public, "--version", version, "--port", port,
        ]  # fmt: skip
        if name == "gateway":
            args.append("--lite")
        else:
            args += ["--stun", TURN_PUBLIC, "--turn", TURN_PUBLIC]
            args += ["--turn-user", netlab.TURN_USER, "--turn-password", netlab.TURN_PASSWORD]
        out.append(start(space, "timeout", "60", *args, log=folder / f"{name}-agent.log"))
    return out


def record(name: str, spec: dict) -> None:
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="icetrace-vantage-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        build()
        procs += netlab.start_taps(
            folder, work, {file: (space, dev) for file, (space, dev, _) in TAPS.items()}, TAP_FILTER
        )
        procs.append(_coturn(folder))
        time.sleep(2.0)
        launch = _aioice_agents if spec["agents"] == "aioice" else _libnice_agents
        for proc in launch(work, folder):
            proc.wait()
        time.sleep(1.0)
    finally:
        for proc in procs:
            stop(proc)
        teardown()
    reports = {}
    for me in ("left", "gateway"):
        report = work / f"{me}.report.json"
        if report.exists():
            reports[me] = json.loads(report.read_text())
    if spec["agents"] == "libnice":  # what each signaled: the left agent offers, the gateway answers
        for me, sdp in (("left", "offer.sdp"), ("gateway", "answer.sdp")):
            offer = work / f"{me}.offer.json"
            if offer.exists():
                (folder / sdp).write_text(libnice_lab.sdp_for(json.loads(offer.read_text()), "rfc5245"))
    for log in folder.glob("*-agent.log"):
        if not log.stat().st_size:
            log.unlink()  # aioice logs nothing: no empty files
    shutil.rmtree(work, ignore_errors=True)
    connected = len(reports) == 2 and all(r["streams"][0]["components"][0]["selected"] for r in reports.values())
    fields = netlab.cause_fields(name, spec, reports, connected)
    truth = {
        "scenario": name,
        "description": spec["description"],
        "expected_outcome": "connected" if connected else "failed",
        "expected_connectivity": fields["expected_connectivity"],
        "vantage_points": {file: where for file, (_s, _d, where) in TAPS.items()},
        "segments": dict(SEGMENTS),
        "expected_cause": fields["expected_cause"],
        **spec["facts"],  # from the agents' code, and what each tap's place lets it show
        "agents": reports,
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{name}: {truth['expected_outcome']}")


def main() -> None:
    if not netlab.segments_asked(OUT, SEGMENTS):
        netlab.run("vantage_lab.py", SCENARIOS, record, NAMESPACES)


if __name__ == "__main__":
    main()
