"""`icetrace decode HEX|BASE64`: dissect one message typed or pasted by hand."""

from __future__ import annotations

import argparse
import base64
import binascii
import struct
from typing import Any, TextIO

from dissectors.checks import short_term_key, verify_integrity
from dissectors.codec import decode_channel_data, decode_stun
from icetrace.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("decode", help="decode one STUN/TURN message given as hex or base64")
    parser.add_argument("message", help="the message bytes as hex (spaces allowed) or base64")
    parser.add_argument("--password", help="short-term key (ICE password) to verify MESSAGE-INTEGRITY")
    parser.add_argument("--scapy", action="store_true", help="also print Scapy's show()")
    parser.set_defaults(run=run)


def parse_bytes(text: str) -> bytes:
    compact = "".join(text.split()).removeprefix("0x")
    if not compact:
        raise InputError("message is empty: give its bytes as hex or base64")
    try:
        return bytes.fromhex(compact)
    except ValueError:
        pass
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("message is neither hex nor base64") from None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    data = parse_bytes(args.message)
    if data[:1] and 0x40 <= data[0] <= 0x7F or data[:2] == b"\xff\x10":
        cd = decode_channel_data(data)
        if cd is not None:
            out.write(f"ChannelData channel=0x{cd.channel:04x} length={cd.length}\n")
            data = cd.payload
    msg = decode_stun(data)
    out.write(f"{msg.method_name} {msg.cls}  dialect={msg.dialect}  type=0x{msg.type:04x}  length={msg.length}\n")
    out.write(f"transaction id {msg.transaction_id.hex()}\n")
    for attr in msg.attributes:
        value = attr.value
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            shown = f"{value[0]}:{value[1]}" if ":" not in value[0] else f"[{value[0]}]:{value[1]}"
        elif isinstance(value, bytes):
            shown = value.hex() if any(b < 0x20 or b > 0x7E for b in value) else value.decode()
        else:
            shown = repr(value)
        out.write(f"  0x{attr.type:04x} {attr.name:28} ({attr.length:>3}) {shown}\n")
    out.write(f"fingerprint: {msg.fingerprint}\n")
    if args.password is not None:
        out.write(f"message-integrity: {verify_integrity(msg.raw, short_term_key(args.password))}\n")
    for anomaly in msg.anomalies:
        out.write(f"anomaly: {anomaly}\n")
    if args.scapy:
        from scapy.packet import Raw

        from dissectors.stun import STUN

        try:
            packet = STUN(data)
            dump = packet.show(dump=True)
        except (struct.error, ValueError, IndexError) as exc:
            # Scapy's fields unpack without a length check: a damaged message can still stop them
            raise InputError(f"Scapy cannot dissect this {len(data)}-byte message as STUN: {exc}") from None
        if isinstance(packet, Raw):  # the layer's demux found neither a STUN header nor a ChannelData frame
            raise InputError(
                f"Scapy cannot dissect this {len(data)}-byte message as STUN: "
                "neither a 20-byte STUN header nor a whole ChannelData frame"
            )
        out.write(f"{dump}\n")
    return 0
