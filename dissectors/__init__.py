"""STUN, TURN, MS-TURN and ICE dissectors: fast codecs plus Scapy layers.

`dissectors.codec`, `.classify`, `.framing` and `.checks` import no Scapy, so the
per-packet path of capture input stays cheap; `dissectors.stun` holds the Scapy
layers, built on the same registry and value codecs. This package never imports
icetrace.
"""
