"""Link-layer types (tcpdump.org LINKTYPE_*) as the link decoder understands them.

Every capture format labels its frames with these; formats without a pcap link type
for a medium (Network Monitor) use the negative values below.
"""

from __future__ import annotations

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_RAW_ALT12 = 12
LINKTYPE_RAW_ALT14 = 14
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_IEEE802_11 = 105
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_NETMON_UNSUPPORTED = -1  # a Network Monitor media type we cannot decode
LINKTYPE_NETMON_802_11 = -2  # Network Monitor's own 802.11 radio header (no pcap link type exists)
