"""A transport address (IP and port) as it appears in every table and report."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.protocol_number import ascii_number


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """An IP address (text form, IPv6 compressed) and a port.

    `unknown` names an address the capture never showed (a TURN peer whose ChannelBind, or a relayed
    address whose Allocate, is not in it) by what stands for it: it is what the address reads as, so
    no report invents an IP or a port 0 for it (`ice/relaying.py` makes them)."""

    ip: str
    port: int
    unknown: str = ""

    def __str__(self) -> str:
        if self.unknown:
            return self.unknown
        if ":" in self.ip:
            return f"[{self.ip}]:{self.port}"
        return f"{self.ip}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """Read `IP:PORT` or `[IPv6]:PORT`; raises ValueError naming the text."""
        if text.startswith("["):
            host, sep, port = text[1:].partition("]:")
        else:
            host, sep, port = text.rpartition(":")
        number = ascii_number(port, 5)
        if not sep or not host or number is None or number > 65535:
            raise ValueError(f"not an IP:PORT transport address: {text[:80]!r}")
        return cls(host, number)
