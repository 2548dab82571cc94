"""TURN allocations as the client tried them: one line per client, server and transport.

An Allocate is retransmitted and challenged (401 with REALM and NONCE, RFC 8489 §9.2) before it
succeeds, so several requests and responses make one allocation (RFC 8656 §7). Each is told once:
the relayed address it got, or why it has none (refused, unanswered, or a success that names no
relayed address).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from icetrace.ice.directions import lacking
from icetrace.records.endpoint import Endpoint

if TYPE_CHECKING:
    from icetrace.ice.reconstruction import Reconstruction


@dataclass
class AllocationAttempt:
    client: Endpoint
    server: Endpoint
    transport: str
    relayed: list[Endpoint] = field(default_factory=list)
    mapped: Endpoint | None = None
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # "401 Unauthorized", in order
    successes: int = 0
    signed: bool = False  # some request carried MESSAGE-INTEGRITY (long-term credentials)
    frame: int | None = None  # the success that gave the relayed address, else the first request
    answers_lacking: bool = False  # the capture lacks the server-to-client direction

    def text(self, frame_text: Callable[[int], str] = str) -> str:
        """One line; `frame_text` writes a frame reference (the file's name too, with several captures)."""
        frame = frame_text(self.frame) if self.frame is not None else "?"
        head = f"allocation {self.client} -> {self.server} ({self.transport}): "
        if self.relayed:
            mapped = f", mapped {self.mapped}" if self.mapped else ""
            return head + f"relayed {', '.join(str(r) for r in self.relayed)}{mapped} (frame {frame})"
        if self.successes:
            return head + f"no relayed address: the success response names none (frame {frame})"
        if self.errors == [e for e in self.errors if e.startswith("401")] and self.errors and not self.signed:
            # RFC 8489 §9.2.4: the first 401 is the challenge; the client never came back with credentials
            return head + f"no relayed address: challenged with {self.errors[0]} and not retried (frame {frame})"
        if self.errors:
            last = self.errors[-1]
            return head + f"no relayed address: refused with {last} (frame {frame})"
        if self.answers_lacking:
            return head + (
                f"relayed address not in the capture: {self.requests} request(s), whose answers travel the "
                f"direction the capture lacks (frame {frame})"
            )
        return head + f"no relayed address: {self.requests} request(s) never answered (frame {frame})"


def allocation_attempts(rec: Reconstruction) -> list[AllocationAttempt]:
    out: dict[tuple[Endpoint, Endpoint, str], AllocationAttempt] = {}
    for t in rec.transactions:
        req = t.request
        if req.method != "allocate" or req.relay is not None:
            continue
        key = (t.src, t.dst, req.transport)
        attempt = out.get(key)
        if attempt is None:
            attempt = out[key] = AllocationAttempt(t.src, t.dst, req.transport, frame=req.frame)
        attempt.requests += len(t.requests)
        attempt.signed = attempt.signed or req.integrity != "absent"
        for resp in t.responses:
            if resp.cls == "success" and not t.nonstandard:
                attempt.successes += 1
            elif resp.error_code is not None:
                attempt.errors.append(f"{resp.error_code} {resp.error_reason or ''}".strip())
                if not attempt.successes:
                    attempt.frame = resp.frame
    for a in rec.allocations:
        key = (a.client, a.server, a.transport)
        attempt = out.get(key)
        if attempt is None:  # its request is not in the capture
            attempt = out[key] = AllocationAttempt(a.client, a.server, a.transport, frame=a.frame)
            attempt.successes += 1
        if a.relayed is not None and a.relayed not in attempt.relayed:
            if not attempt.relayed:
                attempt.frame = a.frame
            attempt.relayed.append(a.relayed)
        attempt.mapped = attempt.mapped or a.mapped
        if a.relayed is None and not attempt.relayed:
            attempt.frame = a.frame
    missing = lacking(rec) if out else set()
    for attempt in out.values():
        attempt.answers_lacking = (attempt.server, attempt.client) in missing
    return list(out.values())
