"""What a Microsoft client said about a call, read from its SIP diagnostics headers.

Lync/Skype for Business clients end a call with `ms-client-diagnostics` (a code and a
reason) and, per media, a `CallerMediaDebug`/`CalleeMediaDebug` parameter holding the
client's own ICE summary: an ICEWarn bit mask and the addresses it used (LocalSite,
LocalMR, RemoteSite, RemoteMR). Engineers compare that claim with the packets; the
research catalogue's D26 asks icetrace to do it. The ICEWarn bits are not decoded here:
no specification of them is available to cite, so the value is shown as sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from icetrace.signaling.sip import header_param

_MEDIA_DEBUG = re.compile(r'(Caller|Callee)MediaDebug="([^"]*)"', re.IGNORECASE)
_MEDIA_SECTION = re.compile(r"(?:^|\s)([A-Za-z-]+):(\S+)")
_ADDRESS_KEYS = ("LocalSite", "LocalMR", "RemoteSite", "RemoteMR")
_CONNECTIVITY_FAILURE = re.compile(r"(media )?connectivity.*fail|fail.*(media )?connectivity|\bICE\b.*fail", re.I)


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


def parse_diagnostic(line: str) -> ClientReport | None:
    """A signaling model's diagnostics line, `<message>: <header>: <value>[ [code ...]]`, or None."""
    message, _, rest = line.partition(": ")
    header, _, value = rest.partition(": ")
    if not value or not header.lower().startswith(("ms-client-diagnostics", "ms-diagnostics")):
        return None
    value = value.split(" [code ", 1)[0]  # the model's own explanation, added after the value
    code_text, _, params = value.partition(";")
    code = int(code_text.strip()) if code_text.strip().isdigit() else None
    reason = header_param(";" + params, "reason") if params else None
    media = []
    for side, body in _MEDIA_DEBUG.findall(value):
        for name, section in _MEDIA_SECTION.findall(body):
            fields = dict(item.split("=", 1) for item in section.split(",") if "=" in item)
            media.append(MediaDebug(side.lower(), name, fields))
    return ClientReport(message, header, code, reason, media)


def client_reports(diagnostics: list[str]) -> list[ClientReport]:
    return [r for r in map(parse_diagnostic, diagnostics) if r is not None]
