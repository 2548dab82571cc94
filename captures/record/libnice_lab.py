"""Record two libnice agents (PyGObject, libnice_agent.py) in netlab.py's namespaces and NATs.

Run as root: ICETRACE_LAB=ln python3 captures/record/libnice_lab.py [SCENARIO...]
(record_all.sh does). netlab.py builds the namespaces, taps, coturn and the truth file; this
module launches the agents and writes what each one signaled as SDP beside the capture:
RFC 5245 grammar (a=ice-ufrag/a=ice-pwd, a=candidate ... typ ...) in the RFC modes, and the
Office Communicator 2007 (ICEv6) grammar in the OC2007 mode, where every candidate carries its
own base64 username and password:
    a=candidate:<username> <component> <password> UDP <q-value> <address> <port>
Microsoft clients write those base64 strings without their trailing '=', and so does this.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import libnice_truth  # noqa: E402
import netlab  # noqa: E402

# libnice runs under the system Python, where Debian's python3-gi and gir1.2-nice-0.1 live
SYSTEM_PYTHON = os.environ.get("LIBNICE_PYTHON", "/usr/bin/python3")


def _version() -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "libnice10"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or "unknown"


def launch(work: Path, folder: Path, spec: dict) -> list[subprocess.Popen[bytes]]:
    """Left controls, right is controlled (and is the lite one when the scenario has one)."""
    procs = []
    version = _version()
    for host, name, role, peer in (
        (netlab.HOST_R, "right", "controlled", "left"),
        (netlab.HOST_L, "left", "controlling", "right"),
    ):
        address, _, router = netlab.lan_of(host, spec)
        args = [
            SYSTEM_PYTHON,
            str(HERE / "libnice_agent.py"),
            "--name",
            name,
            "--peer",
            peer,
            "--role",
            role,
            "--mode",
            spec["mode"],
            "--dir",
            str(work),
            "--stun",
            netlab.SERVER,
            "--timeout",
            str(spec["timeout"]),
            "--lan",
            address,
            "--public",
            netlab.PUBLIC[router],
            "--version",
            version,
            "--port",
            "40000" if name == "left" else "41000",
        ]
        if spec.get("turn"):
            args += ["--turn", netlab.SERVER, "--turn-user", netlab.TURN_USER, "--turn-password", netlab.TURN_PASSWORD]
        if spec.get("lite") and name == "right":
            args.append("--lite")
        if spec.get("dmz_right") and name == "right":
            args += ["--advertise", netlab.PUBLIC[router]]
        if spec.get("cut_after_gathering") or spec.get("delay_direct"):
            args += ["--hold-file", str(work / "go")]
        args += list(spec.get("agent_args", {}).get(name, ()))
        debug = spec.get("checklist_from_log") or os.environ.get("LIBNICE_DEBUG")
        env_log = ["env", "G_MESSAGES_DEBUG=libnice", "NICE_DEBUG=all"] if debug else []
        procs.append(
            netlab.start(host, "timeout", str(spec["timeout"] + 40), *env_log, *args, log=folder / f"{name}.log")
        )
    return procs


def _b64(text: str) -> str:
    return text.rstrip("=")


def sdp_for(offer: dict, mode: str, default_username: str | None = None) -> str:
    """The agent's signaling as one SDP body; m=/c= name the host candidate, or in an updated
    offer the selected local candidate (RFC 5245 §9.1.2.2)."""
    cands = offer["candidates"]
    default = next((c for c in cands if c["type"] == "host"), cands[0]) if cands else None
    default = next((c for c in cands if c.get("username") == default_username), default)
    host, port = default["address"].rsplit(":", 1) if default else ("0.0.0.0", "9")
    lines = ["v=0", f"o=- 0 0 IN IP4 {host}", "s=-", f"c=IN IP4 {host}", "t=0 0"]
    if offer.get("lite"):
        lines.append("a=ice-lite")
    if mode == "oc2007":
        lines.append(f"m=audio {port} RTP/AVP 0")
        for c in cands:
            address, cport = c["address"].rsplit(":", 1)
            q = {"host": "0.830", "srflx": "0.550", "prflx": "0.550", "relay": "0.450"}[c["type"]]
            lines.append(
                f"a=candidate:{_b64(c['username'])} {c['component']} {_b64(c['password'])} UDP {q} {address} {cport}"
            )
    else:
        lines += [f"m=audio {port} RTP/AVP 0", f"a=ice-ufrag:{offer['ufrag']}", f"a=ice-pwd:{offer['pwd']}"]
        lines += [c["sdp"] for c in cands]
    lines.append("a=rtpmap:0 PCMU/8000")
    return "\r\n".join(lines) + "\r\n"


def after(work: Path, folder: Path, reports: dict) -> None:
    for name in ("left", "right"):
        log = folder / f"{name}.log"
        if name in reports and log.exists() and libnice_truth.DUMP in (text := log.read_text(errors="replace")):
            # libnice's own check list, from its debug log; the log kept is what it rests on
            reports[name]["streams"][0]["components"][0]["checklist"] = libnice_truth.checklist(text)
            log.write_text(libnice_truth.kept_lines(text))
        offer_file = work / f"{name}.offer.json"
        if offer_file.exists():
            offer = json.loads(offer_file.read_text())
            mode = reports.get(name, {}).get("compatibility", "rfc5245")
            (folder / f"{name}.sdp").write_text(sdp_for(offer, mode))
            final = reports.get(name, {}).get("final_offer")
            if final is not None and name == "left":
                body = sdp_for(offer, mode, final["local_candidate"]).replace(
                    "a=rtpmap", f"a=remote-candidate:{_b64(final['remote_candidate'])}\r\na=rtpmap"
                )
                (folder / f"{name}-final.sdp").write_text(body)


ENDS_WITH_LAST_CHECK = (
    "each tap ends with the last check: libnice sends a check three times (0, 0.5, 1.5 s) and reports failure "
    "about 6 s later without sending anything, and a capture file has no end of its own, so nothing in it shows "
    "the checks gave up (a STUN client waits Rm * RTO after its last request, RFC 8489 §6.2.1)"
)


def rfc_facts(reports: dict) -> dict:
    """The truth's nomination style, from the controlling agent's own nomination-mode property,
    and that the analysis is given each agent's typed candidates (left.sdp, right.sdp)."""
    mode = next((r.get("nomination_mode") for r in reports.values() if r["role"] == "controlling"), None)
    if mode is None:
        return {"candidate_types_signaled": True}
    return {
        "nomination_style": mode,
        "nomination_style_source": f"libnice {_version()} itself: the controlling agent captures/record/libnice_agent.py "
        f"creates (Nice.Agent.new_full, RFC5245 mode) reports its nomination-mode property as {mode} (read back "
        "through PyGObject); in aggressive mode every check of the controlling agent carries USE-CANDIDATE",
        "candidate_types_signaled": True,
    }


DIRECT = {"code": "direct", "side": "both", "why": "nothing is blocked: a direct pair works.", "connectivity": "DIRECT"}


def _scenario(description: str, mode: str, **extra: object) -> dict:
    return {
        "cause": DIRECT,
        "description": description,
        "agent": "libnice",
        "mode": mode,
        "turn": True,
        "timeout": 20,
        "launch": launch,
        "after": after,
        **extra,
    }


SCENARIOS = {
    "libnice-rfc5245": _scenario(
        "libnice <-> libnice in RFC 5245 mode (full <-> full), both behind endpoint-independent NATs, "
        "coturn for STUN and TURN.",
        "rfc5245",
    ),
    "libnice-ice-lite": _scenario(
        "libnice full (controlling) <-> libnice ICE-lite (full-mode=False, controlled). The lite agent "
        "sits behind a 1:1 port forward (the right router forwards every UDP port to it) and signals "
        "the forwarded public address as its host candidate, as lite servers do; it gathers nothing else.",
        "rfc5245",
        lite=True,
        dmz_right=True,
    ),
    "libnice-oc2007r2": _scenario(
        "libnice <-> libnice in OC2007R2 mode (MS-ICE2 as OCS 2007 R2 speaks it): NUL-padded "
        "USERNAME, IMPLEMENTATION-VERSION and CANDIDATE-IDENTIFIER, legacy-CRC copies of the checks, "
        "MS-TURN Allocates that coturn does not take. In this mode libnice takes no server-reflexive "
        "candidate from coturn's RFC 3489 answer, so the right agent sits behind a 1:1 port forward "
        "and signals the forwarded public address as its host candidate (as in libnice-ice-lite).",
        "oc2007r2",
        dmz_right=True,
    ),
    "libnice-oc2007": _scenario(
        "libnice <-> libnice in OC2007 mode (MS-ICE / ICEv6 as Office Communicator 2007 and "
        "pidgin-sipe speak it): RFC 3489 headers, per-candidate base64 credentials, binary USERNAME, "
        "no nomination on the wire, MS-TURN Allocates that coturn does not take. As OC 2007 does, "
        "the controlling agent's final offer names the chosen remote candidate by username "
        "(a=remote-candidate, in left-final.sdp) and the controlled agent selects it.",
        "oc2007",
    ),
    "libnice-symmetric": _scenario(
        "libnice <-> libnice in RFC 5245 mode, STUN and TURN on both sides; the left router maps every new "
        "destination to a new random port (nft: masquerade random, a symmetric NAT) and both routers drop "
        "unsolicited inbound packets. The left agent's srflx is the mapping for coturn only: its checks leave "
        "from other ports, the right agent's checks to that srflx are dropped, and a relay carries the call.",
        "rfc5245",
        symmetric=True,
        timeout=40,
        cause={
            "code": "relayed:symmetric-nat",
            "side": "left",
            "why": "the left NAT maps per destination (masquerade random): the checks leave from ports other than "
            "the srflx one, and nothing reaches the srflx from the peer.",
            "connectivity": "RELAY",
        },
    ),
    "libnice-direct-rejected": _scenario(
        "libnice <-> libnice in RFC 5245 mode, STUN and TURN on both sides; each router refuses its own agent's "
        "packets to the other NAT with ICMP port unreachable (nft forward: ip daddr <other NAT> reject with icmp "
        "type port-unreachable; packets from the other NAT are dropped): the LAN captures hold the ICMP errors "
        "quoting the direct checks, and a relay carries the call.",
        "rfc5245",
        block_direct="reject",
        timeout=40,
        cause={
            "code": "relayed:direct-blocked",
            "side": "both",
            "why": "the routers refuse (ICMP port unreachable) every packet to the other public address; coturn "
            "stays reachable.",
            "connectivity": "RELAY",
        },
    ),
    "libnice-network-lost": _scenario(
        "libnice <-> libnice in RFC 5245 mode, STUN and TURN on both sides. Once both agents have gathered and "
        "signaled, the left router stops forwarding anything to or from its LAN (nft forward: iifname lan drop; "
        "oifname lan drop), before the first check: the left agent's checks and its own TURN requests "
        "(CreatePermission, Send indications) go unanswered, while the right agent's are answered. libnice "
        "sends each check three times (0, 0.5, 1.5 s) and reports failure about 6 s after the last one; it sends "
        "nothing in between, so each capture ends with the last check.",
        "rfc5245",
        cut_after_gathering="left",
        timeout=60,
        cause={
            "code": "failed:network-lost",
            "side": "left",
            "why": "the left network goes dark after gathering: its checks and its TURN requests to coturn stop "
            "being answered together.",
            "connectivity": "FAILED",
        },
        capture_facts={
            tap: {
                "unobservable": ["outcome", "connectivity"],
                **({} if tap == "left-lan.pcap" else {"nomination_style": "none"}),
                "why": ENDS_WITH_LAST_CHECK
                + (
                    ""
                    if tap == "left-lan.pcap"
                    else "; no check of the left (controlling) agent leaves its dark network, so every Binding "
                    "request here is the right agent's own"
                ),
            }
            for tap in ("left-lan.pcap", "right-lan.pcap", "public.pcap")
        },
    ),
    # --- causes shown by a second agent (aioice shows them too, netlab.py) ---
    "libnice-ice-credentials": _scenario(
        "libnice <-> libnice in RFC 5245 mode, STUN only, nothing blocked, but each agent signals an ICE password "
        "that is not its own (its real one reversed; truth keeps both as ice_pwd and signaled_pwd): every check "
        "arrives with a MESSAGE-INTEGRITY the receiver cannot verify.",
        "rfc5245",
        facts=rfc_facts,
        turn=False,
        timeout=30,
        agent_args={"left": ["--signal-wrong-pwd"], "right": ["--signal-wrong-pwd"]},
        capture_facts={
            tap: {
                "unobservable": ["outcome", "connectivity"],
                "why": ENDS_WITH_LAST_CHECK + ": the checks to the peer's public address are answered 401, but each "
                "agent's checks to the peer's private host address vanish at its router (a blackhole route) and "
                "the tap ends before libnice gives that pair up",
            }
            for tap in ("left-lan.pcap", "right-lan.pcap")
        },
        cause={
            "code": "failed:credentials",
            "side": "both",
            "why": "each agent's checks are signed with the password its peer signaled, which is not the peer's own.",
            "connectivity": "FAILED",
        },
    ),
    "libnice-turn-forbidden": _scenario(
        "libnice <-> libnice in RFC 5245 mode, STUN and TURN on both sides; coturn refuses every peer address in "
        "203.0.113.0/24 (--denied-peer-ip 203.0.113.0-203.0.113.255), which holds both NATs and the relays: the "
        "allocations work, every CreatePermission gets 403 Forbidden, so no relayed check reaches a peer. Both "
        "routers drop every packet between the two public addresses (nft forward: ip daddr <other NAT> drop; ip "
        "saddr <other NAT> drop), so the direct checks die and the call fails.",
        "rfc5245",
        facts=rfc_facts,
        block_direct="drop",
        coturn_args=["--denied-peer-ip", "203.0.113.0-203.0.113.255"],
        timeout=40,
        capture_facts={
            tap: {
                "unobservable": ["outcome", "connectivity"],
                **({"nomination_style": "none"} if tap == "right-lan.pcap" else {}),
                "why": ENDS_WITH_LAST_CHECK
                + (
                    "; no check of the left (controlling) agent reaches the right LAN: the routers drop the direct "
                    "ones and coturn relays none to the right agent (its permission for 203.0.113.1 was refused), so "
                    "every Binding request here is the right agent's own"
                    if tap == "right-lan.pcap"
                    else ""
                ),
            }
            for tap in ("left-lan.pcap", "right-lan.pcap", "public.pcap")
        },
        cause={
            "code": "failed:turn-refused",
            "side": "both",
            "why": "coturn answers every permission request (CreatePermission) with 403 Forbidden, and the direct "
            "path is blocked.",
            "connectivity": "FAILED",
        },
    ),
    "libnice-no-hairpin": _scenario(
        "libnice <-> libnice in RFC 5245 mode behind one router and one public address (203.0.113.1): left on "
        "192.168.1.0/24, right on 192.168.5.0/24; the router forwards nothing between its two LANs and does not "
        "hairpin (a packet from a LAN to 203.0.113.1 is neither translated back nor answered: nft input iifname "
        "!= wan ip daddr 203.0.113.1 drop). The srflx <-> srflx checks would need hairpinning; STUN and TURN on "
        "both sides, so a relay carries the call.",
        "rfc5245",
        facts=rfc_facts,
        shared_nat=True,
        timeout=40,
        cause={
            "code": "relayed:no-hairpin",
            "side": "both",
            "why": "both agents share one NAT that does not hairpin and their LANs cannot reach each other: srflx "
            "<-> srflx and host pairs fail, the relay works.",
            "connectivity": "RELAY",
        },
    ),
    "libnice-no-media": _scenario(
        "As libnice-rfc5245, with consent freshness on (NICE_AGENT_OPTION_CONSENT_FRESHNESS), but once connected "
        "neither agent sends anything on the selected pair: for 12 s only libnice's consent checks (RFC 7675) pass.",
        "rfc5245",
        facts=rfc_facts,
        timeout=30,
        agent_args={side: ["--consent-freshness", "--no-data", "--linger", "12"] for side in ("left", "right")},
        cause={
            "code": "connected:no-media",
            "side": "both",
            "why": "ICE connects on a direct pair, then no datagram other than STUN is sent.",
            "connectivity": "DIRECT",
        },
    ),
    "libnice-consent-lost": _scenario(
        "libnice <-> libnice in RFC 5245 mode with consent freshness (NICE_AGENT_OPTION_CONSENT_FRESHNESS), STUN "
        "only; the call connects on the direct pair, each agent sends its 20 datagrams, and 2 s after both report "
        "the call up both routers start dropping everything between the two public addresses (nft forward: ip "
        "daddr <other NAT> drop; ip saddr <other NAT> drop): libnice's consent checks (RFC 7675) go unanswered "
        "and each agent's component turns failed (consent_expired).",
        "rfc5245",
        facts=rfc_facts,
        turn=False,
        timeout=30,
        cut_direct_after_connected=True,
        agent_args={side: ["--consent-freshness", "--linger", "45"] for side in ("left", "right")},
        capture_facts={
            "public.pcap": {
                "unobservable": ["cause"],
                "why": "after the cut the routers drop the direct path before it reaches the public segment: it "
                "holds the call connecting and carrying data, nothing of the consent checks that went unanswered",
            }
        },
        cause={
            "code": "failed:consent-lost",
            "side": "both",
            "why": "the direct path is cut after the call connected: consent checks stop being answered and the "
            "agents give the call up.",
            "connectivity": "DIRECT",
        },
    ),
    "libnice-agent-choice": _scenario(
        "libnice <-> libnice in RFC 5245 mode with regular nomination (NICE_AGENT_OPTION_REGULAR_NOMINATION), STUN "
        "and TURN on both sides; both routers drop everything between the two public addresses until 1 s after the "
        "checks start (nft forward: ip daddr <other NAT> drop; ip saddr <other NAT> drop, in a table removed after "
        "1 s). The relayed pairs answer first; libnice's regular nomination stops at its first two valid pairs "
        "(its stopping criterion '*some* valid pairs') and nominates the better of them, a relayed one; once the "
        "path opens the direct pairs succeed too and are never nominated. The check lists are libnice's own, read "
        "from its debug log (left.log, right.log: the lines they rest on).",
        "rfc5245",
        facts=rfc_facts,
        timeout=30,
        delay_direct=1.0,
        checklist_from_log=True,
        agent_args={side: ["--regular-nomination"] for side in ("left", "right")},
        cause={
            "code": "relayed:agent-choice",
            "side": "left",
            "why": "the left (controlling) agent's regular nomination chose a relayed pair from the first valid "
            "pairs, before the direct path opened; the direct pairs that succeeded after were never nominated.",
            "connectivity": "RELAY",
        },
    ),
    "libnice-no-media-keepalive": _scenario(
        "As libnice-no-media, but with libnice's defaults (no consent freshness): once connected neither agent "
        "sends anything on the selected pair, and for 30 s the only packets on it are the keepalives libnice sends "
        "after 25 s without traffic (a Binding indication each way, RFC 8445 §11).",
        "rfc5245",
        facts=rfc_facts,
        timeout=30,
        agent_args={side: ["--no-data", "--linger", "30"] for side in ("left", "right")},
        cause={
            "code": "connected:no-media",
            "side": "both",
            "why": "ICE connects on a direct pair, then no datagram other than STUN is sent.",
            "connectivity": "DIRECT",
        },
    ),
}


def main() -> None:
    netlab.run("libnice_lab.py", SCENARIOS, netlab.record)


if __name__ == "__main__":
    main()
