"""Record real browsers (headless Chromium, Firefox) calling each other behind the lab's NATs.

Run as root: python captures/record/browser_lab.py [SCENARIO...] (see record_browsers.sh).
The topology is netlab.py's (left browser 192.168.1.10 behind NAT 203.0.113.1, right
192.168.2.10 behind NAT 203.0.113.2, coturn at 203.0.113.254); signaling_server.py serves
the call page and relays offer, answer and candidates as plain JSON over HTTP on the
public segment (203.0.113.254:8080). The left browser calls (offers), the right answers.
Each page posts its getStats() and descriptions once the call is over; those become
truth.json (browser_truth.py), offer.sdp and answer.sdp.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("ICETRACE_LAB", "br")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import netlab  # noqa: E402
from browser_truth import browser_truth  # noqa: E402

SIGNALING = f"{netlab.SERVER}:8080"
ORIGIN = f"http://{SIGNALING}"
TAPS = {"left-lan": (netlab.HOST_L, "eth0"), "right-lan": (netlab.HOST_R, "eth0"), "public": (netlab.PUB, "br0")}

SCENARIOS = {
    "chromium-dump": {
        "dump": True,
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "As chromium-direct, and each page also saves a webrtc-internals-style dump it assembles "
        "from its own API calls, events and final getStats() (left.webrtc-internals.json, right.…).",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
    },
    "chromium-websocket": {
        "dump": True,
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "As chromium-direct, with offer, answer and trickled candidates over one WebSocket per "
        "page to the signaling server (Chromium's frames masked and permessage-deflate compressed, the server's "
        "plain); the pages' reports and dumps still go over HTTP.",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
        "signal": "ws",
    },
    "chromium-direct": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "Headless Chromium calls headless Chromium (audio from the fake capture device and a "
        "data channel, bundled, rtcp-mux), both behind endpoint-independent NATs, STUN and TURN on coturn, "
        "trickle ICE over plain HTTP: a direct (srflx) path is expected.",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
    },
    "chromium-relay": {
        "cause": {
            "code": "relayed:policy",
            "side": "both",
            "why": "both browsers use iceTransportPolicy 'relay': only relayed candidates exist; nothing in the network is blocked.",
            "connectivity": "RELAY",
        },
        "description": "As chromium-direct, with iceTransportPolicy 'relay' on both browsers: only relayed "
        "candidates are signaled and the relay pair carries the call.",
        "browsers": ("chromium", "chromium"),
        "policy": "relay",
    },
    "chromium-late-direct": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "the call ends on the srflx pair once the block is lifted (it ran on the right browser's relay before: a switch from relay to direct).",
            "connectivity": "DIRECT",
        },
        "description": "As chromium-direct, but the NATs drop everything between their public addresses "
        "until both browsers report the call connected (over TURN); then the lab lifts the block, "
        "Chromium's continuing checks succeed on the direct pair and it moves the call there. "
        "Media and the data channel run 6 s.",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
        "hold_direct": True,
        "seconds": 6,
    },
    "chromium-turn-tcp": {
        "cause": {
            "code": "relayed:policy",
            "side": "both",
            "why": "both browsers use iceTransportPolicy 'relay' and are given TURN over TCP only; UDP is not blocked, so TCP is the configuration, not a fallback.",
            "connectivity": "RELAY",
        },
        "description": "As chromium-relay, with TURN over TCP to coturn (turn:...?transport=tcp): the "
        "checks and the media travel in ChannelData framed on one TCP connection per browser.",
        "browsers": ("chromium", "chromium"),
        "policy": "relay",
        "turn": "tcp",
    },
    "firefox-chromium": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "Headless Firefox ESR (left, offerer) calls headless Chromium (right), both behind "
        "endpoint-independent NATs, STUN and TURN on coturn, trickle ICE over plain HTTP.",
        "browsers": ("firefox", "chromium"),
        "policy": "all",
    },
    "chromium-firefox": {
        "cause": {
            "code": "direct",
            "side": "both",
            "why": "nothing is blocked: the srflx pair works.",
            "connectivity": "DIRECT",
        },
        "description": "Headless Chromium (left, offerer) calls headless Firefox ESR (right), both behind "
        "endpoint-independent NATs, STUN and TURN on coturn, trickle ICE over plain HTTP.",
        "browsers": ("chromium", "firefox"),
        "policy": "all",
    },
    # --- why a call went relayed: one cause per scenario, set by the lab's rules (1 s of media, small captures) ---
    "chromium-direct-blocked": {
        "description": "As chromium-direct, but both routers drop every packet between the two public addresses "
        "(nft forward: ip daddr <other NAT> drop; ip saddr <other NAT> drop), so only coturn is reachable: the "
        "direct checks go unanswered and a relay carries the call. 1 s of media.",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
        "block_direct": "drop",
        "seconds": 1,
        "cause": {
            "code": "relayed:direct-blocked",
            "side": "both",
            "why": "the routers drop every packet between the two public addresses; coturn stays reachable.",
            "connectivity": "RELAY",
        },
    },
    "chromium-udp-blocked": {
        "description": "The left router drops every UDP datagram from its LAN (nft forward: iifname lan meta l4proto "
        "udp drop), TCP passes. Both browsers are given STUN and one TURN server over UDP and TCP "
        "(turn:...?transport=udp and ?transport=tcp): the left browser's STUN and TURN/UDP requests go "
        "unanswered, its TURN/TCP allocation works, and the call runs on that relay. 1 s of media.",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
        "turn": "udp,tcp",
        "block_udp": {"side": "left", "action": "drop"},
        "seconds": 1,
        "cause": {
            "code": "relayed:udp-blocked",
            "side": "left",
            "why": "the left network drops all outgoing UDP; the left browser falls back to TURN over TCP.",
            "connectivity": "RELAY",
        },
    },
    "chromium-symmetric": {
        "description": "The left router maps every new destination to a new random port (nft: masquerade random, a "
        "symmetric NAT); both routers drop unsolicited inbound packets; STUN and TURN on both sides. The left "
        "browser's srflx is the mapping for coturn only: its checks leave from other ports, the right browser's "
        "checks to that srflx are dropped, and a relay carries the call. 1 s of media.",
        "browsers": ("chromium", "chromium"),
        "policy": "all",
        "symmetric": True,
        "seconds": 1,
        "cause": {
            "code": "relayed:symmetric-nat",
            "side": "left",
            "why": "the left NAT maps per destination (masquerade random): the checks leave from ports other than the srflx one, and nothing reaches the srflx from the peer.",
            "connectivity": "RELAY",
        },
    },
    "chromium-relay-one-side": {
        "description": "As chromium-direct, but only the left browser uses iceTransportPolicy 'relay' (it signals "
        "relayed candidates only); the right one gathers everything. Nothing in the network is blocked. "
        "1 s of media.",
        "browsers": ("chromium", "chromium"),
        "policy": {"left": "relay", "right": "all"},
        "seconds": 1,
        "cause": {
            "code": "relayed:policy",
            "side": "left",
            "why": "the left browser's relay-only policy leaves no pair without its relay; nothing in the network is blocked.",
            "connectivity": "RELAY",
        },
    },
}

CHROMIUM_FACTS = {
    "nomination_style": "aggressive",
    "nomination_style_source": "libwebrtc's default IceConfig.default_nomination_mode = NominationMode::SEMI_AGGRESSIVE "
    "(p2p/base/ice_transport_internal.h; BasicIceController::GetUseCandidateAttr): USE-CANDIDATE on every check while "
    "no writable pair is selected, on the selected pair and on any better one (aggressive as the wire shows it; "
    "cross-checked with tshark by tests/corpus/test_truth_facts.py)",
    "candidate_types_signaled": True,
}  # the truth's nomination facts for Chromium <-> Chromium calls (offer.sdp and answer.sdp are given)
NO_CHECK_CROSSES = {
    "public.pcap": {
        "nomination_style": "none",
        "unobservable": ["outcome", "connectivity"],
        "why": "the routers drop every packet between the two public addresses and no relay exists, so no check "
        "reaches the public segment: it holds the signaling (offer, answer, candidates) and each browser's STUN and "
        "TURN requests to coturn, nothing that shows how the checks went",
    },
    "right-lan.pcap": {
        "nomination_style": "none",
        "why": "the routers drop every packet between the two public addresses and no relay exists, so no check of "
        "the left (controlling) browser reaches the right LAN: every Binding request on it is the right browser's "
        "own, with ICE-CONTROLLED",
    },
}  # capture_facts of a Chromium call whose direct checks die at the routers and which has no relay
FAILED_TURN = {
    "browsers": ("chromium", "chromium"),
    "policy": "all",
    "block_direct": "drop",
    "seconds": 1,
    "trim": True,
    "facts": CHROMIUM_FACTS,
    "capture_facts": NO_CHECK_CROSSES,
}

SCENARIOS.update(
    {
        # --- causes shown by a second agent (aioice shows them too, netlab.py) ---
        "chromium-turn-credentials": {
            **FAILED_TURN,
            "description": "As chromium-direct-blocked (both routers drop every packet between the two public "
            "addresses), but both browsers are given a wrong TURN password: coturn refuses each authenticated "
            "Allocate with 401, neither browser gathers a relayed candidate, the direct checks die and the call fails.",
            "turn_password": "wrong-password",
            "cause": {
                "code": "failed:credentials",
                "side": "both",
                "why": "the TURN password is wrong on both sides: 401 to the authenticated Allocates, no relayed "
                "candidate, and the direct path is blocked.",
                "connectivity": "FAILED",
            },
        },
        "chromium-turn-quota": {
            **FAILED_TURN,
            "description": "As chromium-direct-blocked (both routers drop every packet between the two public "
            "addresses); coturn allows one allocation in all (--total-quota 1) and another client holds it "
            "(turn_holder.py, over loopback in coturn's namespace, so no tap sees it): both browsers' Allocates are "
            "refused with 486 Allocation Quota Reached, the direct checks die and the call fails.",
            "coturn_args": ["--total-quota", "1"],
            "turn_holder": True,
            "cause": {
                "code": "failed:turn-refused",
                "side": "both",
                "why": "coturn refuses both browsers' allocations with 486 Allocation Quota Reached, and the direct "
                "path is blocked.",
                "connectivity": "FAILED",
            },
        },
        "chromium-consent-lost": {
            "description": "Chromium calls Chromium with STUN only (no TURN server); the call connects on the srflx "
            "pair, each page takes its getStats() snapshot after 1 s of media, stops its audio and keeps the call "
            "open; 1 s after both snapshots both routers start dropping everything between the two public addresses "
            "(nft forward: ip daddr <other NAT> drop; ip saddr <other NAT> drop): Chromium's checks on the selected "
            "pair (consent freshness, RFC 7675) go unanswered and each browser's ICE fails (iceStates, "
            "consent_expired).",
            "browsers": ("chromium", "chromium"),
            "policy": "all",
            "turn": "none",
            "seconds": 1,
            "linger": 45,
            "trim": True,
            "cut_direct_after_snapshot": True,
            "facts": CHROMIUM_FACTS,
            "capture_facts": {
                "public.pcap": {
                    "unobservable": ["cause"],
                    "why": "after the cut the routers drop the direct path before it reaches the public segment: it "
                    "holds the call connecting and carrying media, nothing of the consent checks that went unanswered",
                }
            },
            "cause": {
                "code": "failed:consent-lost",
                "side": "both",
                "why": "the direct path is cut after the call connected: consent checks stop being answered and the "
                "browsers give the call up.",
                "connectivity": "DIRECT",
            },
        },
    }
)

FIREFOX_PREFS = {
    "media.cubeb.force_mock_context": True,
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "media.devices.insecure.enabled": True,
    "media.getusermedia.insecure.enabled": True,
    "media.autoplay.default": 0,
    "network.dns.disableIPv6": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.newtabpage.enabled": False,
}


def _page_url(me: str, peer: str, spec: dict, timeout: int) -> str:
    query = {
        "name": me,
        "peer": peer,
        "offer": "1" if me == "left" else "0",
        # one policy for both, or {"left": ..., "right": ...}
        "policy": spec["policy"] if isinstance(spec["policy"], str) else spec["policy"][me],
        "turn": spec.get("turn", "udp"),
        "server": f"{netlab.SERVER}:3478",
        "user": netlab.TURN_USER,
        "pass": spec.get("turn_password", netlab.TURN_PASSWORD),
        "seconds": str(spec.get("seconds", 3)),
        "timeout": str(timeout),
        "linger": str(spec.get("linger", 0)),
        "signal": spec.get("signal", "http"),
        "dump": "1" if spec.get("dump") else "0",
    }
    return f"{ORIGIN}/page?{urlencode(query)}"


def browser_command(browser: str, profile: Path, url: str) -> list[str]:
    if browser == "chromium":
        return [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            # host candidates as addresses, not mDNS names (the lab has no mDNS)
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            f"--unsafely-treat-insecure-origin-as-secure={ORIGIN}",
            "--enable-logging=stderr",
            url,
        ]
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in FIREFOX_PREFS.items())
    )
    return ["firefox-esr", "--headless", "--no-remote", "--profile", str(profile), url]


def _version(browser: str) -> str:
    exe = "chromium" if browser == "chromium" else "firefox-esr"
    return netlab.sh(exe, "--version", check=False).stdout.strip()


HOLD_TABLE = "icetrace_hold"


def hold_direct(on: bool) -> None:
    """Drop (or stop dropping) everything between the two NATs' public addresses, in a table of
    its own so that lifting it leaves netlab's rules as they were."""
    for router in netlab.PUBLIC:
        other = next(p for r, p in netlab.PUBLIC.items() if r != router)
        if not on:
            netlab.ns(router, "nft", "delete", "table", "ip", HOLD_TABLE)
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as fh:
            fh.write(
                f"table ip {HOLD_TABLE} {{\n  chain forward {{ type filter hook forward priority -10;\n"
                f"    ip daddr {other} drop; ip saddr {other} drop; }}\n}}\n"
            )
        netlab.ns(router, "nft", "-f", fh.name)
        os.unlink(fh.name)


def _wait_for_log(log: Path, lines: list[str], deadline: float) -> bool:
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if all(line in text for line in lines):
            return True
        time.sleep(0.1)
    return False


def agent_truth(me: str, result: dict) -> dict:
    """truth.json's entry for the left or right browser, from what its page posted."""
    address, _, router = netlab.LAN[netlab.HOST_L if me == "left" else netlab.HOST_R]
    return browser_truth(result, address, netlab.PUBLIC[router])


def _component(agent: dict) -> dict:
    return agent["streams"][0]["components"][0]


def fill_redacted_prflx(reports: dict) -> None:
    """Chromium's getStats() leaves a peer-reflexive remote candidate's address empty (W3C webrtc-stats
    does not expose it) and keeps its port. The peer reports that candidate as its own local prflx
    (the mapping its NAT gave the check), so the address is taken from the peer's report, and
    `address_from` says so."""
    for me, peer in (("left", "right"), ("right", "left")):
        if me not in reports or peer not in reports:
            continue
        theirs = {
            c["address"].rsplit(":", 1)[1]: c["address"]
            for c in _component(reports[peer])["local_candidates"]
            if c["type"] == "prflx"
        }
        comp = _component(reports[me])
        for cand in comp["remote_candidates"]:
            port = cand["address"].rsplit(":", 1)[1]
            if cand["address"].startswith(":") and port in theirs:
                cand["address"], cand["address_from"] = theirs[port], f"{peer} browser's own local candidate"
        for entry in comp["checklist"] + ([comp["selected"]] if comp["selected"] else []):
            port = entry["remote"].rsplit(":", 1)[1]
            if entry["remote"].startswith(":") and port in theirs:
                entry["remote"] = theirs[port]


def trim(pcap: Path) -> None:
    """Drop the TCP connections that load the page (GET /page and /favicon.ico): no part of the call.
    Everything after stays, the page's posts to the lab too: the last of them is where the capture
    ends, and how long the checks stayed silent before it is what shows they were given up."""
    found = netlab.sh(
        "tshark", "-n", "-r", str(pcap), "-Y", 'http.request.uri matches "^/(page|favicon)"',
        "-T", "fields", "-e", "tcp.stream",
    )  # fmt: skip
    streams = sorted({int(n) for n in found.stdout.split()})
    if streams:
        kept = pcap.with_suffix(".trimmed")
        keep = f"not tcp.stream in {{{', '.join(map(str, streams))}}}"
        netlab.sh("tshark", "-n", "-r", str(pcap), "-Y", keep, "-F", "pcap", "-w", str(kept))
        kept.replace(pcap)


def record(name: str, spec: dict) -> None:
    # seconds the page waits for the call to connect, and (lingering) posts its report that much later
    timeout = int(spec.get("timeout", 25) + spec.get("linger", 0))
    folder = netlab.OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="icetrace-browser-"))
    procs = []
    browsers = []
    try:
        netlab.build(spec)
        if spec.get("hold_direct"):
            hold_direct(True)
        for tap, (space, dev) in TAPS.items():
            procs.append(
                netlab.start(space, "tcpdump", "-i", dev, "-U", "-n", "-w", str(folder / f"{tap}.pcap"),
                             netlab.TAP_FILTER, log=work / f"{tap}.log")
            )  # fmt: skip
        procs.append(netlab.start_coturn(folder, spec))
        procs.append(
            netlab.start(netlab.PUB, netlab.PYTHON, str(HERE / "signaling_server.py"), "--listen", SIGNALING,
                         "--dir", str(work), log=folder / "signaling.log")
        )  # fmt: skip
        time.sleep(2.0)
        if spec.get("turn_holder"):
            procs.append(netlab.start_turn_holder(work, {"timeout": timeout}))
        # the callee's page first, so the caller's offer finds it polling
        for me, peer, host in (("right", "left", netlab.HOST_R), ("left", "right", netlab.HOST_L)):
            browser = spec["browsers"][0 if me == "left" else 1]
            home = work / f"{me}-home"
            home.mkdir()
            cmd = browser_command(browser, work / f"{me}-profile", _page_url(me, peer, spec, timeout))
            browsers.append(
                netlab.start(host, "env", f"HOME={home}", "timeout", str(timeout + 20), *cmd,
                             log=work / f"{me}.browser.log")
            )  # fmt: skip
            time.sleep(1.0)
        deadline = time.monotonic() + timeout + 20
        signaling = folder / "signaling.log"
        if spec.get("hold_direct"):
            if _wait_for_log(signaling, ["left: connected true", "right: connected true"], deadline):
                hold_direct(False)
                print("direct path opened", flush=True)
        if spec.get("cut_direct_after_snapshot"):
            if _wait_for_log(signaling, ["left: snapshot", "right: snapshot"], deadline):
                time.sleep(spec.get("cut_delay", 1.0))
                netlab.cut_direct()
                print("direct path cut after the call connected", flush=True)
        kinds = ("result", "webrtc-internals") if spec.get("dump") else ("result",)
        results = [work / f"{me}.{kind}.json" for me in ("left", "right") for kind in kinds]
        while time.monotonic() < deadline and not all(p.exists() for p in results):
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        for proc in browsers + procs:
            netlab.stop(proc)
        netlab.teardown()
    for me in ("left", "right"):
        log = work / f"{me}.browser.log"
        if log.exists() and not (work / f"{me}.result.json").exists():  # the browser's own log, to see why
            print(f"--- {me} browser log (tail)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    reports = {}
    for me in ("left", "right"):
        path = work / f"{me}.result.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        # the page's own report as posted (getStats, descriptions, states): truth.json is rebuilt from it
        (folder / f"{me}.result.json").write_text(json.dumps(result, indent=1) + "\n")
        dump = work / f"{me}.webrtc-internals.json"
        if dump.exists():
            (folder / f"{me}.webrtc-internals.json").write_text(
                json.dumps(json.loads(dump.read_text()), indent=1) + "\n"
            )
        sdp = result.get("localDescription")
        if sdp:
            (folder / ("offer.sdp" if me == "left" else "answer.sdp")).write_text(sdp)
        reports[me] = agent_truth(me, result)
    shutil.rmtree(work, ignore_errors=True)
    fill_redacted_prflx(reports)
    connected = len(reports) == 2 and all(r["streams"][0]["components"][0]["selected"] for r in reports.values())
    fields = netlab.cause_fields(name, spec, reports, connected)
    truth = {
        "scenario": name,
        "description": spec["description"],
        "expected_outcome": "connected" if connected else "failed",
        **spec.get("facts", {}),
        "expected_connectivity": fields["expected_connectivity"],
        "vantage_points": {
            "left-lan.pcap": "left browser's LAN side (behind its NAT)",
            "right-lan.pcap": "right browser's LAN side (behind its NAT)",
            "public.pcap": "the public segment between the NATs, coturn and the signaling server",
        },
        "segments": dict(netlab.SEGMENTS),
        **({"expected_cause": fields["expected_cause"]} if "expected_cause" in fields else {}),
        **({"capture_facts": spec["capture_facts"]} if "capture_facts" in spec else {}),
        "browsers": {me: _version(spec["browsers"][i]) for i, me in enumerate(("left", "right"))},
        "agents": reports,
    }
    for tap in TAPS:
        if spec.get("trim"):
            trim(folder / f"{tap}.pcap")
        for fmt, suffix in (("pcapng", ".pcapng"), ("netmon2", ".cap")):
            netlab.sh("editcap", "-F", fmt, str(folder / f"{tap}.pcap"), str(folder / f"{tap}{suffix}"))
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{name}: {truth['expected_outcome']}")


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("browser_lab.py needs root (network namespaces, nftables, tcpdump)")
    chosen = sys.argv[1:] or list(SCENARIOS)
    try:
        for name in chosen:
            record(name, SCENARIOS[name])
    finally:
        netlab.teardown()


if __name__ == "__main__":
    main()
