"""What a Microsoft client said about a call, read from its SIP diagnostics headers.

Lync/Skype for Business clients end a call with `ms-client-diagnostics` (a code and a
reason) and, per media, a `CallerMediaDebug`/`CalleeMediaDebug` parameter holding the
client's own ICE summary: an ICEWarn bit mask and the addresses it used (LocalSite,
LocalMR, RemoteSite, RemoteMR). Engineers compare that claim with the packets; the
research catalogue's D26 asks icetrace to do it. The ICEWarn bits are not decoded here:
no specification of them is available to cite, so the value is shown as sent. A header is read
once, as its SIP message is loaded (signaling/dialogs.py); the diagnosis reads `Call.client_reports`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from icetrace.protocol_number import ascii_number
from icetrace.signaling.sip import header_param

_MEDIA_DEBUG = re.compile(r'(Caller|Callee)MediaDebug="([^"]*)"', re.IGNORECASE)
_MEDIA_SECTION = re.compile(r"(?:^|\s)([A-Za-z-]+):(\S+)")
_ADDRESS_KEYS = ("LocalSite", "LocalMR", "RemoteSite", "RemoteMR")
_CONNECTIVITY_FAILURE = re.compile(r"(media )?connectivity.*fail|fail.*(media )?connectivity|\bICE\b.*fail", re.I)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticHeader:
    """A diagnostics header (ms-diagnostics, ms-client-diagnostics, Reason) as a SIP message carried it."""

    message: str  # the message, as Call.events names it: "BYE", "488 Not Acceptable Here (INVITE)"
    header: str
    value: str

    @property
    def code(self) -> int | None:
        return ascii_number(self.value.partition(";")[0].strip())

    @property
    def reason(self) -> str | None:
        params = self.value.partition(";")[2]
        return header_param(";" + params, "reason") if params else None

    def __str__(self) -> str:
        text = f"{self.message}: {self.header}: {self.value}"
        if self.code is not None:
            code = self.value.partition(";")[0].strip()
            text += f" [code {code}" + (f": {self.reason}]" if self.reason else "]")
        return text


@dataclass
class MediaDebug:
    """One media section of a *MediaDebug parameter: `audio:ICEWarn=0x0,LocalSite=...`."""

    side: str  # "caller" | "callee": whose summary it is
    media: str  # audio, video, ...
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def ice_warn(self) -> str | None:
        return self.fields.get("ICEWarn")

    def text(self) -> str:
        parts = [f"ICEWarn={self.ice_warn}"] if self.ice_warn is not None else []
        parts += [f"{key}={self.fields[key]}" for key in _ADDRESS_KEYS if key in self.fields]
        return f"{self.side} {self.media}: " + ", ".join(parts)


@dataclass
class ClientReport:
    """One diagnostics header of one SIP message."""

    message: str  # the SIP message it came in, as the signaling model labels it ("BYE", "488 ... (INVITE)")
    header: str
    code: int | None
    reason: str | None
    media: list[MediaDebug] = field(default_factory=list)

    @property
    def says_connectivity_failed(self) -> bool:
        return bool(self.reason and _CONNECTIVITY_FAILURE.search(self.reason))

    def text(self) -> str:
        said = f"{self.code}" if self.code is not None else "no code"
        if self.reason:
            said += f' "{self.reason}"'
        return f"{self.message} {self.header}: {said}" + "".join(f"; {m.text()}" for m in self.media)


def client_report(diagnostic: DiagnosticHeader) -> ClientReport | None:
    """What a Microsoft diagnostics header says; None for other headers (Reason)."""
    if not diagnostic.header.lower().startswith(("ms-client-diagnostics", "ms-diagnostics")):
        return None
    media = []
    for side, body in _MEDIA_DEBUG.findall(diagnostic.value):
        for name, section in _MEDIA_SECTION.findall(body):
            fields = dict(item.split("=", 1) for item in section.split(",") if "=" in item)
            media.append(MediaDebug(side.lower(), name, fields))
    return ClientReport(diagnostic.message, diagnostic.header, diagnostic.code, diagnostic.reason, media)
