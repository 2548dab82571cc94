/* The per-frame loop of capture reading, for pcap, pcapng and Network Monitor 2.x bodies.
 *
 * A gigabyte capture is a million frames, nearly all RTP. Deciding per frame in
 * Python costs seconds; here one C loop walks the records (Network Monitor: where its
 * frame table says), follows the link and IP headers (and GRE/ERSPAN/VXLAN tunnels),
 * and only counts (per 5-tuple and kind) the UDP datagrams that RFC 7983's first byte
 * marks as RTP/RTCP, DTLS or ZRTP, and skips the TCP flows Python has decided not to
 * follow (but their FIN or RST, which ends what both sides keep for the flow). Every other frame is handed back to Python by offset, so the
 * decisions that need state (STUN, SIP, TCP streams, fragments) stay in
 * one place: icetrace/capture/packet_source.py. The rules here mirror that module's
 * exactly, and the first-byte ranges below are dissectors/demux.py's table (RFC 7983);
 * tests/capture/test_demux.py holds both to the same answer on every first byte.
 *
 * On a relay's capture nearly every frame is media wrapped for TURN. When asked
 * (count_relayed), UDP ChannelData and Send/Data indications (MS-TURN Send requests and
 * Data indications) that carry no STUN are counted here too, keyed as
 * icetrace/records/relayed.py keys them. Only the plainest layouts are counted; anything
 * else is handed back, to be decoded or counted there. The 5-tuples that carried STUN are
 * state the packet source learns from the STUN frames it is handed: the first such frame of
 * each 5-tuple is always handed back, and this side remembers the 5-tuple too, so every
 * 5-tuple known here is known there.
 *
 * Anything unusual (a non-packet pcapng block, a damaged length, an unknown
 * interface) stops the walk and is left to the Python reader, which reports it.
 */
#include "_flow_table.h"
#include "_relayed_rows.h"

#define FORMAT_PCAP 0
#define FORMAT_PCAPNG 1
#define FORMAT_NETMON 2

#define STATUS_MORE 0    /* the next record is not complete in the buffer */
#define STATUS_BLOCK 1   /* pcapng: a block Python must read (not a plain EPB) */
#define STATUS_DAMAGE 2  /* pcap: implausible record length */

#define PCAP_MAX_RECORD (262144 * 4)  /* same limit as the Python reader */
/* number, data offset, captured length, original length, ticks, interface (Network Monitor: the
 * time base, 0 = microseconds since the capture started, 1 = UTC FILETIME), link type */
#define KEPT_FIELDS 7

/* how relayed data travelled: records/relayed.py's `via` names, in this order */
enum { VIA_CHANNELDATA, VIA_SEND, VIA_DATA, VIA_MS_SEND, VIA_MS_DATA };
enum { FRAME_KEEP, FRAME_COUNTED, FRAME_SKIPPED, FRAME_LISTED };
#define TCP_FIN 0x01
#define TCP_RST 0x04

typedef struct {
    PyObject_HEAD
    int format;
    int big;
    int pcap_linktype;
    uint64_t pcap_divisor;
    uint32_t pcap_max_record; /* a longer record, or one over its original length, is damage */
    int32_t *iface_link;
    Py_ssize_t n_iface;
    uint32_t iface_base; /* interfaces of earlier sections: reported ids are file-wide */
    int netmon_trailer;  /* bytes after each Network Monitor frame: 0, 2, 6 or 15 */
    int32_t *media_link; /* Network Monitor media type -> link type, 65536 entries */
    uint64_t number;
    uint64_t counted;
    uint64_t skipped;
    int busy; /* walk() runs without the GIL: one caller at a time */
    FlowTable flows;   /* media counted per 5-tuple and kind */
    FlowTable ignored; /* TCP directions to skip (only the key is used) */
    int relay;         /* count relayed media (count_relayed) */
    FlowTable relayed; /* relayed media per 5-tuple, via, channel, peer and kind */
    FlowTable pairs;   /* 5-tuples that carried STUN, both ways (only the key is used) */
    uint64_t *latest;  /* per interface: the latest ticks of a counted indication */
    uint8_t *has_latest;
    Lister *lister;    /* write relayed media rows (list_relayed) */
    uint64_t *ends;    /* per interface: the latest ticks of a frame not handed back (the capture's end) */
    uint8_t *has_end;
} Skimmer;

static inline uint32_t rd32(const uint8_t *p, int big) {
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static int count_in(FlowTable *t, const uint8_t *key, uint64_t number, uint64_t ticks, uint32_t iface,
                    uint64_t size) {
    int created = 0, error = 0;
    Flow *f = table_find(t, key, 1, &created, &error);
    if (!f) return -1;
    if (created) {
        f->first_number = number;
        f->first_ticks = ticks;
        f->first_iface = iface;
    }
    f->last_number = number;
    f->last_ticks = ticks;
    f->last_iface = iface;
    f->packets++;
    f->bytes += size;
    return 0;
}

static int count_media(Skimmer *s, const uint8_t *key, uint64_t number, uint64_t ticks, uint32_t iface,
                       uint64_t size) {
    return count_in(&s->flows, key, number, ticks, iface, size);
}

static int is_ignored(Skimmer *s, const uint8_t *key) { return holds(&s->ignored, key); }

/* Remove `key`, if present, shifting the entries after it back (linear probing keeps no tombstones). */
static void table_remove(FlowTable *t, const uint8_t *key) {
    if (!t->used) return;
    size_t mask = t->cap - 1, i = hash_key(key) & mask;
    while (t->slots[i].used && memcmp(t->slots[i].key, key, KEY_SIZE) != 0) i = (i + 1) & mask;
    if (!t->slots[i].used) return;
    for (;;) {
        t->slots[i].used = 0;
        size_t k = i;
        for (;;) {
            k = (k + 1) & mask;
            if (!t->slots[k].used) {
                t->used--;
                return;
            }
            size_t home = hash_key(t->slots[k].key) & mask;
            /* the entry at k stays when its home lies cyclically in (i, k] */
            if (i <= k ? (i < home && home <= k) : (i < home || home <= k)) continue;
            break;
        }
        t->slots[i] = t->slots[k];
        i = k;
    }
}

/* IP inside an 802.11 data frame (LLC/SNAP), as network._dot11_ip_offset, or -1. */
static long dot11_ip_offset(const uint8_t *d, uint32_t len, uint32_t start) {
    if ((uint64_t)start + 24 > len) return -1;
    uint8_t control = d[start], flags = d[start + 1];
    unsigned subtype = control >> 4;
    if (((control >> 2) & 3) != 2 || (subtype & 0x4) || (flags & 0x40)) return -1;
    uint32_t header = 24;
    if ((flags & 0x03) == 0x03) header += 6;
    if (subtype & 0x8) {
        header += 2;
        if (flags & 0x80) header += 4;
    }
    uint64_t llc = (uint64_t)start + header;
    if (llc + 8 > len || d[llc] != 0xAA || d[llc + 1] != 0xAA || d[llc + 2] != 0x03) return -1;
    unsigned ethertype = be16(d + llc + 6);
    return (ethertype == 0x0800 || ethertype == 0x86DD) ? (long)(llc + 8) : -1;
}

/* Offset of the IP header (the rules of network.ip_offset), or -1. */
static long ip_offset(const uint8_t *d, uint32_t len, int linktype) {
    switch (linktype) {
    case 1: {
        if (len < 14) return -1;
        unsigned et = be16(d + 12);
        uint32_t off = 14;
        while ((et == 0x8100 || et == 0x88A8 || et == 0x9100) && len >= off + 4) {
            et = be16(d + off + 2);
            off += 4;
        }
        if (et == 0x0800 || et == 0x86DD) return (long)off;
        if (et == 0x8864) { /* PPPoE session, then PPP's protocol: network._ip_after */
            if (len < off + 8) return -1;
            unsigned ppp = be16(d + off + 6);
            return (ppp == 0x0021 || ppp == 0x0057) ? (long)off + 8 : -1;
        }
        if (et == 0x8847 || et == 0x8848) { /* MPLS: IP after the bottom of the label stack */
            while (len >= off + 4) {
                int bottom = d[off + 2] & 0x01;
                off += 4;
                if (bottom) return (len > off && (d[off] >> 4 == 4 || d[off] >> 4 == 6)) ? (long)off : -1;
            }
        }
        return -1;
    }
    case 101: case 12: case 14: case 228: case 229:
        return 0;
    case 113:
        if (len < 16) return -1;
        return (be16(d + 14) == 0x0800 || be16(d + 14) == 0x86DD) ? 16 : -1;
    case 276:
        if (len < 20) return -1;
        return (be16(d) == 0x0800 || be16(d) == 0x86DD) ? 20 : -1;
    case 0: case 108: {
        if (len < 4) return -1;
        uint32_t family = (linktype == 0 && d[0]) ? rd32(d, 0) : rd32(d, 1);
        return (family == 2 || family == 24 || family == 28 || family == 30) ? 4 : -1;
    }
    case 105: /* 802.11 */
        return dot11_ip_offset(d, len, 0);
    case 127: /* radiotap: header length (LE) at 2 */
        return len < 4 ? -1 : dot11_ip_offset(d, len, (uint32_t)(d[2] | d[3] << 8));
    case -2: /* Network Monitor's 802.11 radio header: its length (LE) at 1 */
        return len < 3 ? -1 : dot11_ip_offset(d, len, (uint32_t)(d[1] | d[2] << 8));
    default:
        return -1;
    }
}

#define MAX_TUNNELS 2 /* tunnels opened inside one another, as packet_source._untunnel */
#define VXLAN_PORT 4789

/* The frame inside GRE (IP, transparent Ethernet bridging, ERSPAN I-III): network.tunnel_inner. */
static const uint8_t *gre_inner(const uint8_t *g, uint32_t glen, uint32_t *inner_len, int *inner_link) {
    if (glen < 4) return NULL;
    uint8_t flags = g[0];
    if ((g[1] & 0x07) || (flags & 0x40)) return NULL;
    uint32_t off = 4 + 4 * ((flags >> 7) + ((flags >> 5) & 1) + ((flags >> 4) & 1));
    unsigned ethertype = be16(g + 2);
    if (ethertype == 0x0800 || ethertype == 0x86DD) {
        *inner_link = 101;
    } else if (ethertype == 0x6558) {
        *inner_link = 1;
    } else if (ethertype == 0x88BE) {
        off += (flags & 0x10) ? 8 : 0;
        *inner_link = 1;
    } else if (ethertype == 0x22EB && glen >= off + 12) {
        off += (g[off + 11] & 0x01) ? 20 : 12;
        *inner_link = 1;
    } else {
        return NULL;
    }
    if (off > glen) off = glen;
    *inner_len = glen - off;
    return g + off;
}

/* -- relayed media (count_relayed) -------------------------------------------------------- */

#define MS_COOKIE_VALUE 0x72C64BC6u /* [MS-TURN] MAGIC-COOKIE attribute */
#define ATTR_MAGIC_COOKIE 0x000F
#define ATTR_DESTINATION_ADDRESS 0x0011
#define ATTR_PEER 0x0012 /* XOR-PEER-ADDRESS; MS-TURN's REMOTE-ADDRESS (plain) */
#define ATTR_DATA 0x0013
#define ATTR_MS_VERSION 0x8008
#define ATTR_CANDIDATE_IDENTIFIER 0x8054
#define ATTR_IMPLEMENTATION_VERSION 0x8070

/* dissectors.demux.media_kind; -1 for STUN (a relayed check: Python decodes it) */
static int payload_kind(const uint8_t *d, uint32_t n) {
    if (!n) return KIND_DATA;
    uint8_t b = d[0];
    if (b <= 3) return -1;
    if (b >= 16 && b <= 19) return KIND_ZRTP;
    if (b >= 20 && b <= 63) return KIND_DTLS;
    if (b >= 64 && b <= 79) return KIND_CHANNELDATA;
    if (b >= 128 && b <= 191) return (n > 1 && d[1] >= 192 && d[1] <= 223) ? KIND_RTCP : KIND_RTP;
    return KIND_DATA;
}

/* The attributes of a message from offset 20 to `end`, 4-byte padded or not: 1 when they end
 * exactly at `end` (codec._walk_attributes without a problem). */
static int walk_ends_clean(const uint8_t *m, uint32_t end, int padded) {
    uint32_t pos = 20;
    while (pos < end) {
        if (pos + 4 > end) return 0;
        uint32_t alen = be16(m + pos + 2);
        if (pos + 4 + alen > end) return 0;
        pos += 4 + alen;
        if (padded && (alen & 3)) pos += 4 - (alen & 3);
    }
    return pos == end;
}

typedef struct {
    int via;
    const uint8_t *data; /* the DATA attribute's value */
    uint32_t data_len;
    int peer_family; /* 0: no peer attribute */
    uint8_t peer[16];
    uint16_t peer_port;
} Wrapped;

/* A Send/Data indication (RFC 8656 §11) or MS-TURN Send request / Data indication whose layout
 * decodes the same in dissectors/codec.py without question: the codec's dialect and attribute
 * walk, one DATA attribute, the first peer attribute a well-formed address. 0 for anything else. */
static int parse_wrapped(const uint8_t *m, uint32_t n, Wrapped *w) {
    uint16_t type = be16(m);
    int has_cookie = m[4] == 0x21 && m[5] == 0x12 && m[6] == 0xA4 && m[7] == 0x42;
    int padded, xor_peer, peer_type;
    if (type == 0x0016 || type == 0x0017) {
        /* RFC 5389 dialect: the cookie, a padded walk that ends cleanly, no MS marker attribute */
        if (!has_cookie || !walk_ends_clean(m, n, 1)) return 0;
        padded = 1;
        xor_peer = 1;
        peer_type = ATTR_PEER;
        w->via = type == 0x0016 ? VIA_SEND : VIA_DATA;
    } else if (type == 0x0004 || type == 0x0115) {
        /* MS-TURN dialect: MAGIC-COOKIE first; the unpadded walk if it ends cleanly, else the padded one */
        if (n < 28 || be16(m + 20) != ATTR_MAGIC_COOKIE || be16(m + 22) != 4 || be32(m + 24) != MS_COOKIE_VALUE)
            return 0;
        if (walk_ends_clean(m, n, 0))
            padded = 0;
        else if (walk_ends_clean(m, n, 1))
            padded = 1;
        else
            return 0;
        xor_peer = 0;
        peer_type = type == 0x0004 ? ATTR_DESTINATION_ADDRESS : ATTR_PEER;
        w->via = type == 0x0004 ? VIA_MS_SEND : VIA_MS_DATA;
    } else {
        return 0;
    }
    int datas = 0;
    w->peer_family = 0;
    w->data = NULL;
    w->data_len = 0;
    int peer_seen = 0;
    uint32_t pos = 20;
    while (pos < n) {
        uint16_t atype = be16(m + pos);
        uint32_t alen = be16(m + pos + 2);
        const uint8_t *v = m + pos + 4;
        if (w->via <= VIA_DATA && (atype == ATTR_MAGIC_COOKIE || atype == ATTR_MS_VERSION ||
                                   atype == ATTR_CANDIDATE_IDENTIFIER || atype == ATTR_IMPLEMENTATION_VERSION))
            return 0; /* another dialect */
        if (atype == ATTR_DATA) {
            datas++;
            w->data = v;
            w->data_len = alen;
        } else if (atype == peer_type && !peer_seen) {
            peer_seen = 1;
            /* codec._decode_plain_address / _decode_xor_address; a malformed one: Python decides */
            if (alen < 4) return 0;
            uint16_t port = be16(v + 2);
            if (v[1] == 1 && alen == 8) {
                w->peer_family = 4;
                memcpy(w->peer, v + 4, 4);
                if (xor_peer)
                    for (int i = 0; i < 4; i++) w->peer[i] ^= m[4 + i];
            } else if (v[1] == 2 && alen == 20) {
                w->peer_family = 6;
                memcpy(w->peer, v + 4, 16);
                if (xor_peer)
                    for (int i = 0; i < 16; i++) w->peer[i] ^= m[4 + i];
            } else {
                return 0;
            }
            w->peer_port = xor_peer ? (uint16_t)(port ^ 0x2112) : port;
        }
        pos += 4 + alen;
        if (padded && (alen & 3)) pos += 4 - (alen & 3);
    }
    return datas == 1;
}

static void make_relay_key(uint8_t *key, int version, int via, int kind, uint16_t sport, uint16_t dport,
                           const uint8_t *src, const uint8_t *dst, uint16_t channel, const Wrapped *w) {
    make_key(key, version, kind, sport, dport, src, dst);
    key[2] = (uint8_t)via;
    key[40] = channel >> 8;
    key[41] = channel & 0xFF;
    if (w && w->peer_family) {
        key[3] = (uint8_t)w->peer_family;
        key[42] = w->peer_port >> 8;
        key[43] = w->peer_port & 0xFF;
        memcpy(key + 44, w->peer, w->peer_family == 4 ? 4 : 16);
    }
}

/* A UDP datagram with a STUN or ChannelData first byte, when counting relayed media:
 * 1 counted, 0 handed back, -1 out of memory. The packet source's rules (packet_source.py). */
static int count_relayed(Skimmer *s, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                         uint16_t dport, const uint8_t *p, uint32_t n, uint64_t number, uint64_t ticks,
                         uint32_t iface) {
    uint8_t key[KEY_SIZE];
    make_key(key, version, KIND_PAIR, sport, dport, src, dst);
    int known = holds(&s->pairs, key);
    if (p[0] <= 3) {
        if (n < 20 || 20 + (uint32_t)be16(p + 2) != n) return 0; /* not STUN to the packet source either */
        if (!known) {
            /* the packet source learns this 5-tuple, both ways, from this message: so does this side */
            int created = 0, error = 0;
            if (!table_find(&s->pairs, key, 1, &created, &error)) return -1;
            make_key(key, version, KIND_PAIR, dport, sport, dst, src);
            if (!table_find(&s->pairs, key, 1, &created, &error)) return -1;
            return 0;
        }
        Wrapped w;
        if (!parse_wrapped(p, n, &w)) return 0;
        int kind = payload_kind(w.data, w.data_len);
        if (kind < 0) return 0;
        make_relay_key(key, version, w.via, kind, sport, dport, src, dst, 0, &w);
        if (count_in(&s->relayed, key, number, ticks, iface, w.data_len) < 0) return -1;
        if (iface < MAX_INTERFACES && (!s->has_latest[iface] || ticks > s->latest[iface])) {
            s->latest[iface] = ticks;
            s->has_latest[iface] = 1;
        }
        return 1;
    }
    /* ChannelData (demux.channel_data_fits) on a TURN port or a 5-tuple that carried STUN */
    if (n < 4) return 0;
    uint32_t declared = be16(p + 2);
    if (4 + declared > n || n > 4 + declared + 3) return 0;
    if (!(TURN_PORT(sport) || TURN_PORT(dport) || known)) return 0;
    if (n > 4 && p[4] <= 3) return 0; /* a relayed check: decoded in Python */
    int kind = payload_kind(p + 4, declared);
    if (kind < 0) return 0;
    make_key(key, version, KIND_CHANNELDATA, sport, dport, src, dst);
    if (count_media(s, key, number, ticks, iface, n) < 0) return -1;
    make_relay_key(key, version, VIA_CHANNELDATA, kind, sport, dport, src, dst, be16(p), NULL);
    if (count_in(&s->relayed, key, number, ticks, iface, declared) < 0) return -1;
    return 1;
}

/* What to do with one frame: count it as media, skip it, or hand it to Python. */
/* An IP datagram the walk leaves to Python although its addresses are known: when listing,
 * what it carries is Python's to know (a fragmented ChannelBind, say). */
static int keep_opaque(Skimmer *s, int version, const uint8_t *src, const uint8_t *dst, int *error) {
    if (s->lister && lister_opaque(s->lister, version, src, dst) < 0) *error = 1;
    return FRAME_KEEP;
}

/* A UDP datagram (not VXLAN): counted as media, listed, counted as relayed media, or kept. */
static int classify_udp(Skimmer *s, int version, const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
                        const uint8_t *payload, uint32_t size, uint64_t number, uint64_t ticks, uint32_t iface,
                        int *error) {
    uint8_t b0 = payload[0];
    if (s->lister && (b0 <= 3 || (b0 >= 64 && b0 <= 79) || b0 == 0xFF)) {
        int listed = lister_udp(s->lister, &s->pairs, version, src, dst, be16(udp), be16(udp + 2), payload, size,
                                number, ticks, iface);
        if (listed < 0) *error = 1;
        return listed > 0 ? FRAME_LISTED : FRAME_KEEP;
    }
    if (s->relay && (b0 <= 3 || (b0 >= 64 && b0 <= 79))) {
        int counted = count_relayed(s, version, src, dst, be16(udp), be16(udp + 2), payload, size, number, ticks,
                                    iface);
        if (counted < 0) *error = 1;
        return counted > 0 ? FRAME_COUNTED : FRAME_KEEP;
    }
    int kind;
    if (b0 >= 128 && b0 <= 191)
        kind = (size > 1 && payload[1] >= 192 && payload[1] <= 223) ? KIND_RTCP : KIND_RTP;
    else if (b0 >= 20 && b0 <= 63)
        kind = KIND_DTLS;
    else if (b0 >= 16 && b0 <= 19)
        kind = KIND_ZRTP;
    else
        return FRAME_KEEP;
    uint8_t key[KEY_SIZE];
    make_key(key, version, kind, be16(udp), be16(udp + 2), src, dst);
    if (count_media(s, key, number, ticks, iface, size) < 0) {
        *error = 1;
        return FRAME_KEEP;
    }
    return FRAME_COUNTED;
}

/* What to do with one frame: count it as media, list it, skip it, or hand it to Python. */
static int classify(Skimmer *s, const uint8_t *d, uint32_t len, int linktype, uint64_t number, uint64_t ticks,
                    uint32_t iface, int *error, int depth) {
    long off = ip_offset(d, len, linktype);
    if (off < 0 || len < (uint32_t)off + 20) return FRAME_SKIPPED; /* no IP: IpDecoder.decode gives None */
    const uint8_t *ip = d + off;
    int version = ip[0] >> 4;
    const uint8_t *src, *dst;
    uint32_t l4, end, proto;
    if (version == 4) {
        uint32_t ihl = (ip[0] & 0x0F) * 4u;
        uint32_t total = be16(ip + 2);
        src = ip + 12;
        dst = ip + 16;
        if (ihl < 20) return keep_opaque(s, version, src, dst, error);
        if (be16(ip + 6) & 0x3FFF) return keep_opaque(s, version, src, dst, error); /* reassembled in Python */
        end = (total >= ihl && (uint32_t)off + total < len) ? (uint32_t)off + total : len;
        proto = ip[9];
        l4 = (uint32_t)off + ihl;
    } else if (version == 6) {
        if (len < (uint32_t)off + 40) return FRAME_KEEP;
        uint32_t plen = be16(ip + 4);
        proto = ip[6]; /* extension headers: left to Python */
        src = ip + 8;
        dst = ip + 24;
        l4 = (uint32_t)off + 40;
        end = (plen && l4 + plen < len) ? l4 + plen : len;
    } else {
        return FRAME_KEEP;
    }
    if (proto == 47) {
        uint32_t inner_len;
        int inner_link;
        const uint8_t *inner = depth < MAX_TUNNELS && l4 <= end ? gre_inner(d + l4, end - l4, &inner_len, &inner_link)
                                                                : NULL;
        return inner ? classify(s, inner, inner_len, inner_link, number, ticks, iface, error, depth + 1)
                     : keep_opaque(s, version, src, dst, error);
    }
    if (proto == 17) {
        if (l4 + 8 >= end) return FRAME_KEEP; /* no payload: Python drops it */
        const uint8_t *payload = d + l4 + 8;
        uint32_t size = end - l4 - 8;
        if (be16(d + l4 + 2) == VXLAN_PORT && size >= 22 && (payload[0] & 0x08)) { /* RFC 7348 */
            if (depth >= MAX_TUNNELS) return keep_opaque(s, version, src, dst, error);
            return classify(s, payload + 8, size - 8, 1, number, ticks, iface, error, depth + 1);
        }
        return classify_udp(s, version, src, dst, d + l4, payload, size, number, ticks, iface, error);
    }
    if (proto == 6 && l4 + 20 <= end) {
        uint8_t key[KEY_SIZE];
        make_key(key, version, KIND_TCP, be16(d + l4), be16(d + l4 + 2), src, dst);
        if (is_ignored(s, key)) {
            uint8_t flags = d[l4 + 13];
            if (!(flags & (TCP_FIN | TCP_RST))) return FRAME_SKIPPED;
            /* the direction ends (an RST ends both): forgotten here, and the frame goes to Python,
             * which forgets it too */
            table_remove(&s->ignored, key);
            if (flags & TCP_RST) {
                make_key(key, version, KIND_TCP, be16(d + l4 + 2), be16(d + l4), dst, src);
                table_remove(&s->ignored, key);
            }
            return FRAME_KEEP;
        }
        if (!s->lister) return FRAME_KEEP;
        int listed = lister_tcp(s->lister, version, src, dst, d + l4, end - l4, number, ticks, iface);
        if (listed < 0) *error = 1;
        return listed == 1 ? FRAME_LISTED : listed == 2 ? FRAME_SKIPPED : FRAME_KEEP;
    }
    if (proto == 1 || proto == 58) return FRAME_KEEP; /* ICMP errors: evidence, never messages */
    return keep_opaque(s, version, src, dst, error);
}

typedef struct {
    uint64_t *fields; /* KEPT_FIELDS per frame handed back */
    size_t count, cap;
} Kept;

static int kept_push(Kept *k, uint64_t number, uint64_t offset, uint64_t caplen, uint64_t orig, uint64_t ticks,
                     uint64_t iface, int linktype) {
    if (k->count + KEPT_FIELDS > k->cap) {
        size_t grown_cap = k->cap ? k->cap * 2 : KEPT_FIELDS * 1024;
        uint64_t *grown = realloc(k->fields, grown_cap * sizeof(uint64_t));
        if (!grown) return -1;
        k->fields = grown;
        k->cap = grown_cap;
    }
    uint64_t *o = k->fields + k->count;
    o[0] = number;
    o[1] = offset;
    o[2] = caplen;
    o[3] = orig;
    o[4] = ticks;
    o[5] = iface;
    o[6] = (uint64_t)(int64_t)linktype;
    k->count += KEPT_FIELDS;
    return 0;
}

/* One frame: counted as media, skipped, or kept for Python. -1: out of memory. */
static int take_frame(Skimmer *s, Kept *kept, const uint8_t *data, uint32_t caplen, uint32_t orig, int linktype,
                      uint64_t number, uint64_t offset, uint64_t ticks, uint32_t iface) {
    int error = 0;
    int what = classify(s, data, caplen, linktype, number, ticks, iface, &error, 0);
    if (error) return -1;
    if (what == FRAME_KEEP) return kept_push(kept, number, offset, caplen, orig, ticks, iface, linktype);
    if (iface < MAX_INTERFACES && (!s->has_end[iface] || ticks > s->ends[iface])) {
        s->ends[iface] = ticks;
        s->has_end[iface] = 1;
    }
    if (what == FRAME_COUNTED || what == FRAME_LISTED)
        s->counted++;
    else
        s->skipped++;
    return 0;
}

/* The result tuple of a walk: (kept fields as bytes, position, status); frees the kept array. */
static PyObject *walk_result(Kept *kept, Py_ssize_t position, int status, int error) {
    PyObject *result = NULL;
    if (error)
        PyErr_NoMemory();
    else
        result = Py_BuildValue("y#ni", (const char *)kept->fields, (Py_ssize_t)(kept->count * sizeof(uint64_t)),
                               position, status);
    free(kept->fields);
    return result;
}

/* The skimmer's tables are changed by walk() with the GIL released: nothing else may run meanwhile. */
#define REFUSE_WHILE_BUSY(s)                                                              \
    if ((s)->busy) {                                                                      \
        PyErr_SetString(PyExc_RuntimeError, "the skimmer is walking in another thread");  \
        return NULL;                                                                      \
    }

/* walk(buffer) -> (kept: bytes of KEPT_FIELDS uint64 per frame, consumed: int, status: int) */
static PyObject *Skimmer_walk(Skimmer *s, PyObject *args) {
    Py_buffer view;
    REFUSE_WHILE_BUSY(s)
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    s->busy = 1;
    const uint8_t *p = (const uint8_t *)view.buf;
    size_t n = (size_t)view.len, pos = 0;
    Kept kept = {NULL, 0, 0};
    int status = STATUS_MORE, error = 0;
    Py_BEGIN_ALLOW_THREADS
    if (s->format == FORMAT_PCAP) {
        uint64_t divisor = s->pcap_divisor;
        while (pos + 16 <= n) {
            const uint8_t *h = p + pos;
            uint32_t incl = rd32(h + 8, s->big);
            if (incl > s->pcap_max_record || incl > rd32(h + 12, s->big)) { /* pcap.record_damage */
                status = STATUS_DAMAGE;
                break;
            }
            if (pos + 16 + incl > n) break;
            uint64_t number = ++s->number;
            uint64_t ticks = (uint64_t)rd32(h, s->big) * divisor + rd32(h + 4, s->big);
            if (take_frame(s, &kept, h + 16, incl, rd32(h + 12, s->big), s->pcap_linktype, number, pos + 16, ticks,
                           0) < 0) {
                error = 1;
                break;
            }
            pos += 16 + incl;
        }
    } else {
        while (pos + 8 <= n) {
            const uint8_t *h = p + pos;
            uint32_t btype = rd32(h, s->big), blen = rd32(h + 4, s->big);
            if (btype != 6 || blen < 32 || blen % 4 || blen > (1u << 26)) {
                status = STATUS_BLOCK;
                break;
            }
            if (pos + blen > n) break;
            if (rd32(h + blen - 4, s->big) != blen) { /* the trailing length disagrees: damage */
                status = STATUS_BLOCK;
                break;
            }
            uint32_t iface = rd32(h + 8, s->big), caplen = rd32(h + 20, s->big);
            if (iface >= (uint32_t)s->n_iface || iface >= MAX_INTERFACES || 28 + (uint64_t)caplen > blen - 4) {
                status = STATUS_BLOCK;
                break;
            }
            uint64_t number = ++s->number;
            uint64_t ticks = (uint64_t)rd32(h + 12, s->big) << 32 | rd32(h + 16, s->big);
            uint32_t file_iface = s->iface_base + iface;
            if (take_frame(s, &kept, h + 28, caplen, rd32(h + 24, s->big), s->iface_link[iface], number, pos + 28,
                           ticks, file_iface) < 0) {
                error = 1;
                break;
            }
            pos += blen;
        }
    }
    Py_END_ALLOW_THREADS
    s->busy = 0;
    PyBuffer_Release(&view);
    return walk_result(&kept, (Py_ssize_t)pos, status, error);
}

static inline uint64_t rd64le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* walk_netmon(buffer, base, frame_table, start) -> (kept, next index, status)
 * Network Monitor frames sit where the frame table (uint32 LE offsets) says. Frames
 * from `start` are taken while they lie whole in `buffer`, which holds the file from
 * offset `base`; the first that does not stops the walk (Python moves the window). */
static PyObject *Skimmer_walk_netmon(Skimmer *s, PyObject *args) {
    Py_buffer view, table;
    unsigned long long base;
    Py_ssize_t start;
    REFUSE_WHILE_BUSY(s)
    if (s->format != FORMAT_NETMON || !s->media_link) {
        PyErr_SetString(PyExc_ValueError, "not a Network Monitor skimmer, or no media table");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*Ky*n", &view, &base, &table, &start)) return NULL;
    s->busy = 1;
    const uint8_t *p = (const uint8_t *)view.buf;
    const uint8_t *t = (const uint8_t *)table.buf;
    size_t n = (size_t)view.len, frames = (size_t)table.len / 4, i = start < 0 ? 0 : (size_t)start;
    size_t trailer = (size_t)s->netmon_trailer;
    Kept kept = {NULL, 0, 0};
    int error = 0;
    Py_BEGIN_ALLOW_THREADS
    for (; i < frames; i++) {
        uint64_t off = rd32(t + 4 * i, 0);
        if (off < base || off - base + 16 > n) break;
        size_t rel = (size_t)(off - base);
        const uint8_t *h = p + rel;
        uint32_t orig = rd32(h + 8, 0), incl = rd32(h + 12, 0);
        if (rel + 16 + (uint64_t)incl + trailer > n) break;
        int linktype = s->pcap_linktype;
        uint64_t ticks = rd64le(h), timebase = 0;
        if (trailer >= 2) linktype = s->media_link[h[16 + incl] | h[17 + incl] << 8];
        if (trailer >= 15) {
            uint64_t filetime = rd64le(h + 16 + incl + 6);
            if (filetime) {
                ticks = filetime;
                timebase = 1;
            }
        }
        uint64_t number = i + 1;
        if (take_frame(s, &kept, h + 16, incl, orig, linktype, number, rel + 16, ticks, (uint32_t)timebase) < 0) {
            error = 1;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    s->busy = 0;
    PyBuffer_Release(&view);
    PyBuffer_Release(&table);
    s->number = i;
    return walk_result(&kept, (Py_ssize_t)i, STATUS_MORE, error);
}

static PyObject *Skimmer_set_media_table(Skimmer *s, PyObject *args) {
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "y*", &table)) return NULL;
    if (table.len != 65536 * (Py_ssize_t)sizeof(int32_t)) {
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "the media table holds 65536 native int32 link types");
        return NULL;
    }
    if (!s->media_link) s->media_link = PyMem_Malloc(65536 * sizeof(int32_t));
    if (!s->media_link) {
        PyBuffer_Release(&table);
        return PyErr_NoMemory();
    }
    memcpy(s->media_link, table.buf, 65536 * sizeof(int32_t));
    PyBuffer_Release(&table);
    Py_RETURN_NONE;
}

static PyObject *Skimmer_add_interface(Skimmer *s, PyObject *args) {
    REFUSE_WHILE_BUSY(s)
    int linktype;
    if (!PyArg_ParseTuple(args, "i", &linktype)) return NULL;
    /* beyond the table, packets of the interface are read by Python (STATUS_BLOCK) */
    if (s->n_iface < MAX_INTERFACES) s->iface_link[s->n_iface] = linktype;
    s->n_iface++;
    Py_RETURN_NONE;
}

static PyObject *Skimmer_new_section(Skimmer *s, PyObject *args) {
    REFUSE_WHILE_BUSY(s)
    int big;
    if (!PyArg_ParseTuple(args, "p", &big)) return NULL;
    s->big = big;
    s->iface_base += (uint32_t)s->n_iface;
    s->n_iface = 0;
    Py_RETURN_NONE;
}

static PyObject *Skimmer_ignore_tcp(Skimmer *s, PyObject *args) {
    REFUSE_WHILE_BUSY(s)
    Py_buffer src, dst;
    int sport, dport, ignored = 1;
    if (!PyArg_ParseTuple(args, "y*iy*i|p", &src, &sport, &dst, &dport, &ignored)) return NULL;
    int ok = (src.len == 4 || src.len == 16) && src.len == dst.len;
    if (ok) {
        uint8_t key[KEY_SIZE];
        make_key(key, src.len == 4 ? 4 : 6, KIND_TCP, (uint16_t)sport, (uint16_t)dport, src.buf, dst.buf);
        int created = 0, error = 0;
        if (!ignored) {
            table_remove(&s->ignored, key);
        } else if (!table_find(&s->ignored, key, 1, &created, &error)) {
            PyBuffer_Release(&src);
            PyBuffer_Release(&dst);
            return PyErr_NoMemory();
        }
    }
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "addresses must both be 4 or 16 bytes");
        return NULL;
    }
    Py_RETURN_NONE;
}

static const char *KIND_NAMES[] = {"rtp", "rtcp", "dtls", "zrtp", "channeldata", "data"};
static const char *VIA_NAMES[] = {"channeldata", "send-indication", "data-indication", "ms-send-request",
                                  "ms-data-indication"};

/* flows() -> [(src, sport, dst, dport, kind, first number, first ticks, first interface,
 *              last number, last ticks, last interface, packets, bytes)] */
static PyObject *Skimmer_flows(Skimmer *s, PyObject *Py_UNUSED(ignored)) {
    REFUSE_WHILE_BUSY(s)
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (size_t i = 0; i < s->flows.cap; i++) {
        Flow *f = &s->flows.slots[i];
        if (!f->used) continue;
        Py_ssize_t alen = f->key[0] == 4 ? 4 : 16;
        PyObject *item = Py_BuildValue(
            "y#iy#isKKIKKIKK", (const char *)f->key + 8, alen, be16(f->key + 4), (const char *)f->key + 24, alen,
            be16(f->key + 6), KIND_NAMES[f->key[1]], (unsigned long long)f->first_number,
            (unsigned long long)f->first_ticks, f->first_iface, (unsigned long long)f->last_number,
            (unsigned long long)f->last_ticks, f->last_iface, (unsigned long long)f->packets,
            (unsigned long long)f->bytes);
        if (!item || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    return list;
}

/* clear_counts(): forget the media and relayed media counted so far (flows() and relayed() then
 * hold only what is counted after), so a long reading can take its counts as it goes */
static PyObject *Skimmer_clear_counts(Skimmer *s, PyObject *Py_UNUSED(ignored)) {
    REFUSE_WHILE_BUSY(s)
    FlowTable *tables[] = {&s->flows, &s->relayed};
    for (int i = 0; i < 2; i++) {
        if (tables[i]->used) memset(tables[i]->slots, 0, tables[i]->cap * sizeof(Flow));
        tables[i]->used = 0;
    }
    Py_RETURN_NONE;
}

/* relayed() -> ([(via, src, sport, dst, dport, channel, peer address or None, peer port, kind,
 *                 first number, first ticks, first interface, last number, last ticks, last interface,
 *                 packets, bytes)], [(interface, latest ticks of a counted indication)]) */
static PyObject *Skimmer_relayed(Skimmer *s, PyObject *Py_UNUSED(ignored)) {
    REFUSE_WHILE_BUSY(s)
    PyObject *list = PyList_New(0), *latest = PyList_New(0);
    if (!list || !latest) goto fail;
    for (size_t i = 0; i < s->relayed.cap; i++) {
        Flow *f = &s->relayed.slots[i];
        if (!f->used) continue;
        const uint8_t *k = f->key;
        Py_ssize_t alen = k[0] == 4 ? 4 : 16;
        PyObject *peer;
        if (k[3])
            peer = PyBytes_FromStringAndSize((const char *)k + 44, k[3] == 4 ? 4 : 16);
        else
            peer = Py_NewRef(Py_None);
        if (!peer) goto fail;
        PyObject *item = Py_BuildValue("sy#iy#iiNisKKIKKIKK", VIA_NAMES[k[2]], (const char *)k + 8, alen,
                                       be16(k + 4), (const char *)k + 24, alen, be16(k + 6), be16(k + 40), peer,
                                       be16(k + 42), KIND_NAMES[k[1]], (unsigned long long)f->first_number,
                                       (unsigned long long)f->first_ticks, f->first_iface,
                                       (unsigned long long)f->last_number, (unsigned long long)f->last_ticks,
                                       f->last_iface, (unsigned long long)f->packets, (unsigned long long)f->bytes);
        if (!item || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    for (uint32_t i = 0; s->has_latest && i < MAX_INTERFACES; i++) {
        if (!s->has_latest[i]) continue;
        PyObject *item = Py_BuildValue("IK", i, (unsigned long long)s->latest[i]);
        if (!item || PyList_Append(latest, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    return Py_BuildValue("NN", list, latest);
fail:
    Py_XDECREF(list);
    Py_XDECREF(latest);
    return NULL;
}

/* ends() -> [(interface, latest ticks of a frame walked and not handed back)] */
static PyObject *Skimmer_ends(Skimmer *s, PyObject *Py_UNUSED(ignored)) {
    REFUSE_WHILE_BUSY(s)
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (uint32_t i = 0; i < MAX_INTERFACES; i++) {
        if (!s->has_end[i]) continue;
        PyObject *item = Py_BuildValue("IK", i, (unsigned long long)s->ends[i]);
        if (!item || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    return list;
}

static PyObject *Skimmer_count_relayed(Skimmer *s, PyObject *Py_UNUSED(ignored)) {
    REFUSE_WHILE_BUSY(s)
    if (s->lister) {
        PyErr_SetString(PyExc_ValueError, "relayed media is listed (list_relayed): it cannot be counted too");
        return NULL;
    }
    if (!s->latest) {
        s->latest = PyMem_Calloc(MAX_INTERFACES, sizeof(uint64_t));
        s->has_latest = PyMem_Calloc(MAX_INTERFACES, 1);
        if (!s->latest || !s->has_latest) return PyErr_NoMemory();
    }
    s->relay = 1;
    Py_RETURN_NONE;
}

/* list_relayed(format, modern, legacy): write relayed media rows instead of handing the frames back */
static PyObject *Skimmer_list_relayed(Skimmer *s, PyObject *args) {
    REFUSE_WHILE_BUSY(s)
    const char *format;
    PyObject *modern, *legacy;
    if (!PyArg_ParseTuple(args, "sOO", &format, &modern, &legacy)) return NULL;
    if (s->relay) {
        PyErr_SetString(PyExc_ValueError, "relayed media is counted (count_relayed): it cannot be listed too");
        return NULL;
    }
    Lister *lister = lister_new(format);
    if (!lister) return NULL;
    if (lister_set_attributes(lister, modern, legacy) < 0) {
        lister_free(lister);
        return NULL;
    }
    lister_free(s->lister);
    s->lister = lister;
    Py_RETURN_NONE;
}

/* time_base(interface, divisor, offset, float_division): frame times of the interface are
 * (ticks + offset) / divisor (Python's int / int), or float(ticks + offset) / divisor */
static PyObject *Skimmer_time_base(Skimmer *s, PyObject *args) {
    REFUSE_WHILE_BUSY(s)
    unsigned int iface;
    unsigned long long divisor;
    long long offset;
    int float_division = 0;
    if (!PyArg_ParseTuple(args, "IKL|p", &iface, &divisor, &offset, &float_division)) return NULL;
    if (!s->lister) {
        PyErr_SetString(PyExc_ValueError, "not listing relayed media (list_relayed)");
        return NULL;
    }
    if (lister_time_base(s->lister, iface, divisor, offset, float_division) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *Skimmer_rows(Skimmer *s, PyObject *Py_UNUSED(ignored)) {
    REFUSE_WHILE_BUSY(s)
    if (!s->lister) return Py_BuildValue("sy#y#y#y#", "", "", (Py_ssize_t)0, "", (Py_ssize_t)0, "", (Py_ssize_t)0, "", (Py_ssize_t)0);
    return lister_take_rows(s->lister);
}

static int Skimmer_init(Skimmer *s, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"format", "big_endian", "linktype", "divisor", "trailer", "max_record", NULL};
    const char *format;
    int big = 0, linktype = -1, trailer = 0;
    unsigned long long divisor = 1000000;
    unsigned int max_record = PCAP_MAX_RECORD;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sp|iKiI", keywords, &format, &big, &linktype, &divisor, &trailer,
                                     &max_record))
        return -1;
    if (strcmp(format, "pcap") == 0)
        s->format = FORMAT_PCAP;
    else if (strcmp(format, "pcapng") == 0)
        s->format = FORMAT_PCAPNG;
    else if (strcmp(format, "netmon") == 0)
        s->format = FORMAT_NETMON;
    else {
        PyErr_SetString(PyExc_ValueError, "format must be 'pcap', 'pcapng' or 'netmon'");
        return -1;
    }
    if (trailer < 0 || trailer > 64) {
        PyErr_SetString(PyExc_ValueError, "implausible trailer size");
        return -1;
    }
    s->netmon_trailer = trailer;
    s->big = big;
    s->pcap_linktype = linktype;
    s->pcap_divisor = divisor;
    s->pcap_max_record = max_record < PCAP_MAX_RECORD ? max_record : PCAP_MAX_RECORD;
    if (!s->ends) {
        s->ends = PyMem_Calloc(MAX_INTERFACES, sizeof(uint64_t));
        s->has_end = PyMem_Calloc(MAX_INTERFACES, 1);
        if (!s->ends || !s->has_end) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (!s->iface_link) {
        s->iface_link = PyMem_Calloc(MAX_INTERFACES, sizeof(int32_t));
        if (!s->iface_link) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static void Skimmer_dealloc(Skimmer *s) {
    free(s->flows.slots);
    free(s->ignored.slots);
    free(s->relayed.slots);
    free(s->pairs.slots);
    PyMem_Free(s->latest);
    PyMem_Free(s->has_latest);
    PyMem_Free(s->ends);
    PyMem_Free(s->has_end);
    PyMem_Free(s->iface_link);
    PyMem_Free(s->media_link);
    lister_free(s->lister);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *Skimmer_get_number(Skimmer *s, void *closure) {
    return PyLong_FromUnsignedLongLong(s->number);
}

static int Skimmer_set_number(Skimmer *s, PyObject *value, void *closure) {
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "cannot delete number");
        return -1;
    }
    unsigned long long number = PyLong_AsUnsignedLongLong(value);
    if (PyErr_Occurred()) return -1;
    s->number = number;
    return 0;
}

static PyObject *Skimmer_get_counted(Skimmer *s, void *closure) { return PyLong_FromUnsignedLongLong(s->counted); }
static PyObject *Skimmer_get_skipped(Skimmer *s, void *closure) { return PyLong_FromUnsignedLongLong(s->skipped); }
static PyObject *Skimmer_get_ignoring(Skimmer *s, void *closure) { return PyLong_FromSize_t(s->ignored.used); }

static PyGetSetDef Skimmer_getset[] = {
    {"number", (getter)Skimmer_get_number, (setter)Skimmer_set_number, "frames walked so far", NULL},
    {"counted", (getter)Skimmer_get_counted, NULL, "media frames counted, not handed back", NULL},
    {"skipped", (getter)Skimmer_get_skipped, NULL, "frames not handed back: no IP, or an ignored TCP flow", NULL},
    {"ignoring", (getter)Skimmer_get_ignoring, NULL, "TCP directions ignored now (open ones)", NULL},
    {NULL},
};

static PyMethodDef Skimmer_methods[] = {
    {"walk", (PyCFunction)Skimmer_walk, METH_VARARGS, "walk(buffer) -> (kept, consumed, status)"},
    {"walk_netmon", (PyCFunction)Skimmer_walk_netmon, METH_VARARGS,
     "walk_netmon(buffer, base, frame_table, start) -> (kept, next index, status)"},
    {"set_media_table", (PyCFunction)Skimmer_set_media_table, METH_VARARGS,
     "Network Monitor: link type of each media type (65536 native int32)"},
    {"add_interface", (PyCFunction)Skimmer_add_interface, METH_VARARGS, "pcapng: the next interface's link type"},
    {"new_section", (PyCFunction)Skimmer_new_section, METH_VARARGS, "pcapng: a new section (byte order)"},
    {"ignore_tcp", (PyCFunction)Skimmer_ignore_tcp, METH_VARARGS, "ignore_tcp(src, sport, dst, dport, ignored=True): skip a TCP direction from now on (False: no longer)"},
    {"flows", (PyCFunction)Skimmer_flows, METH_NOARGS, "media counted per 5-tuple and kind"},
    {"count_relayed", (PyCFunction)Skimmer_count_relayed, METH_NOARGS,
     "from now on, count UDP relayed media (ChannelData, Send/Data indications) instead of handing it back"},
    {"relayed", (PyCFunction)Skimmer_relayed, METH_NOARGS, "relayed media counted, and the latest indication"},
    {"clear_counts", (PyCFunction)Skimmer_clear_counts, METH_NOARGS,
     "forget the media and relayed media counted so far (flows() and relayed() start again)"},
    {"list_relayed", (PyCFunction)Skimmer_list_relayed, METH_VARARGS,
     "list_relayed(format, modern, legacy): write the rows of UDP relayed media instead of handing it back"},
    {"time_base", (PyCFunction)Skimmer_time_base, METH_VARARGS,
     "time_base(interface, divisor, offset, float_division=False): frame times are (ticks + offset) / divisor"},
    {"rows", (PyCFunction)Skimmer_rows, METH_NOARGS,
     "rows written since the last call: (text, frame numbers, ends in text: native uint64 bytes)"},
    {"ends", (PyCFunction)Skimmer_ends, METH_NOARGS, "per interface, the latest ticks of a frame not handed back"},
    {NULL},
};

static PyTypeObject SkimmerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "icetrace.capture._walk.Skimmer",
    .tp_basicsize = sizeof(Skimmer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Walks pcap/pcapng records; counts media, hands back the rest.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Skimmer_init,
    .tp_dealloc = (destructor)Skimmer_dealloc,
    .tp_methods = Skimmer_methods,
    .tp_getset = Skimmer_getset,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_walk", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__walk(void) {
    if (PyType_Ready(&SkimmerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&SkimmerType);
    if (PyModule_AddObject(m, "Skimmer", (PyObject *)&SkimmerType) < 0) {
        Py_DECREF(&SkimmerType);
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "STATUS_MORE", STATUS_MORE);
    PyModule_AddIntConstant(m, "STATUS_BLOCK", STATUS_BLOCK);
    PyModule_AddIntConstant(m, "STATUS_DAMAGE", STATUS_DAMAGE);
    return m;
}
