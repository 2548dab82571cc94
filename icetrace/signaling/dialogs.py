"""SIP messages -> the signaling model: calls by Call-ID, offers and answers per agent.

The caller (From side of the first INVITE) is "caller"; each answering endpoint is
"callee:<epid or To-tag>", so MPOP answers (several 183s) stay apart. A re-INVITE
carrying a=remote-candidates is the controlling agent's final offer (RFC 5245
§9.1.2.2; MS-ICE2 and OC 2007 do the same).
"""

from __future__ import annotations

from collections.abc import Iterable

from icetrace.signaling.client_report import DiagnosticHeader, client_report
from icetrace.signaling.model import Call, SdpExchange, SessionDescription, SignalingModel, SourceRef
from icetrace.signaling.mras import parse_mras_response
from icetrace.signaling.sdp import parse_sdp
from icetrace.signaling.sip import SipMessage, header_param, split_body

DIAGNOSTIC_HEADERS = ("ms-diagnostics", "ms-client-diagnostics", "ms-diagnostics-public", "reason")


def _agent_of_response(message: SipMessage) -> str:
    to = message.header("to")
    key = header_param(to, "epid") or header_param(to, "tag") or "?"
    return f"callee:{key}"


def _sdp_bodies(message: SipMessage, source: SourceRef) -> list:  # type: ignore[type-arg]
    descriptions = []
    for part in split_body(message):
        ctype = part.content_type.lower()
        if "sdp" not in ctype:
            continue
        text = part.data.decode("utf-8", errors="replace")
        desc = parse_sdp(text, source)
        desc.fallback = "ms-proxy-2007fallback" in part.disposition.lower()
        descriptions.append(desc)
    return descriptions


def _event_label(message: SipMessage) -> str:
    """'INVITE', or '200 OK (INVITE)': a response is named with the request it answers."""
    _, cseq_method = message.cseq
    label = message.method or f"{message.status} {message.reason or ''}".strip()
    if message.status is not None:
        label += f" ({cseq_method})"
    return label


def _request_exchange(
    message: SipMessage,
    method: str,
    call: Call,
    bodies: list[SessionDescription],
    source: SourceRef,
    from_tag: str,
    *,
    caller: bool,
) -> SdpExchange:
    """The SDP a request carries: an offer, the offerer's final offer (it names remote candidates),
    or an answer (in an ACK, or a later request once an offer is out)."""
    agent = "caller" if caller else f"callee:{from_tag}"
    final = any(m.remote_candidates for b in bodies for m in b.media)
    has_offer = any(e.role in ("offer", "final-offer") for e in call.exchanges)
    if method == "ACK":
        role = "answer"
    elif final:
        role = "final-offer"
    else:
        role = "offer" if not has_offer or method in ("INVITE", "UPDATE") else "answer"
    to = message.header("to")
    target = header_param(to, "epid") or header_param(to, "tag")
    peer = f"callee:{target}" if target and agent == "caller" else None
    return SdpExchange(
        role=role, agent=agent, sip_method=method, sip_status=None, bodies=bodies, source=source, peer=peer
    )


def build_model(
    messages: Iterable[tuple[SourceRef, SipMessage]], model: SignalingModel | None = None
) -> SignalingModel:
    """Group messages into calls and record every SDP offer/answer with who wrote it."""
    model = model or SignalingModel()
    calls: dict[str, Call] = {call.call_id: call for call in model.calls}
    caller_tags: dict[str, str] = {}
    for source, message in messages:
        call_id = message.call_id
        if not call_id:
            model.problems.append(f"{source}: SIP message without Call-ID")
            continue
        call = calls.get(call_id)
        if call is None:
            call = calls[call_id] = Call(call_id=call_id)
            model.calls.append(call)
        label = _event_label(message)
        call.events.append((source, label))
        for name in DIAGNOSTIC_HEADERS:
            for value in message.all(name):
                diagnostic = DiagnosticHeader(message=label, header=name, value=value)
                call.diagnostics.append(diagnostic)
                report = client_report(diagnostic)
                if report is not None:
                    call.client_reports.append(report)
        if message.status == 200 and "msrtc-media-relay-auth" in message.content_type.lower():
            creds = parse_mras_response(message.body, source, model.problems)
            if creds is not None:
                model.relay_credentials.append(creds)
            continue
        try:
            bodies = _sdp_bodies(message, source)
        except ValueError as exc:
            model.problems.append(f"{source}: {exc}")
            continue
        for body in bodies:
            model.problems.extend(f"{source}: {p}" for p in body.problems)
        from_tag = header_param(message.header("from"), "tag") or ""
        if message.method == "INVITE" and call_id not in caller_tags:
            caller_tags[call_id] = from_tag
        if not bodies:
            continue
        if message.method is not None:
            caller = from_tag == caller_tags.get(call_id, from_tag)
            exchange = _request_exchange(message, message.method, call, bodies, source, from_tag, caller=caller)
            call.exchanges.append(exchange)
        else:
            call.exchanges.append(
                SdpExchange(
                    role="answer",
                    agent=_agent_of_response(message),
                    sip_method=None,
                    sip_status=message.status,
                    bodies=bodies,
                    source=source,
                )
            )
    return model
