"""MESSAGE-INTEGRITY verified during analysis with the credentials signaling supplied."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import icetrace
from dissectors.checks import long_term_key
from dissectors.codec import encode_stun
from icetrace.ice.integrity import CHECK_KEYS, KeyContext, check_key
from icetrace.ice.model import Agent
from icetrace.records.endpoint import Endpoint
from icetrace.records.extract import RecordExtractor
from icetrace.records.transport_packet import TransportPacket
from icetrace.signaling.model import RelayCredentials, SignalingModel

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "captures" / "synthetic"))

from builder import Capture, ice_check, ice_error, ice_success, tid  # noqa: E402

L, R = ("192.168.1.10", 50000), ("192.168.1.20", 50002)
L_PWD, R_PWD = "leftpasswordleftpassword", "rightpasswordrightpasswd"
PRIORITY = (110 << 24) | (65535 << 8) | 255


def _sdp(tmp_path: Path) -> list[Path]:
    def body(ufrag: str, pwd: str, ep: tuple[str, int]) -> str:
        lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=audio 9 RTP/AVP 0"]
        lines += [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}"]
        lines.append(f"a=candidate:1 1 UDP 2130706431 {ep[0]} {ep[1]} typ host")
        return "\r\n".join(lines) + "\r\n"

    offer, answer = tmp_path / "offer.sdp", tmp_path / "answer.sdp"
    offer.write_text(body("lU", L_PWD, L))
    answer.write_text(body("rU", R_PWD, R))
    return [offer, answer]


def _capture(tmp_path: Path) -> Path:
    """L's check signed with R's password (right); R's check signed with a stale password for L;
    R answers L's check properly, L answers R's with an unsigned 401."""
    cap = Capture()
    cap.udp(0.0, L, R, ice_check("good", "lU", "rU", R_PWD, PRIORITY, True))
    cap.udp(0.002, R, L, ice_success("good", L, R_PWD))
    cap.udp(0.010, R, L, ice_check("stale", "rU", "lU", "an-old-password-for-left", PRIORITY, False))
    cap.udp(0.011, L, R, ice_error("stale", 401, "Unauthorized"))
    cap.udp(0.020, L, R, ice_check("wrong-answer", "lU", "rU", R_PWD, PRIORITY, True))
    cap.udp(0.022, R, L, ice_success("wrong-answer", L, "not-the-right-password"))
    return cap.write(tmp_path / "cap", {})


def test_each_check_is_verified_with_the_receivers_signaled_password(tmp_path):
    analysis = icetrace.analyze([_capture(tmp_path)], sdp=_sdp(tmp_path))
    checks = analysis.checks.set_index("frame")
    assert checks.loc[1, "integrity"] == "ok" and checks.loc[1, "response_integrity"] == "ok"
    assert checks.loc[3, "integrity"] == "bad" and checks.loc[3, "response_integrity"] == "absent"
    assert checks.loc[5, "integrity"] == "ok" and checks.loc[5, "response_integrity"] == "bad"
    found = sorted((v.frames, v.message) for v in analysis.verdict_list if v.code == "D11-INTEGRITY")
    assert [frames for frames, _ in found] == [[3], [6]]  # the stale check, and the answer signed wrongly
    assert found[0][1].startswith("1 check(s) from callee:answer.sdp to caller ")
    assert found[1][1].startswith("1 answer(s) from callee:answer.sdp to caller's checks ")


def test_without_credentials_checks_are_unverified_and_no_verdict(tmp_path):
    analysis = icetrace.analyze([_capture(tmp_path)])
    assert set(analysis.checks.integrity) == {"unverified"}
    assert set(analysis.checks.response_integrity) == {"unverified", "absent"}
    assert "D11-INTEGRITY" not in {v.code for v in analysis.verdict_list}


def test_turn_long_term_credentials_from_mras():
    client, server = Endpoint("192.168.1.10", 5000), Endpoint("198.51.100.1", 3478)
    user, realm, password = "mrasuser", "example.test", "mraspassword"
    attrs = [("USERNAME", user.encode()), ("REALM", realm), ("NONCE", "abcd"), ("REQUESTED-TRANSPORT", 17)]
    right = long_term_key(user, realm, password)
    good = encode_stun(0x0003, tid("alloc-good"), attrs, integrity_key=right, fingerprint=True)
    bad = encode_stun(0x0003, tid("alloc-bad"), attrs, integrity_key=long_term_key(user, realm, "old"))
    answer = encode_stun(0x0103, tid("alloc-good"), [("LIFETIME", 600)], integrity_key=right)
    extractor = RecordExtractor()
    records = []
    for frame, (src, dst, payload) in enumerate(
        [(client, server, good), (server, client, answer), (client, server, bad)], 1
    ):
        records += extractor.feed(
            TransportPacket(frame=frame, time=frame / 10, src=src, dst=dst, transport="udp", payload=payload)
        )
    model = SignalingModel(
        relay_credentials=[RelayCredentials(username=user, password=password, duration_minutes=480, relays=())]
    )
    table = icetrace.analyze([], records=records, signaling=model).transactions.set_index("first_frame")
    assert (table.loc[1, "integrity"], table.loc[1, "response_integrity"]) == ("ok", "ok")
    assert table.loc[3, "integrity"] == "bad"
    unknown = icetrace.analyze([], records=records).transactions
    assert set(unknown.integrity) == {"unverified"}


def test_a_form_without_a_key_derivation_stays_unverified(monkeypatch):
    agent = Agent(name="callee", ufrag="rU", pwd=R_PWD)
    assert check_key(KeyContext("rfc", "rfc5389", agent, "rU")) == R_PWD.encode()
    monkeypatch.delitem(CHECK_KEYS, "ms-icev6")
    assert check_key(KeyContext("ms-icev6", "ms-ice", agent, "x" * 43)) is None


def test_oc2007_checks_are_keyed_with_the_receiving_candidates_password(tmp_path):
    """[MS-ICE] checks name candidates, each with its own password (base64 in the SDP): libnice's
    recorded OC2007 checks and answers verify with the signaled passwords, and fail with a wrong one."""
    folder = ROOT / "captures" / "real" / "libnice-oc2007"
    sdp = [folder / "left.sdp", folder / "right.sdp"]
    without = icetrace.analyze([folder / "left-lan.pcap"]).checks
    assert set(without.integrity) == {"unverified"}
    checks = icetrace.analyze([folder / "left-lan.pcap"], sdp=sdp).checks
    assert len(checks) >= 4
    assert set(checks.integrity) == {"ok"} and set(checks.response_integrity.dropna()) == {"ok"}

    # the right agent's candidates signaled with another password: checks sent to them now fail
    text = (folder / "right.sdp").read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split(" ")
            parts[2] = "AAAAAAAAAAAAAAAAAAAAAA"  # [MS-ICE] candidate line: username, component, password
            line = " ".join(parts)
        lines.append(line)
    wrong = tmp_path / "right.sdp"
    wrong.write_text("\r\n".join(lines) + "\r\n")
    tampered = icetrace.analyze([folder / "left-lan.pcap"], sdp=[folder / "left.sdp", wrong]).checks
    assert "bad" in set(tampered.integrity) | set(tampered.response_integrity.dropna())


def test_an_answer_failing_integrity_does_not_make_its_pair_succeed():
    """RFC 8489 §9.1.4: a success whose MESSAGE-INTEGRITY fails with the signaled password is discarded.
    The 60-pair scenario answers two checks that way; every pair's state equals the caller's check list."""
    folder = ROOT / "captures" / "synthetic" / "many_pairs"
    truth = json.loads((folder / "truth.json").read_text())
    analysis = icetrace.analyze([folder / "capture.pcap"])
    assert (analysis.checks.outcome == "integrity-failure").sum() == 2
    expected = {
        (c["component"], e["local"], e["remote"]): e["state"]
        for c in truth["agents"]["caller"]["streams"][0]["components"]
        for e in c["checklist"]
    }
    found = {(int(r.component), r.controlling, r.controlled): r.state for r in analysis.pairs.itertuples()}
    assert {k: v for k, v in found.items() if k in expected} == expected
    answered_badly = {(c, f"10.8.0.2:{40000 + c + 1}", f"203.0.113.254:{49169 + c}") for c in (1, 2)}
    assert {found[k] for k in answered_badly} == {"failed"}
