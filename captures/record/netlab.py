"""Record real ICE agents behind real NATs, all inside network namespaces this script makes.

Run as root: python captures/record/netlab.py [SCENARIO...] (see record_all.sh).
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
SERVER = "203.0.113.254"
PYTHON = os.environ.get("PYTHON", sys.executable)

SCENARIOS = {
    "aioice-direct": {
        "description": "aioice <-> aioice, both behind endpoint-independent NATs, STUN and TURN "
        "configured: a direct (srflx) path is expected.",
        "turn": True,
        "timeout": 30,
    },
    "aioice-relay-only": {
        "description": "Both agents restricted to relayed candidates (transport policy RELAY): "
        "the relay pair is the only one.",
        "turn": True,
        "relay_only": True,
        "timeout": 30,
    },
    "aioice-turn-tcp": {
        "description": "Relay-only over TURN/TCP to coturn.",
        "turn": True,
        "relay_only": True,
        "turn_transport": "tcp",
        "timeout": 30,
    },
    "aioice-symmetric": {
        "description": "The left agent is behind a symmetric NAT (random port per destination): "
        "its checks arrive from an unsignaled address (peer-reflexive). The right router "
        "forwards every inbound UDP port to its host (a DMZ host), so those checks get in.",
        "turn": False,
        "symmetric": True,
        "dmz_right": True,
        "timeout": 30,
    },
    "baresip-kamailio": {
        "description": "baresip <-> baresip (ice, stun and turn modules) calling through kamailio, "
        "both behind endpoint-independent NATs, coturn as STUN/TURN server: SIP and SDP are in "
        "the capture, audio has RTP and RTCP components (no rtcp-mux).",
        "agent": "baresip",
        "timeout": 45,
    },
    "baresip-relay-only": {
        "description": "As baresip-kamailio, but the NATs drop everything between the two public "
        "addresses: only the TURN relays can carry the checks and the media.",
        "agent": "baresip",
        "block_direct": True,
        "timeout": 45,
    },
    "aioice-failure": {
        "description": "No TURN, and the NATs drop everything between the two public addresses: "
        "every check fails and ICE gives up.",
        "turn": False,
        "block_direct": True,
        "timeout": 75,
    },
}


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def ns(name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return sh("ip", "netns", "exec", name, *args, check=check)


def teardown() -> None:
    for name in NAMESPACES:
        sh("ip", "netns", "del", name, check=False)
        shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)


def build(symmetric: bool, block_direct: bool, dmz_right: bool = False) -> None:
    teardown()
    for name in NAMESPACES:
        sh("ip", "netns", "add", name)
        Path(f"/etc/netns/{name}").mkdir(parents=True, exist_ok=True)
        Path(f"/etc/netns/{name}/resolv.conf").write_text("nameserver 127.0.0.1\n")
        ns(name, "ip", "link", "set", "lo", "up")
        ns(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    ns(PUB, "ip", "link", "add", "br0", "type", "bridge")
    ns(PUB, "ip", "addr", "add", f"{SERVER}/24", "dev", "br0")
    ns(PUB, "ip", "link", "set", "br0", "up")
    for router, public in PUBLIC.items():
        sh("ip", "link", "add", f"{router}-wan", "type", "veth", "peer", "name", f"{router}-pub")
        sh("ip", "link", "set", f"{router}-wan", "netns", router)
        sh("ip", "link", "set", f"{router}-pub", "netns", PUB)
        ns(PUB, "ip", "link", "set", f"{router}-pub", "master", "br0", "up")
        ns(router, "ip", "link", "set", f"{router}-wan", "name", "wan")
        ns(router, "ip", "addr", "add", f"{public}/24", "dev", "wan")
        ns(router, "ip", "link", "set", "wan", "up")
        ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    for host, (address, gateway, router) in LAN.items():
        sh("ip", "link", "add", f"{host}-eth", "type", "veth", "peer", "name", f"{host}-gw")
        sh("ip", "link", "set", f"{host}-eth", "netns", host)
        sh("ip", "link", "set", f"{host}-gw", "netns", router)
        ns(host, "ip", "link", "set", f"{host}-eth", "name", "eth0")
        ns(host, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
        ns(host, "ip", "link", "set", "eth0", "up")
        ns(host, "ip", "route", "add", "default", "via", gateway)
        ns(router, "ip", "link", "set", f"{host}-gw", "name", "lan")
        ns(router, "ip", "addr", "add", f"{gateway}/24", "dev", "lan")
        ns(router, "ip", "link", "set", "lan", "up")
        random = " random" if symmetric and router == ROUTER_L else ""
        block = ""
        if block_direct:
            other = [p for r, p in PUBLIC.items() if r != router][0]
            block = f"ip daddr {other} drop\n ip saddr {other} drop\n"
        dmz = ""
        if dmz_right and router == ROUTER_R:
            dmz = f'chain prerouting {{ type nat hook prerouting priority -100; iifname "wan" udp dport 1024-65535 dnat to {address}; }}'
        rules = f"""
table ip nat {{
  chain postrouting {{ type nat hook postrouting priority 100; oifname "wan" masquerade{random}; }}
  {dmz}
}}
table ip filter {{
  chain input {{ type filter hook input priority 0; iifname "wan" ct state established,related accept;
                 iifname "wan" drop; }}
  chain forward {{ type filter hook forward priority 0;
                 {block} iifname "wan" ct state established,related accept; iifname "wan" ct status dnat accept;
                 iifname "wan" drop; }}
}}
"""
        with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as fh:
            fh.write(rules)
        ns(router, "nft", "-f", fh.name)
        os.unlink(fh.name)


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


def record(name: str, spec: dict) -> None:
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="icetrace-rec-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        build(spec.get("symmetric", False), spec.get("block_direct", False), spec.get("dmz_right", False))
        taps = {"left-lan.pcap": (HOST_L, "eth0"), "right-lan.pcap": (HOST_R, "eth0"), "public.pcap": (PUB, "br0")}
        for file, (space, dev) in taps.items():
            procs.append(
                start(
                    space,
                    "tcpdump",
                    "-i",
                    dev,
                    "-U",
                    "-n",
                    "-w",
                    str(folder / file),
                    "udp or tcp",
                    log=work / f"{file}.log",
                )
            )
        procs.append(
            start(
                PUB,
                "turnserver",
                "-n",
                "--listening-ip",
                SERVER,
                "--relay-ip",
                SERVER,
                "--listening-port",
                "3478",
                "--lt-cred-mech",
                "--user",
                f"{TURN_USER}:{TURN_PASSWORD}",
                "--realm",
                REALM,
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
        )
        if spec.get("agent") == "baresip":
            procs.append(
                start(PUB, "kamailio", "-DD", "-E", "-f", str(HERE / "kamailio.cfg"), log=work / "kamailio.log")
            )
        time.sleep(2.0)
        agents = []
        if spec.get("agent") == "baresip":
            agents = _baresip_agents(work, folder, spec)
        elif "launch" in spec:  # agents launched by another module (libnice_lab.py)
            agents = spec["launch"](work, folder, spec)
        for host, role, peer in (
            ()
            if spec.get("agent") == "baresip" or "launch" in spec
            else ((HOST_L, "controlling", "right"), (HOST_R, "controlled", "left"))
        ):
            me = "left" if host == HOST_L else "right"
            router = LAN[host][2]
            args = [
                PYTHON,
                str(HERE / "aioice_agent.py"),
                "--name",
                me,
                "--peer",
                peer,
                "--role",
                role,
                "--dir",
                str(work),
                "--stun",
                SERVER,
                "--timeout",
                str(spec["timeout"]),
                "--lan",
                LAN[host][0],
                "--public",
                PUBLIC[router],
            ]
            if spec.get("turn"):
                args += [
                    "--turn",
                    SERVER,
                    "--turn-user",
                    TURN_USER,
                    "--turn-password",
                    TURN_PASSWORD,
                    "--turn-transport",
                    spec.get("turn_transport", "udp"),
                ]
            if spec.get("relay_only"):
                args.append("--relay-only")
            agents.append(start(host, "timeout", str(spec["timeout"] + 30), *args, log=folder / f"{me}.log"))
        for proc in agents:
            proc.wait()
        time.sleep(1.0)
    finally:
        for proc in procs:
            stop(proc)
        teardown()
    reports = {}
    for me in ("left", "right"):
        report = work / f"{me}.report.json"
        if report.exists():
            reports[me] = json.loads(report.read_text())
        elif spec.get("agent") == "baresip" and (folder / f"{me}.log").exists():
            host = HOST_L if me == "left" else HOST_R
            parsed = parse_baresip_log(folder / f"{me}.log", LAN[host][0], PUBLIC[LAN[host][2]])
            if parsed is not None:
                reports[me] = parsed
    if "after" in spec:  # the launching module keeps what its agents signaled
        spec["after"](work, folder, reports)
    shutil.rmtree(work, ignore_errors=True)
    connected = bool(reports) and all(r["streams"][0]["components"][0]["selected"] for r in reports.values())
    truth = {
        "scenario": name,
        "description": spec["description"],
        "expected_outcome": "connected" if connected else "failed",
        "vantage_points": {
            "left-lan.pcap": "left agent's LAN side (behind its NAT)",
            "right-lan.pcap": "right agent's LAN side (behind its NAT)",
            "public.pcap": "the public segment between the NATs and coturn",
        },
        "agents": reports,
    }
    for file in ("left-lan.pcap", "right-lan.pcap", "public.pcap"):
        for fmt, suffix in (("pcapng", ".pcapng"), ("netmon2", ".cap")):
            sh("editcap", "-F", fmt, str(folder / file), str(folder / file.replace(".pcap", suffix)))
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{name}: {truth['expected_outcome']}")


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("netlab.py needs root (network namespaces, nftables, tcpdump)")
    chosen = sys.argv[1:] or list(SCENARIOS)
    signal.signal(signal.SIGTERM, lambda *_: (teardown(), sys.exit(1)))
    try:
        for name in chosen:
            record(name, SCENARIOS[name])
    finally:
        teardown()


if __name__ == "__main__":
    main()
