"""Media is a call's only when it touches the call's endpoints: DNS answers whose first byte looks
like RTP or DTLS (RFC 7983) on a busy capture are not media, and stay off the ladder."""

from __future__ import annotations

import icetrace
from icetrace.plots.ladder import arrows
from icetrace.reading import ReadOptions, read_capture
from icetrace.signaling.model import SignalingModel
from tests import testdata

TEAMS = testdata.CAPTURES / "public" / "ntop_nDPI" / "teams.pcap"


def test_dns_answers_that_begin_like_rtp_are_not_the_calls_media():
    read = read_capture(TEAMS, ReadOptions(), SignalingModel())
    dns = [f for f in read.flows if 53 in (f.src.port, f.dst.port)]
    assert len(dns) >= 10 and {"rtp", "dtls"} <= {f.kind for f in dns}  # what the first byte alone says
    a = icetrace.analyze([TEAMS])
    assert a.reconstruction.media, "the call's own media is still counted"
    assert not [f for f in a.reconstruction.media if 53 in (f.src.port, f.dst.port)]
    assert not a.media.src.str.endswith(":53").any() and not a.media.dst.str.endswith(":53").any()
    columns = {end for arrow in arrows(a.reconstruction, a.messages, a.transactions) for end in (arrow.src, arrow.dst)}
    assert not [c for c in columns if c.endswith(":53")]


def test_media_touching_a_stun_endpoint_stays():
    a = icetrace.analyze([TEAMS])
    stun_ends = {e for r in a.reconstruction.records for e in (r.src, r.dst)}
    assert all(f.src in stun_ends or f.dst in stun_ends for f in a.reconstruction.media)
