"""IcmpError: an ICMP/ICMPv6 error that quotes a UDP datagram, kept as evidence for a check."""

from __future__ import annotations

from dataclasses import dataclass

from icetrace.records.endpoint import Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpError:
    """`reporter` sent it; `quoted_src`/`quoted_dst` are the datagram it complains about."""

    frame: int
    time: float
    reporter: str
    quoted_src: Endpoint
    quoted_dst: Endpoint
    version: int  # 4 or 6
    type: int
    code: int

    @property
    def text(self) -> str:
        if self.version == 4 and self.type == 3:
            reason = {
                0: "net unreachable",
                1: "host unreachable",
                3: "port unreachable",
                13: "administratively prohibited",
            }.get(self.code, f"unreachable (code {self.code})")
        elif self.version == 6 and self.type == 1:
            reason = {
                0: "no route",
                1: "administratively prohibited",
                3: "address unreachable",
                4: "port unreachable",
            }.get(self.code, f"unreachable (code {self.code})")
        else:
            reason = f"type {self.type} code {self.code}"
        return f"ICMP {reason} from {self.reporter}"
