"""A STUN transaction: one request with its retransmissions and what answered it, and the legs
it was seen on.

RFC 5389 §7.2.1: a request is retransmitted with the same transaction id (RTO 500 ms,
doubling, Rc = 7, final wait 16*RTO: 39.5 s in all). Whatever comes back from the request's
destination to its source with its transaction id answers it, even when it is no success or
error response of the request's method: such a transaction is answered "nonstandard", never
"unanswered" (matching.py groups records into transactions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from icetrace.ice.addresses import private_address
from icetrace.records.endpoint import Endpoint
from icetrace.records.icmp_error import IcmpError
from icetrace.records.stun_record import StunRecord
from icetrace.records.vocabulary import TransactionOutcome

SENDER, MIDDLE, RECEIVER = "sender", "middle", "receiver"
NEARNESS = {SENDER: 0, MIDDLE: 1, RECEIVER: 2}


@dataclass(slots=True)
class Leg:
    """What one capture point saw of a check: its transmissions on one 5-tuple and the answers on
    the reverse 5-tuple. One view can hold several legs: a relayed check's client-to-relay and
    relay-to-peer legs share the check's effective addresses, and so do two taps' copies of it."""

    requests: list[StunRecord]
    responses: list[StunRecord]
    _side: str = field(default="", repr=False, compare=False)

    @property
    def side(self) -> str:
        """Where the leg was seen, from its addresses on the wire (for a relayed check, the client
        <-> TURN server leg): a private source sending to a public address is on the sender's LAN,
        a public source reaching a private address on the receiver's. Anything else is MIDDLE:
        both public (the public segment, or agents without a NAT) or both private (one LAN, where
        each agent is on the capture's side)."""
        if not self._side:
            r = self.requests[0]
            src_private, dst_private = private_address(r.src.ip), private_address(r.dst.ip)
            if src_private and not dst_private:
                self._side = SENDER
            elif dst_private and not src_private:
                self._side = RECEIVER
            else:
                self._side = MIDDLE
        return self._side

    @property
    def rtt_ms(self) -> float | None:
        """From the last transmission before the first answer (as Transaction.rtt_ms)."""
        if not self.responses:
            return None
        answer = self.responses[0].time
        sent = [r.time for r in self.requests if r.time <= answer]
        return (answer - sent[-1]) * 1000 if sent else None


TRANSACTION_TIMEOUT = 39.5  # seconds, RFC 5389 §7.2.1 with the default RTO and Rc
FINAL_WAIT = 8.0  # seconds, RFC 5389 §7.2.1: Rm * RTO after the last transmission


@dataclass(slots=True)
class Transaction:
    """One request (and its retransmissions) and what answered it."""

    requests: list[StunRecord]
    src: Endpoint  # effective addresses: for relayed checks, the relayed address and the peer
    dst: Endpoint
    responses: list[StunRecord] = field(default_factory=list)
    relayed: bool = False
    gave_up: bool = False  # set by close(): no answer by the end of the retransmission schedule
    # set once the stream's nomination is known: a check its agent stopped when another pair of its
    # component was nominated (RFC 8445 §8.1.2), whose silence is no failure
    cancelled: bool = False
    icmp: tuple[IcmpError, ...] = ()  # errors quoting one of its requests
    nonstandard: bool = False  # answered by a message that is no response of the request's method
    # RFC 8489 §9.1.4: an answer whose MESSAGE-INTEGRITY fails is discarded as if never received
    bad_answer: bool = False
    other_views: Sequence[Transaction] = ()  # the same check seen at other points
    # set when only the timing tells that the capture point is beside the receiver (its answer left
    # at once): request -> response there is the receiver's answering time, not a round trip
    beside_receiver: bool = False
    legs: list[Leg] | None = field(default=None, repr=False, compare=False)  # views.legs, worked out once

    @property
    def request(self) -> StunRecord:
        return self.requests[0]

    @property
    def response(self) -> StunRecord | None:
        return self.responses[0] if self.responses else None

    @property
    def outcome(self) -> TransactionOutcome:
        """'success', 'error', 'nonstandard' (answered by another message type), 'integrity-failure'
        (the answer fails MESSAGE-INTEGRITY with the signaled key), 'icmp-error' (the network refused
        it), 'cancelled' (its agent stopped it when it nominated another pair), 'timeout' (schedule ran
        out) or 'unanswered' (capture ended first)."""
        if self.response is not None:
            if self.nonstandard:
                return "nonstandard"
            if self.bad_answer:
                return "integrity-failure"
            return "success" if self.response.cls == "success" else "error"
        if self.icmp:
            return "icmp-error"
        if self.cancelled:
            return "cancelled"
        return "timeout" if self.gave_up else "unanswered"

    @property
    def rtt_ms(self) -> float | None:
        """From the last request sent before the response (Karn's rule would drop ambiguous ones)."""
        if self.response is None:
            return None
        sent = [r.time for r in self.requests if r.time <= self.response.time]
        return (self.response.time - sent[-1]) * 1000 if sent else None

    @property
    def retransmissions(self) -> int:
        return max(0, len(self.requests) - 1)

    def close(self, capture_end: float) -> None:
        """Decide timeout vs unanswered once the capture's end is known.

        Given up: the full RFC 5389 wait (39.5 s) passed, or Rc = 7 transmissions were sent, or
        the sender fell silent for longer than the final wait (16 * RTO = 8 s with the default
        RTO) while the capture went on: agents with shorter schedules (baresip: 4 sends, 100 ms
        RTO) stop early, and the capture shows it.
        """
        if self.response is None:
            waited = capture_end - self.request.time
            silent = capture_end - self.requests[-1].time
            self.gave_up = waited >= TRANSACTION_TIMEOUT or len(self.requests) >= 7 or silent >= FINAL_WAIT
