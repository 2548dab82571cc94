/* The per-frame loop of capture reading, for pcap, pcapng and Network Monitor 2.x bodies.
 *
 * A gigabyte capture is a million frames, nearly all RTP. Deciding per frame in
 * Python costs seconds; here one C loop walks the records (Network Monitor: where its
 * frame table says), follows the link and IP headers (and GRE/ERSPAN/VXLAN tunnels),
 * and only counts (per 5-tuple and kind) the UDP datagrams that RFC 7983's first byte
 * marks as RTP/RTCP, DTLS or ZRTP, and skips the TCP flows Python has decided not to
 * follow. Every other frame is handed back to Python by offset, so the
 * decisions that need state (STUN, ChannelData, SIP, TCP streams, fragments) stay in
 * one place: icetrace/capture/packet_source.py. The rules here mirror that module's
 * exactly, and the first-byte ranges below are dissectors/demux.py's table (RFC 7983);
 * tests/capture/test_demux.py holds both to the same answer on every first byte.
 *
 * Anything unusual (a non-packet pcapng block, a damaged length, an unknown
 * interface) stops the walk and is left to the Python reader, which reports it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_PCAP 0
#define FORMAT_PCAPNG 1
#define FORMAT_NETMON 2

#define STATUS_MORE 0    /* the next record is not complete in the buffer */
#define STATUS_BLOCK 1   /* pcapng: a block Python must read (not a plain EPB) */
#define STATUS_DAMAGE 2  /* pcap: implausible record length */

#define MAX_INTERFACES 4096
#define PCAP_MAX_RECORD (262144 * 4)  /* same limit as the Python reader */
/* number, data offset, captured length, original length, ticks, interface (Network Monitor: the
 * time base, 0 = microseconds since the capture started, 1 = UTC FILETIME), link type */
#define KEPT_FIELDS 7

enum { KIND_RTP, KIND_RTCP, KIND_DTLS, KIND_ZRTP };
enum { FRAME_KEEP, FRAME_COUNTED, FRAME_SKIPPED };

/* key: version, kind, sport, dport, src[16], dst[16] (IPv4 in the first 4 bytes) */
#define KEY_SIZE 40

typedef struct {
    uint8_t key[KEY_SIZE];
    uint64_t first_number, first_ticks, last_number, last_ticks, packets, bytes;
    uint32_t first_iface, last_iface;
    int used;
} Flow;

/* Open addressing, linear probing, at most half full. It grows with the GIL released,
 * so plain malloc/free. */
typedef struct {
    Flow *slots;
    size_t cap, used;
} FlowTable;

typedef struct {
    PyObject_HEAD
    int format;
    int big;
    int pcap_linktype;
    uint64_t pcap_divisor;
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
} Skimmer;

static inline uint32_t rd32(const uint8_t *p, int big) {
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline uint64_t hash_key(const uint8_t *key) {
    uint64_t h = 0x9E3779B97F4A7C15ULL, word;
    for (int i = 0; i < KEY_SIZE; i += 8) {
        memcpy(&word, key + i, 8);
        h = (h ^ word) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 29;
    }
    return h;
}

static void make_key(uint8_t *key, int version, int kind, uint16_t sport, uint16_t dport,
                     const uint8_t *src, const uint8_t *dst) {
    int alen = version == 4 ? 4 : 16;
    memset(key, 0, KEY_SIZE);
    key[0] = (uint8_t)version;
    key[1] = (uint8_t)kind;
    key[4] = sport >> 8;
    key[5] = sport & 0xFF;
    key[6] = dport >> 8;
    key[7] = dport & 0xFF;
    memcpy(key + 8, src, alen);
    memcpy(key + 24, dst, alen);
}

static int table_grow(FlowTable *t) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    Flow *slots = calloc(cap, sizeof(Flow));
    if (!slots) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].used) continue;
        size_t j = hash_key(t->slots[i].key) & (cap - 1);
        while (slots[j].used) j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* The entry for `key`; with `insert`, a new zeroed one (marked used) when absent. NULL when
 * absent and not inserting, or out of memory (then *error is set). */
static Flow *table_find(FlowTable *t, const uint8_t *key, int insert, int *created, int *error) {
    if (insert && (t->used + 1) * 2 > t->cap && table_grow(t) < 0) {
        *error = 1;
        return NULL;
    }
    if (!t->cap) return NULL;
    size_t mask = t->cap - 1, j = hash_key(key) & mask;
    while (t->slots[j].used) {
        if (memcmp(t->slots[j].key, key, KEY_SIZE) == 0) return &t->slots[j];
        j = (j + 1) & mask;
    }
    if (!insert) return NULL;
    Flow *f = &t->slots[j];
    memcpy(f->key, key, KEY_SIZE);
    f->used = 1;
    t->used++;
    *created = 1;
    return f;
}

static int count_media(Skimmer *s, const uint8_t *key, uint64_t number, uint64_t ticks, uint32_t iface,
                       uint64_t size) {
    int created = 0, error = 0;
    Flow *f = table_find(&s->flows, key, 1, &created, &error);
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

static int is_ignored(Skimmer *s, const uint8_t *key) {
    int error = 0;
    return s->ignored.used && table_find(&s->ignored, key, 0, NULL, &error) != NULL;
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

/* What to do with one frame: count it as media, skip it, or hand it to Python. */
static int classify(Skimmer *s, const uint8_t *d, uint32_t len, int linktype, uint64_t number, uint64_t ticks,
                    uint32_t iface, int *error, int depth) {
    long off = ip_offset(d, len, linktype);
    if (off < 0 || len < (uint32_t)off + 20) return FRAME_KEEP;
    const uint8_t *ip = d + off;
    int version = ip[0] >> 4;
    const uint8_t *src, *dst;
    uint32_t l4, end, proto;
    if (version == 4) {
        uint32_t ihl = (ip[0] & 0x0F) * 4u;
        uint32_t total = be16(ip + 2);
        if (ihl < 20) return FRAME_KEEP;
        if (be16(ip + 6) & 0x3FFF) return FRAME_KEEP; /* a fragment: reassembled in Python */
        end = (total >= ihl && (uint32_t)off + total < len) ? (uint32_t)off + total : len;
        proto = ip[9];
        src = ip + 12;
        dst = ip + 16;
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
    uint8_t key[KEY_SIZE];
    if (proto == 47) {
        uint32_t inner_len;
        int inner_link;
        const uint8_t *inner = depth < MAX_TUNNELS && l4 <= end ? gre_inner(d + l4, end - l4, &inner_len, &inner_link)
                                                                : NULL;
        return inner ? classify(s, inner, inner_len, inner_link, number, ticks, iface, error, depth + 1) : FRAME_KEEP;
    }
    if (proto == 17) {
        if (l4 + 8 >= end) return FRAME_KEEP; /* no payload: Python drops it */
        const uint8_t *payload = d + l4 + 8;
        uint32_t size = end - l4 - 8;
        uint8_t b0 = payload[0];
        if (be16(d + l4 + 2) == VXLAN_PORT && size >= 22 && (b0 & 0x08)) { /* RFC 7348 */
            if (depth >= MAX_TUNNELS) return FRAME_KEEP;
            return classify(s, payload + 8, size - 8, 1, number, ticks, iface, error, depth + 1);
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
        make_key(key, version, kind, be16(d + l4), be16(d + l4 + 2), src, dst);
        if (count_media(s, key, number, ticks, iface, size) < 0) {
            *error = 1;
            return FRAME_KEEP;
        }
        return FRAME_COUNTED;
    }
    if (proto == 6 && l4 + 20 <= end) {
        make_key(key, version, 255, be16(d + l4), be16(d + l4 + 2), src, dst);
        if (is_ignored(s, key)) return FRAME_SKIPPED;
    }
    return FRAME_KEEP;
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
    if (what == FRAME_COUNTED)
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
            if (incl > PCAP_MAX_RECORD) {
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
    int sport, dport;
    if (!PyArg_ParseTuple(args, "y*iy*i", &src, &sport, &dst, &dport)) return NULL;
    int ok = (src.len == 4 || src.len == 16) && src.len == dst.len;
    if (ok) {
        uint8_t key[KEY_SIZE];
        make_key(key, src.len == 4 ? 4 : 6, 255, (uint16_t)sport, (uint16_t)dport, src.buf, dst.buf);
        int created = 0, error = 0;
        if (!table_find(&s->ignored, key, 1, &created, &error)) {
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

static const char *KIND_NAMES[] = {"rtp", "rtcp", "dtls", "zrtp"};

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

static int Skimmer_init(Skimmer *s, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"format", "big_endian", "linktype", "divisor", "trailer", NULL};
    const char *format;
    int big = 0, linktype = -1, trailer = 0;
    unsigned long long divisor = 1000000;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sp|iKi", keywords, &format, &big, &linktype, &divisor, &trailer))
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
    PyMem_Free(s->iface_link);
    PyMem_Free(s->media_link);
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

static PyGetSetDef Skimmer_getset[] = {
    {"number", (getter)Skimmer_get_number, (setter)Skimmer_set_number, "frames walked so far", NULL},
    {"counted", (getter)Skimmer_get_counted, NULL, "media frames counted, not handed back", NULL},
    {"skipped", (getter)Skimmer_get_skipped, NULL, "frames of ignored TCP flows", NULL},
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
    {"ignore_tcp", (PyCFunction)Skimmer_ignore_tcp, METH_VARARGS, "skip a TCP direction from now on"},
    {"flows", (PyCFunction)Skimmer_flows, METH_NOARGS, "media counted per 5-tuple and kind"},
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
