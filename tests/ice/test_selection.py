"""Which pair a component selected, by the evidence that follows the nominations."""

from __future__ import annotations

import icetrace
from icetrace.records.endpoint import Endpoint
from icetrace.records.media_flow import MediaFlow
from icetrace.records.stun_record import RelayHop, StunRecord
from tests.ice.records import msg, next_frame

L_HOST, L_VPN = Endpoint("192.168.1.10", 5000), Endpoint("10.8.0.2", 5002)
R_HOST = Endpoint("192.168.1.20", 6000)


def checked(t, src, dst, tid, controlling=True, **kw):
    """A check and its success response 2 ms later."""
    username = b"rU:lU" if controlling else b"lU:rU"
    role = "controlling" if controlling else "controlled"
    req = msg(t, src, dst, "binding", "request", tid, username=username, ice_role=role, priority=1, **kw)
    return [req, msg(t + 0.002, dst, src, "binding", "success", tid)]


def sdp_files(tmp_path):
    """L offers a host candidate (preference 65535) and a VPN one (preference 100); R answers one host."""

    def body(ufrag, candidates):
        lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=audio 9 RTP/AVP 0", f"a=ice-ufrag:{ufrag}"]
        lines.append("a=ice-pwd:passwordpasswordpassword")
        for foundation, (ep, pref) in enumerate(candidates, 1):
            prio = (126 << 24) | (pref << 8) | 255
            lines.append(f"a=candidate:{foundation} 1 UDP {prio} {ep.ip} {ep.port} typ host")
        return "\r\n".join(lines) + "\r\n"

    offer, answer = tmp_path / "offer.sdp", tmp_path / "answer.sdp"
    offer.write_text(body("lU", [(L_HOST, 65535), (L_VPN, 100)]))
    answer.write_text(body("rU", [(R_HOST, 65535)]))
    return [offer, answer]


def selected(records, tmp_path, media=()):
    analysis = icetrace.analyze([], sdp=sdp_files(tmp_path), records=records, media=list(media))
    (stream,) = [s for s in analysis.reconstruction.streams if s.call_id]
    (component,) = stream.components
    sel = component.selected
    return (sel.controlling.address, sel.selected_because) if sel else None


def test_aggressive_nomination_without_later_evidence_keeps_the_rfc_rule(tmp_path):
    # USE-CANDIDATE on every check: both pairs nominated, the lower-priority one later
    records = checked(1.0, L_HOST, R_HOST, "a1", use_candidate=True)
    records += checked(1.2, L_VPN, R_HOST, "a2", use_candidate=True)
    assert selected(records, tmp_path) == (L_HOST, "nominated")


def test_consent_checks_show_which_nominated_pair_stayed_in_use(tmp_path):
    base = checked(1.0, L_HOST, R_HOST, "c1", use_candidate=True)
    base += checked(1.2, L_VPN, R_HOST, "c2", use_candidate=True)
    # RFC 7675 consent checks (no USE-CANDIDATE) from the controlling agent, on one pair only
    on_vpn = base + checked(6.0, L_VPN, R_HOST, "c3") + checked(11.0, L_VPN, R_HOST, "c4")
    assert selected(on_vpn, tmp_path) == (L_VPN, "nominated-latest")
    on_host = base + checked(6.0, L_HOST, R_HOST, "c5")
    assert selected(on_host, tmp_path) == (L_HOST, "nominated-latest")
    # the controlled agent's own checks on the stale pair do not make the controlling agent's use stale,
    # as long as they stopped before its last check on the kept pair
    theirs = checked(7.0, R_HOST, L_HOST, "c6", controlling=False)
    assert selected(on_vpn + theirs, tmp_path) == (L_VPN, "nominated-latest")
    # but if the stale pair is still answering later than the kept pair's last check, nothing is decided
    late = checked(12.0, R_HOST, L_HOST, "c7", controlling=False)
    assert selected(on_vpn + late, tmp_path) == (L_HOST, "nominated")


def test_renomination_takes_the_highest_nomination_value(tmp_path):
    records = checked(1.0, L_HOST, R_HOST, "n1", nomination=1)
    records += checked(2.0, L_VPN, R_HOST, "n2", nomination=2)
    assert selected(records, tmp_path) == (L_VPN, "nominated-latest")


def test_media_outranks_priority_among_nominated_pairs(tmp_path):
    records = checked(1.0, L_HOST, R_HOST, "m1", use_candidate=True)
    records += checked(1.2, L_VPN, R_HOST, "m2", use_candidate=True)
    media = [
        MediaFlow(
            src=L_VPN,
            dst=R_HOST,
            transport="udp",
            kind="dtls",
            first_frame=90,
            first_time=1.3,
            last_frame=99,
            last_time=4.0,
            packets=10,
            bytes=1000,
        ),
        MediaFlow(
            src=R_HOST,
            dst=L_VPN,
            transport="udp",
            kind="dtls",
            first_frame=91,
            first_time=1.3,
            last_frame=98,
            last_time=4.0,
            packets=10,
            bytes=1000,
        ),
    ]
    assert selected(records, tmp_path, media) == (L_VPN, "nominated+media")
    # media that ended before the pair's checks succeeded proves nothing about it
    before = [
        MediaFlow(
            src=L_VPN,
            dst=R_HOST,
            transport="udp",
            kind="rtp",
            first_frame=1,
            first_time=0.1,
            last_frame=2,
            last_time=0.5,
            packets=2,
            bytes=200,
        )
    ]
    assert selected(records, tmp_path, before) == (L_HOST, "nominated")


def test_channeldata_media_lands_on_its_relayed_pair():
    """No nomination: a check relayed through TURN ChannelData succeeded, then ChannelData carried
    something other than STUN: that relayed pair is selected, with the media under its addresses."""
    client, server = Endpoint("192.168.1.10", 5000), Endpoint("198.51.100.1", 3478)
    relayed, peer = Endpoint("198.51.100.1", 50000), Endpoint("203.0.113.9", 7000)
    records = [
        msg(0, client, server, "allocate", "request", "al"),
        msg(0.01, server, client, "allocate", "success", "al", addresses={"XOR-RELAYED-ADDRESS": relayed}),
    ]
    out_hop = RelayHop(via="channeldata", client=client, server=server, peer=peer, channel=0x4000)
    req = msg(1.0, client, server, "binding", "request", "ck", username=b"rU:lU", ice_role="controlling", relay=out_hop)
    resp = msg(1.05, server, client, "binding", "success", "ck", relay=out_hop)
    cd = [
        StunRecord(
            frame=next_frame(),
            time=1.1 + i * 0.02,
            src=client,
            dst=server,
            transport="udp",
            kind="channeldata",
            dialect="",
            method="",
            cls="",
            type=0x4000,
            transaction_id="",
            payload_length=172,
            relay=out_hop,
            carried="rtp",
        )
        for i in range(5)
    ]
    analysis = icetrace.analyze([], records=records + [req, resp, *cd])
    (stream,) = analysis.reconstruction.streams
    (component,) = stream.components
    sel = component.selected
    assert sel is not None and sel.selected_because == "media-only" and stream.outcome == "connected"
    assert {(f.src, f.dst, f.kind, f.packets) for f in stream.media_flows} == {(relayed, peer, "rtp", 5)}
    # ChannelData that carried the check itself (same frame as the check inside) is not media
    wrappers = [
        StunRecord(
            frame=r.frame,
            time=r.time,
            src=r.src,
            dst=r.dst,
            transport="udp",
            kind="channeldata",
            dialect="",
            method="",
            cls="",
            type=0x4000,
            transaction_id="",
            payload_length=80,
            relay=out_hop,
            carried="stun",
        )
        for r in (req, resp)
    ]
    analysis = icetrace.analyze([], records=records + [req, resp, *wrappers])
    assert analysis.reconstruction.streams[0].components[0].selected is None


def test_d25_names_the_pair_that_carried_the_media(tmp_path):
    """A nomination that media never followed: the nominated pair stays selected (nothing outranks a
    nomination but later nominations and media on a nominated pair), and D25 says where media went."""
    records = checked(1.0, L_HOST, R_HOST, "d1", use_candidate=True) + checked(1.1, L_VPN, R_HOST, "d2")
    media = [
        MediaFlow(
            src=L_VPN,
            dst=R_HOST,
            transport="udp",
            kind="rtp",
            first_frame=90,
            first_time=1.3,
            last_frame=99,
            last_time=4.0,
            packets=10,
            bytes=1000,
        ),
        MediaFlow(
            src=R_HOST,
            dst=L_VPN,
            transport="udp",
            kind="rtp",
            first_frame=91,
            first_time=1.3,
            last_frame=98,
            last_time=4.0,
            packets=10,
            bytes=1000,
        ),
    ]
    analysis = icetrace.analyze([], sdp=sdp_files(tmp_path), records=records, media=media)
    (d25,) = [v.message for v in analysis.verdict_list if v.code == "D25"]
    assert "was selected but no RTP" in d25 and f"Media flowed on {L_VPN} (host)" in d25
    assert selected(records, tmp_path, media) == (L_HOST, "nominated")
