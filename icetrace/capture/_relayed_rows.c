/* Rows of relayed media written in C, for `icetrace messages` on a relay's capture.
 *
 * On a TURN server's or an A/V Edge's capture nearly every frame is media wrapped for the relay:
 * ChannelData (RFC 8656 §12), Send/Data indications (§11), MS-TURN Send requests and Data
 * indications, MS multiplexed TURN (0xFF10). `icetrace messages` lists each as a row; building a
 * record for each in Python costs tens of microseconds. Here the rows of UDP relayed media are
 * written directly, byte for byte as icetrace/commands/messages.py and tables/message_rows.py write
 * them from the records (tests/capture/test_relayed_rows.py holds the two paths to the same output).
 * Only layouts whose row this side can be sure of are written: anything the codec
 * (dissectors/codec.py) would decode with an anomaly, a nested message, an attribute kind not
 * checked here, a time it cannot format exactly, leaves the frame to Python.
 *
 * A ChannelData row names its peer from the channel binding that records/extract.py learned from a
 * ChannelBind request before it, in capture order. Bindings are learned here from the UDP
 * ChannelBind requests the walk meets, by the extractor's rules. A binding Python may learn from
 * bytes this side does not read (a TCP stream, an IP fragment, an IPv6 extension header, a
 * ChannelBind in a layout not checked here) marks the transport or IP addresses it concerns
 * opaque: their ChannelData is handed back from then on, and Python names the peer.
 */
#include "_flow_table.h"
#include "_relayed_rows.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>

enum { ROWS_CSV, ROWS_JSONL, ROWS_TABLE };

/* How much of an attribute value this side checks: the value lengths at which the codec's
 * decoders raise (an anomaly the row would show). UNSURE: a kind not checked here. */
enum { CHECK_UNSURE, CHECK_ANY, CHECK_EXACT, CHECK_MULTIPLE, CHECK_AT_LEAST, CHECK_MS_SEQUENCE, CHECK_ADDRESS,
       CHECK_XOR_ADDRESS };

#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_CHANNEL_NUMBER 0x000C
#define ATTR_MAGIC_COOKIE 0x000F
#define ATTR_XOR_PEER_ADDRESS 0x0012
#define ATTR_DATA 0x0013
#define ATTR_INTEGRITY_SHA256 0x001C
#define ATTR_MS_VERSION 0x8008
#define ATTR_FINGERPRINT 0x8028
#define ATTR_CANDIDATE_IDENTIFIER 0x8054
#define ATTR_IMPLEMENTATION_VERSION 0x8070
#define MS_COOKIE_VALUE 0x72C64BC6u
#define FINGERPRINT_XOR 0x5354554Eu
#define MS_MULTIPLEXED 0xFF10

#define MAX_SPECS 1024
#define MAX_ROW_ATTRS 24
#define MAX_ROW_ADDRS 8
#define NAME_SIZE 48
#define EP_SIZE 56 /* "[" IPv6 text (46) "]:" port */
#define ENDPOINT_CACHE 1024

typedef struct {
    char name[NAME_SIZE];
    uint8_t check, size;
} AttrSpec;

struct Lister {
    int format;
    FlowTable bindings; /* (client, server, channel) -> peer, from ChannelBind requests */
    FlowTable opaque;   /* transport and IP address pairs whose bindings are Python's to know */
    FlowTable streams;  /* TCP directions followed (see lister_tcp) */
    uint64_t *listed_at, *listed; /* a frame handed back, and the bytes of its direction listed before it */
    size_t n_listed, cap_listed;
    uint64_t divisor[MAX_INTERFACES];
    int64_t offset[MAX_INTERFACES];
    uint8_t float_division[MAX_INTERFACES]; /* the time is float(ticks + offset) / divisor, not exact */
    uint16_t *index[2]; /* RFC 5389 names, legacy (MS-TURN, RFC 3489) names: code -> spec + 1 */
    AttrSpec specs[MAX_SPECS];
    int n_specs;
    char *text;
    size_t len, cap;
    uint64_t *frames, *ends; /* each row's frame number, and where it ends in text */
    size_t n_rows, cap_rows;
    int failed; /* out of memory while writing */
    struct {
        uint8_t family, addr[16];
        char text[EP_SIZE];
    } endpoints[ENDPOINT_CACHE]; /* "[ipv6]:" of the IPv6 addresses seen lately (inet_ntop is slow) */
};

typedef struct {
    uint16_t type;
    uint16_t len;
    uint32_t off;
} Attr;

/* One row, as tables/message_rows.line_row has it for these records. */
typedef struct {
    uint64_t frame;
    char time_repr[40], time_fixed[40];
    char src[EP_SIZE], dst[EP_SIZE];
    int channeldata;
    const char *transport; /* "udp" or "tcp" */
    const char *dialect, *method, *cls;
    unsigned type;
    char tid[33];
    int n_addrs;
    const char *addr_names[MAX_ROW_ADDRS];
    char addr_eps[MAX_ROW_ADDRS][EP_SIZE];
    const char *fingerprint;
    int n_attrs;
    const char *attr_names[MAX_ROW_ATTRS];
    char unknown_names[MAX_ROW_ATTRS][8];
    const char *via; /* NULL: no relay */
    char client[EP_SIZE], server[EP_SIZE], peer[EP_SIZE];
    unsigned channel;
} Row;

/* -- set-up ---------------------------------------------------------------------------------- */

Lister *lister_new(const char *format) {
    int f;
    if (strcmp(format, "csv") == 0)
        f = ROWS_CSV;
    else if (strcmp(format, "jsonl") == 0)
        f = ROWS_JSONL;
    else if (strcmp(format, "table") == 0)
        f = ROWS_TABLE;
    else {
        PyErr_SetString(PyExc_ValueError, "format must be 'csv', 'jsonl' or 'table'");
        return NULL;
    }
    Lister *l = PyMem_Calloc(1, sizeof(Lister));
    if (!l) {
        PyErr_NoMemory();
        return NULL;
    }
    l->format = f;
    return l;
}

void lister_free(Lister *l) {
    if (!l) return;
    free(l->bindings.slots);
    free(l->opaque.slots);
    free(l->streams.slots);
    free(l->listed_at);
    free(l->listed);
    PyMem_Free(l->index[0]);
    PyMem_Free(l->index[1]);
    free(l->text);
    free(l->frames);
    free(l->ends);
    PyMem_Free(l);
}

/* The check of a dissectors/codec.py value kind (CODECS), and the size it is about. */
static int kind_check(const char *kind, uint8_t *size) {
    static const struct {
        const char *kind;
        uint8_t check, size;
    } KINDS[] = {
        {"bytes", CHECK_ANY, 0},           {"text", CHECK_ANY, 0},           {"nul-padded-text", CHECK_ANY, 0},
        {"byte-list", CHECK_ANY, 0},       {"uint32", CHECK_EXACT, 4},       {"channel-number", CHECK_EXACT, 4},
        {"first-byte", CHECK_EXACT, 4},    {"short-pair", CHECK_EXACT, 4},   {"nomination", CHECK_EXACT, 4},
        {"response-port", CHECK_EXACT, 4}, {"bandwidth-acm", CHECK_EXACT, 4}, {"uint64", CHECK_EXACT, 8},
        {"icmp", CHECK_EXACT, 8},          {"empty", CHECK_EXACT, 0},        {"uint32-list", CHECK_MULTIPLE, 4},
        {"attribute-list", CHECK_MULTIPLE, 2}, {"even-port", CHECK_AT_LEAST, 1},
        {"ms-sequence", CHECK_MS_SEQUENCE, 0}, {"address", CHECK_ADDRESS, 0}, {"xor-address", CHECK_XOR_ADDRESS, 0},
    };
    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++) {
        if (strcmp(kind, KINDS[i].kind) == 0) {
            *size = KINDS[i].size;
            return KINDS[i].check;
        }
    }
    *size = 0;
    return CHECK_UNSURE;
}

/* A name goes into rows as it is: printable ASCII without CSV or JSON specials. */
static int plain_name(const char *name) {
    for (const char *c = name; *c; c++)
        if (*c < 0x21 || *c > 0x7E || *c == '"' || *c == '\\' || *c == ',') return 0;
    return 1;
}

static int load_names(Lister *l, int which, PyObject *table) {
    PyObject *seq = PySequence_Fast(table, "attribute table: a sequence of (code, name, kind)");
    if (!seq) return -1;
    l->index[which] = PyMem_Calloc(65536, sizeof(uint16_t));
    if (!l->index[which]) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        unsigned int code;
        const char *name, *kind;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "Iss", &code, &name, &kind)) goto fail;
        if (code > 0xFFFF || strlen(name) >= NAME_SIZE || !plain_name(name) || l->n_specs >= MAX_SPECS) {
            PyErr_Format(PyExc_ValueError, "attribute 0x%04X %s cannot be written here", code, name);
            goto fail;
        }
        AttrSpec *spec = &l->specs[l->n_specs];
        strcpy(spec->name, name);
        spec->check = (uint8_t)kind_check(kind, &spec->size);
        l->index[which][code] = (uint16_t)++l->n_specs;
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    return -1;
}

int lister_set_attributes(Lister *l, PyObject *modern, PyObject *legacy) {
    return load_names(l, 0, modern) < 0 || load_names(l, 1, legacy) < 0 ? -1 : 0;
}

int lister_time_base(Lister *l, uint32_t iface, uint64_t divisor, int64_t offset, int float_division) {
    if (iface >= MAX_INTERFACES) return 0; /* beyond the table: its rows are Python's */
    l->divisor[iface] = divisor;
    l->offset[iface] = offset;
    l->float_division[iface] = (uint8_t)float_division;
    return 0;
}

/* -- opaque addresses and channel bindings --------------------------------------------------- */

static int mark(FlowTable *t, const uint8_t *key) {
    int created = 0, error = 0;
    return table_find(t, key, 1, &created, &error) ? 0 : -1;
}

static int mark_both_ways(Lister *l, int version, int kind, uint16_t sport, uint16_t dport, const uint8_t *src,
                          const uint8_t *dst) {
    uint8_t key[KEY_SIZE];
    make_key(key, version, kind, sport, dport, src, dst);
    if (holds(&l->opaque, key)) return 0;
    if (mark(&l->opaque, key) < 0) return -1;
    make_key(key, version, kind, dport, sport, dst, src);
    return mark(&l->opaque, key);
}

int lister_opaque(Lister *l, int version, const uint8_t *src, const uint8_t *dst) {
    return mark_both_ways(l, version, KIND_OPAQUE_IPS, 0, 0, src, dst);
}

static int is_opaque(Lister *l, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                     uint16_t dport) {
    if (!l->opaque.used) return 0;
    uint8_t key[KEY_SIZE];
    make_key(key, version, KIND_OPAQUE_EPS, sport, dport, src, dst);
    if (holds(&l->opaque, key)) return 1;
    make_key(key, version, KIND_OPAQUE_IPS, 0, 0, src, dst);
    return holds(&l->opaque, key);
}

static void binding_key(uint8_t *key, int version, const uint8_t *client, uint16_t client_port,
                        const uint8_t *server, uint16_t server_port, unsigned channel) {
    make_key(key, version, KIND_BINDING, client_port, server_port, client, server);
    key[40] = (uint8_t)(channel >> 8);
    key[41] = (uint8_t)channel;
}

/* The attributes of a message from offset 20 to `end`, 4-byte padded or not: 1 when the walk ends
 * exactly at `end` (codec._walk_attributes without a problem), with each attribute in `out`. */
static int walk_attributes(const uint8_t *m, uint32_t end, int padded, Attr *out, int max, int *count) {
    uint32_t pos = 20;
    int n = 0;
    while (pos < end) {
        if (pos + 4 > end) return 0;
        uint32_t alen = be16(m + pos + 2);
        if (pos + 4 + alen > end) return 0;
        if (n >= max) return 0;
        out[n].type = be16(m + pos);
        out[n].len = (uint16_t)alen;
        out[n].off = pos;
        n++;
        pos += 4 + alen;
        if (padded && (alen & 3)) pos += 4 - (alen & 3);
    }
    *count = n;
    return pos == end;
}

static int has_cookie(const uint8_t *m) { return m[4] == 0x21 && m[5] == 0x12 && m[6] == 0xA4 && m[7] == 0x42; }

static int has_marker(const Attr *attrs, int n) {
    for (int i = 0; i < n; i++) {
        uint16_t t = attrs[i].type;
        if (t == ATTR_MAGIC_COOKIE || t == ATTR_MS_VERSION || t == ATTR_IMPLEMENTATION_VERSION ||
            t == ATTR_CANDIDATE_IDENTIFIER)
            return 1;
    }
    return 0;
}

/* A well-formed (XOR-)address value (codec._decode_plain_address): family, port, address. */
static int read_address(const uint8_t *m, const Attr *a, int xor_key, int *family, uint16_t *port, uint8_t *addr) {
    const uint8_t *v = m + a->off + 4;
    if (a->len < 4) return 0;
    int size;
    if (v[1] == 1 && a->len == 8)
        size = 4;
    else if (v[1] == 2 && a->len == 20)
        size = 16;
    else
        return 0;
    *family = size == 4 ? 4 : 6;
    *port = be16(v + 2);
    memcpy(addr, v + 4, size);
    if (xor_key) { /* RFC 5389 §15.2: the cookie, then the transaction id (header bytes 4..20) */
        *port ^= be16(m + 4);
        for (int i = 0; i < size; i++) addr[i] ^= m[4 + i];
    }
    return 1;
}

/* A ChannelBind request (records/extract.py _learn_channel): learned when its layout is the one
 * checked here; otherwise what Python learns from it is Python's, and its addresses opaque. */
static int learn_binding(Lister *l, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                         uint16_t dport, const uint8_t *m, uint32_t n) {
    Attr attrs[64];
    int count = 0;
    if (!has_cookie(m) || !walk_attributes(m, n, 1, attrs, 64, &count) || has_marker(attrs, count))
        return mark_both_ways(l, version, KIND_OPAQUE_EPS, sport, dport, src, dst);
    const Attr *channel = NULL, *peer = NULL;
    for (int i = 0; i < count; i++) {
        if (attrs[i].type == ATTR_CHANNEL_NUMBER && !channel) channel = &attrs[i];
        if (attrs[i].type == ATTR_XOR_PEER_ADDRESS && !peer) peer = &attrs[i];
    }
    int family;
    uint16_t port;
    uint8_t addr[16];
    if (!channel || channel->len != 4 || !peer || !read_address(m, peer, 1, &family, &port, addr)) return 0;
    uint8_t key[KEY_SIZE];
    binding_key(key, version, src, sport, dst, dport, be16(m + channel->off + 4));
    int created = 0, error = 0;
    Flow *f = table_find(&l->bindings, key, 1, &created, &error);
    if (!f) return -1;
    f->value[0] = (uint8_t)family;
    f->value[1] = (uint8_t)(port >> 8);
    f->value[2] = (uint8_t)port;
    memcpy(f->value + 3, addr, family == 4 ? 4 : 16);
    return 0;
}

/* -- text ------------------------------------------------------------------------------------- */

/* The decimal digits of v, NUL-terminated; returns their count. */
static int u64_text(char *out, uint64_t v) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) out[i] = digits[n - 1 - i];
    out[n] = 0;
    return n;
}

/* v in exactly `width` digits, zero-padded on the left. */
static void padded_digits(char *out, uint64_t v, int width) {
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[width] = 0;
}

/* Endpoint.__str__: "ip:port", "[ipv6]:port", the address as socket.inet_ntop writes it (IPv4:
 * dotted decimal, written here; IPv6: inet_ntop's text, remembered for the addresses seen lately). */
static void endpoint_text(Lister *l, char *out, int family, const uint8_t *addr, uint16_t port) {
    char *o = out;
    if (family == 4) {
        for (int i = 0; i < 4; i++) {
            o += u64_text(o, addr[i]);
            *o++ = i < 3 ? '.' : ':';
        }
        u64_text(o, port);
        return;
    }
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int i = 0; i < 16; i++) h = (h ^ addr[i]) * 0x100000001B3ULL;
    size_t slot = (h >> 17) & (ENDPOINT_CACHE - 1);
    if (!l->endpoints[slot].family || memcmp(l->endpoints[slot].addr, addr, 16) != 0) {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, addr, ip, sizeof ip);
        size_t n = strlen(ip);
        l->endpoints[slot].text[0] = '[';
        memcpy(l->endpoints[slot].text + 1, ip, n);
        memcpy(l->endpoints[slot].text + 1 + n, "]:", 3);
        memcpy(l->endpoints[slot].addr, addr, 16);
        l->endpoints[slot].family = 6;
    }
    size_t n = strlen(l->endpoints[slot].text);
    memcpy(o, l->endpoints[slot].text, n);
    u64_text(o + n, port);
}

static const uint64_t POW10[20] = {1ULL,
                                   10ULL,
                                   100ULL,
                                   1000ULL,
                                   10000ULL,
                                   100000ULL,
                                   1000000ULL,
                                   10000000ULL,
                                   100000000ULL,
                                   1000000000ULL,
                                   10000000000ULL,
                                   100000000000ULL,
                                   1000000000000ULL,
                                   10000000000000ULL,
                                   100000000000000ULL,
                                   1000000000000000ULL,
                                   10000000000000000ULL,
                                   100000000000000000ULL,
                                   1000000000000000000ULL,
                                   10000000000000000000ULL};

#define TWO53 9007199254740992.0
#define TIME_LIMIT 8589934592.0 /* 2^33 s (the year 2242): below it a microsecond is more than an ulp */

/* The double nearest n / d, as Python's int / int gives it; -1 when d is too large to tell. */
static double ratio(uint64_t n, uint64_t d) {
    if (n < (1ULL << 53) && d < (1ULL << 53)) return (double)n / (double)d; /* exact operands, one rounding */
    if (!d || d >= (1ULL << 53)) return -1;
    int a = 63 - __builtin_clzll(n), b = 63 - __builtin_clzll(d);
    int s = 63 - (a - b); /* the quotient scaled by 2^s has 63 or 64 bits */
    unsigned __int128 q = ((unsigned __int128)n << s) / d;
    if (q < ((unsigned __int128)1 << 63)) {
        s++;
        q = ((unsigned __int128)n << s) / d;
    }
    int sticky = ((unsigned __int128)n << s) % d != 0;
    uint64_t m = (uint64_t)(q >> 11), low = (uint64_t)q & 0x7FF;
    if (low > 0x400 || (low == 0x400 && (sticky || (m & 1)))) m++; /* to nearest, ties to even */
    return ldexp((double)m, 11 - s);
}

/* x = whole + frac / 2^s exactly, for 1 <= x < 2^52. */
static void split(double x, uint64_t *whole, uint64_t *frac, int *s) {
    int e;
    uint64_t m = (uint64_t)ldexp(frexp(x, &e), 53);
    *s = 53 - e;
    *whole = m >> *s;
    *frac = m & ((1ULL << *s) - 1);
}

/* frac / 2^s rounded to k decimals, ties to even (Python's correctly rounded formatting): the
 * numerator over 10^k; *tie when the exact value was halfway. */
static uint64_t round_decimals(uint64_t frac, int s, int k, int *tie) {
    unsigned __int128 t = (unsigned __int128)frac * POW10[k];
    uint64_t q = (uint64_t)(t >> s);
    unsigned __int128 rem = t & (((unsigned __int128)1 << s) - 1), half = (unsigned __int128)1 << (s - 1);
    *tie = rem == half;
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

/* repr(x) for 1 <= x < 2^33 (Python's shortest repr that reads back as x); 0 when unsure. */
static int shortest_repr(double x, char *out) {
    uint64_t whole, frac;
    int s, tie;
    split(x, &whole, &frac, &s);
    if (!frac) {
        sprintf(out, "%llu.0", (unsigned long long)whole);
        return 1;
    }
    for (int k = 1; k <= 17; k++) {
        uint64_t q = round_decimals(frac, s, k, &tie);
        if (q >= POW10[k]) continue; /* rounds to a whole number: never x */
        /* |q / 10^k - frac / 2^s| against half an ulp (1 / 2^(s+1)) */
        unsigned __int128 a = (unsigned __int128)q << s, b = (unsigned __int128)frac * POW10[k];
        unsigned __int128 diff = a > b ? a - b : b - a;
        if (2 * diff > POW10[k]) continue;
        if (2 * diff == POW10[k] || tie) return 0; /* halfway: leave it to Python */
        sprintf(out, "%llu.%0*llu", (unsigned long long)whole, k, (unsigned long long)q);
        return 1;
    }
    return 0;
}

/* f"{x:.6f}" for 1 <= x < 2^33. */
static void fixed6(double x, char *out) {
    uint64_t whole, frac;
    int s, tie;
    split(x, &whole, &frac, &s);
    uint64_t q = frac ? round_decimals(frac, s, 6, &tie) : 0;
    if (q >= POW10[6]) {
        whole++;
        q -= POW10[6];
    }
    sprintf(out, "%llu.%06llu", (unsigned long long)whole, (unsigned long long)q);
}

/* round(x, 9) for 1 <= x < 2^33: x itself once an ulp is over 2e-9 (2^23 s and up). */
static double round9(double x) {
    if (x >= 8388608.0) return x;
    uint64_t whole, frac;
    int s, tie;
    split(x, &whole, &frac, &s);
    return (double)(whole * POW10[9] + round_decimals(frac, s, 9, &tie)) / 1e9; /* below 2^53: exact */
}

/* The row's time as repr(round(t, 9)) (csv, jsonl) and f"{t:.6f}" (table) for t = (ticks + offset)
 * / divisor; 0 when it cannot be sure (the frame goes to Python). */
static int time_texts(Lister *l, uint64_t ticks, uint32_t iface, Row *row) {
    if (iface >= MAX_INTERFACES || !l->divisor[iface]) return 0;
    int64_t offset = l->offset[iface];
    if (offset < 0 ? ticks < (uint64_t)-offset : ticks > UINT64_MAX - (uint64_t)offset) return 0;
    uint64_t n = ticks + (uint64_t)offset, d = l->divisor[iface];
    double x = l->float_division[iface] ? (double)n / (double)d : ratio(n, d);
    if (x < 0 || x >= TIME_LIMIT) return 0;
    int k = 0;
    while (k <= 6 && POW10[k] != d) k++;
    if (k <= 6 && n < (1ULL << 53) && (x == 0 || x >= 1e-4)) {
        /* a decimal divisor up to microseconds: the exact quotient is the repr (an ulp is below
         * the last digit) and its 6-decimal form; round(x, 9) is x */
        uint64_t whole = n / d, rest = n % d, digits = rest;
        int places = k;
        while (places > 1 && digits % 10 == 0) {
            digits /= 10;
            places--;
        }
        int n = u64_text(row->time_repr, whole);
        row->time_repr[n] = '.';
        padded_digits(row->time_repr + n + 1, digits, places ? places : 1);
        memcpy(row->time_fixed, row->time_repr, (size_t)n + 1);
        padded_digits(row->time_fixed + n + 1, rest * POW10[6 - k], 6);
        return 1;
    }
    if (x < 1) return 0;
    double r = round9(x);
    if (!shortest_repr(r, row->time_repr)) return 0;
    fixed6(r, row->time_fixed);
    return 1;
}

/* -- the message layouts written here --------------------------------------------------------- */

static int looks_like_stun_header(const uint8_t *d, uint32_t n) { return n >= 20 && d[0] < 0x40 && 20u + be16(d + 2) == n; }

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int j = 0; j < 8; j++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* checks._find_attribute: the first `wanted` attribute by a padded walk, then an unpadded one. */
static long find_attribute(const uint8_t *m, uint32_t end, uint16_t wanted) {
    for (int padded = 1; padded >= 0; padded--) {
        uint32_t pos = 20;
        while (pos + 4 <= end) {
            if (be16(m + pos) == wanted) return pos;
            uint32_t alen = be16(m + pos + 2);
            pos += 4 + alen + (padded ? (-alen & 3u) : 0);
        }
        if (pos == end) return -1;
    }
    return -1;
}

/* codec._fingerprint: "ok" or "absent" as the codec finds it; NULL when it would be anything else. */
static const char *fingerprint_of(const uint8_t *m, uint32_t n, const Attr *attrs, int count) {
    if (!count) return "absent";
    const Attr *last = &attrs[count - 1];
    if (last->type == ATTR_FINGERPRINT && last->len == 4 && last->off + 8 == n &&
        (crc32_of(m, last->off) ^ FINGERPRINT_XOR) == be32(m + last->off + 4))
        return "ok";
    if (n < 28) return "absent";
    long found = find_attribute(m, n, ATTR_FINGERPRINT);
    return found < 0 || found + 8 > (long)n ? "absent" : NULL;
}

static int value_ok(const AttrSpec *spec, uint16_t len) {
    switch (spec->check) {
    case CHECK_ANY:
        return 1;
    case CHECK_EXACT:
        return len == spec->size;
    case CHECK_MULTIPLE:
        return len % spec->size == 0;
    case CHECK_AT_LEAST:
        return len >= spec->size;
    case CHECK_MS_SEQUENCE:
        return len == 4 || len == 24;
    default:
        return 0;
    }
}

/* The attribute names, addresses and anomalies of a message the way codec._attributes finds them:
 * 1 when there are no anomalies and no nested message, and each value is one checked here. */
static int read_attributes(Lister *l, const uint8_t *m, const Attr *attrs, int count, int legacy, Row *row) {
    int seen_integrity = 0;
    row->n_attrs = row->n_addrs = 0;
    if (count > MAX_ROW_ATTRS) return 0;
    for (int i = 0; i < count; i++) {
        const Attr *a = &attrs[i];
        uint16_t at = l->index[legacy][a->type];
        const AttrSpec *spec = at ? &l->specs[at - 1] : NULL;
        if (seen_integrity && a->type != ATTR_FINGERPRINT && a->type != ATTR_INTEGRITY_SHA256) return 0;
        if (a->type == ATTR_MESSAGE_INTEGRITY)
            seen_integrity = 1;
        else if (a->type == ATTR_FINGERPRINT && i != count - 1)
            return 0;
        if (a->type == ATTR_DATA && a->len && looks_like_stun_header(m + a->off + 4, a->len)) return 0;
        if (!spec) {
            sprintf(row->unknown_names[i], "0x%04X", a->type);
            row->attr_names[row->n_attrs++] = row->unknown_names[i];
            continue;
        }
        row->attr_names[row->n_attrs++] = spec->name;
        if (spec->check == CHECK_ADDRESS || spec->check == CHECK_XOR_ADDRESS) {
            int family;
            uint16_t port;
            uint8_t addr[16];
            if (!read_address(m, a, spec->check == CHECK_XOR_ADDRESS, &family, &port, addr)) return 0;
            int known = 0;
            for (int j = 0; j < row->n_addrs; j++) known |= row->addr_names[j] == spec->name;
            if (!known) {
                if (row->n_addrs >= MAX_ROW_ADDRS) return 0;
                row->addr_names[row->n_addrs] = spec->name;
                endpoint_text(l, row->addr_eps[row->n_addrs++], family, addr, port);
            }
        } else if (!value_ok(spec, a->len)) {
            return 0;
        }
    }
    return 1;
}

static void hex_text(char *out, const uint8_t *p, int n) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* A Send/Data indication, or an MS-TURN Send request or Data indication, as the codec decodes
 * it: its row when it is one of the layouts checked here (0 otherwise). `m` is the whole
 * datagram, 20 + its length field. */
static int wrapped_row(Lister *l, const uint8_t *m, uint32_t n, Row *row) {
    Attr attrs[MAX_ROW_ATTRS + 1];
    int count = 0;
    uint16_t type = be16(m);
    int legacy;
    if (type == 0x0016 || type == 0x0017) {
        /* RFC 5389: the cookie, a padded walk that ends cleanly, no marker of another dialect */
        if (!has_cookie(m) || !walk_attributes(m, n, 1, attrs, MAX_ROW_ATTRS + 1, &count) ||
            has_marker(attrs, count))
            return 0;
        legacy = 0;
        row->dialect = "rfc5389";
        row->method = type == 0x0016 ? "send" : "data";
        row->cls = "indication";
        hex_text(row->tid, m + 8, 12);
    } else if (type == 0x0004 || type == 0x0115) {
        /* [MS-TURN]: no RFC 5389 cookie, MAGIC-COOKIE first, an unpadded walk that ends cleanly */
        if (has_cookie(m) || n < 28 || be16(m + 20) != ATTR_MAGIC_COOKIE || be16(m + 22) != 4 ||
            be32(m + 24) != MS_COOKIE_VALUE || !walk_attributes(m, n, 0, attrs, MAX_ROW_ATTRS + 1, &count))
            return 0;
        legacy = 1;
        row->dialect = "ms-turn";
        row->method = type == 0x0004 ? "ms-send" : "ms-data";
        row->cls = type == 0x0004 ? "request" : "indication";
        hex_text(row->tid, m + 4, 16);
    } else {
        return 0;
    }
    if (!read_attributes(l, m, attrs, count, legacy, row)) return 0;
    row->fingerprint = fingerprint_of(m, n, attrs, count);
    if (!row->fingerprint) return 0;
    row->channeldata = 0;
    row->type = type;
    row->via = NULL;
    return 1;
}

/* ChannelData (RFC 8656 §12.4) or MS multiplexed TURN (0xFF10) over UDP as the extractor decodes
 * it: its row when its data is not a message of its own and its binding is known here. */
static int channel_data_row(Lister *l, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                            uint16_t dport, const uint8_t *p, uint32_t n, Row *row) {
    uint32_t declared = be16(p + 2);
    int ms = p[0] == 0xFF;
    if (4 + declared > n || n > 4 + declared + 3) return 0; /* classify/channel_data_fits: not ChannelData */
    const uint8_t *data = p + (ms ? 12 : 4);
    uint32_t size = ms ? (declared >= 8 ? declared - 8 : 0) : declared;
    if (ms && n < 12) return 0;
    if (looks_like_stun_header(data, size)) return 0; /* a relayed message: a record of its own */
    if (is_opaque(l, version, src, dst, sport, dport)) return 0;
    unsigned channel = be16(p);
    uint8_t key[KEY_SIZE];
    binding_key(key, version, src, sport, dst, dport, channel);
    int error = 0, reverse = 0;
    Flow *f = l->bindings.used ? table_find(&l->bindings, key, 0, NULL, &error) : NULL;
    if (!f && l->bindings.used) {
        binding_key(key, version, dst, dport, src, sport, channel);
        f = table_find(&l->bindings, key, 0, NULL, &error);
        reverse = 1;
    }
    row->channeldata = 1;
    row->type = channel;
    row->fingerprint = "absent";
    row->n_attrs = row->n_addrs = 0;
    row->via = NULL;
    if (f) {
        row->via = reverse && ms ? "ms-multiplexed" : "channeldata";
        strcpy(row->client, reverse ? row->dst : row->src);
        strcpy(row->server, reverse ? row->src : row->dst);
        endpoint_text(l, row->peer, f->value[0], f->value + 3, be16(f->value + 1));
        row->channel = channel;
    }
    return 1;
}

/* -- writing rows ----------------------------------------------------------------------------- */

static void grow_and_put(Lister *l, const char *s, size_t n) {
    size_t cap = l->cap ? l->cap : 1 << 16;
    while (cap < l->len + n) cap *= 2;
    char *grown = realloc(l->text, cap);
    if (!grown) {
        l->failed = 1;
        return;
    }
    l->text = grown;
    l->cap = cap;
    memcpy(l->text + l->len, s, n);
    l->len += n;
}

static inline void put(Lister *l, const char *s, size_t n) {
    if (l->len + n > l->cap) {
        grow_and_put(l, s, n);
        return;
    }
    memcpy(l->text + l->len, s, n);
    l->len += n;
}

static inline void puts_(Lister *l, const char *s) { put(l, s, strlen(s)); }

static void put_u64(Lister *l, uint64_t v) {
    char buf[24];
    put(l, buf, (size_t)u64_text(buf, v));
}

static void put_padded(Lister *l, const char *s, int width, int left) {
    int n = (int)strlen(s);
    static const char spaces[] = "                                        ";
    if (!left && n < width) put(l, spaces, (size_t)(width - n));
    put(l, s, (size_t)n);
    if (left && n < width) put(l, spaces, (size_t)(width - n));
}

/* csv: message_rows.csv_line */
static void write_csv(Lister *l, const Row *r) {
    put_u64(l, r->frame);
    put(l, ",", 1);
    puts_(l, r->time_repr);
    put(l, ",", 1);
    puts_(l, r->src);
    put(l, ",", 1);
    puts_(l, r->dst);
    put(l, ",", 1);
    puts_(l, r->transport);
    puts_(l, r->channeldata ? ",channeldata,,,," : ",stun,");
    if (!r->channeldata) {
        puts_(l, r->dialect);
        put(l, ",", 1);
        puts_(l, r->method);
        put(l, ",", 1);
        puts_(l, r->cls);
        put(l, ",", 1);
    }
    put_u64(l, r->type);
    put(l, ",", 1);
    puts_(l, r->channeldata ? "" : r->tid);
    put(l, ",,", 2); /* no error code */
    for (int i = 0; i < r->n_addrs; i++) { /* names and addresses hold no comma: never quoted */
        if (i) put(l, " ", 1);
        puts_(l, r->addr_names[i]);
        put(l, "=", 1);
        puts_(l, r->addr_eps[i]);
    }
    put(l, ",", 1);
    puts_(l, r->fingerprint);
    put(l, ",", 1);
    if (r->n_attrs > 1) put(l, "\"", 1);
    for (int i = 0; i < r->n_attrs; i++) {
        if (i) put(l, ",", 1);
        puts_(l, r->attr_names[i]);
    }
    if (r->n_attrs > 1) put(l, "\"", 1);
    put(l, ",", 1);
    if (r->via) {
        puts_(l, r->via);
        puts_(l, " peer=");
        puts_(l, r->peer);
    }
    put(l, ",\n", 2); /* no anomalies */
}

static void put_json_string(Lister *l, const char *s) {
    put(l, "\"", 1);
    puts_(l, s);
    put(l, "\"", 1);
}

/* jsonl: json.dumps(message_rows.line_row(record)) */
static void write_jsonl(Lister *l, const Row *r) {
    puts_(l, "{\"frame\": ");
    put_u64(l, r->frame);
    puts_(l, ", \"time\": ");
    puts_(l, r->time_repr);
    puts_(l, ", \"src\": ");
    put_json_string(l, r->src);
    puts_(l, ", \"dst\": ");
    put_json_string(l, r->dst);
    puts_(l, ", \"transport\": ");
    put_json_string(l, r->transport);
    puts_(l, ", \"kind\": ");
    put_json_string(l, r->channeldata ? "channeldata" : "stun");
    puts_(l, ", \"dialect\": ");
    put_json_string(l, r->channeldata ? "" : r->dialect);
    puts_(l, ", \"method\": ");
    put_json_string(l, r->channeldata ? "" : r->method);
    puts_(l, ", \"class\": ");
    put_json_string(l, r->channeldata ? "" : r->cls);
    puts_(l, ", \"type\": ");
    put_u64(l, r->type);
    puts_(l, ", \"transaction_id\": ");
    put_json_string(l, r->channeldata ? "" : r->tid);
    puts_(l, ", \"error_code\": null, \"addresses\": {");
    for (int i = 0; i < r->n_addrs; i++) {
        if (i) puts_(l, ", ");
        put_json_string(l, r->addr_names[i]);
        puts_(l, ": ");
        put_json_string(l, r->addr_eps[i]);
    }
    puts_(l, "}, \"fingerprint\": ");
    put_json_string(l, r->fingerprint);
    puts_(l, ", \"attributes\": [");
    for (int i = 0; i < r->n_attrs; i++) {
        if (i) puts_(l, ", ");
        put_json_string(l, r->attr_names[i]);
    }
    puts_(l, "], \"relay\": ");
    if (r->via) {
        puts_(l, "{\"via\": ");
        put_json_string(l, r->via);
        puts_(l, ", \"client\": ");
        put_json_string(l, r->client);
        puts_(l, ", \"server\": ");
        put_json_string(l, r->server);
        puts_(l, ", \"peer\": ");
        put_json_string(l, r->peer);
        puts_(l, ", \"channel\": ");
        put_u64(l, r->channel);
        put(l, "}", 1);
    } else {
        puts_(l, "null");
    }
    puts_(l, ", \"anomalies\": []}\n");
}

/* table: messages._table_line */
static void write_table(Lister *l, const Row *r) {
    char frame[24], what[NAME_SIZE * 2], channel[16];
    u64_text(frame, r->frame);
    put_padded(l, frame, 7, 0);
    put(l, " ", 1);
    put_padded(l, r->time_fixed, 17, 0);
    put(l, " ", 1);
    put_padded(l, r->src, 22, 0);
    put(l, " ", 1);
    put_padded(l, r->dst, 22, 0);
    put(l, " ", 1);
    puts_(l, r->transport);
    put(l, " ", 1);
    if (r->channeldata)
        strcpy(what, "channeldata");
    else
        snprintf(what, sizeof what, "%s %s", r->method, r->cls);
    put_padded(l, what, 34, 1);
    put(l, " ", 1);
    int first = 1;
    for (int i = 0; i < r->n_addrs; i++, first = 0) {
        if (!first) put(l, " ", 1);
        puts_(l, r->addr_names[i]);
        put(l, "=", 1);
        puts_(l, r->addr_eps[i]);
    }
    if (r->via) {
        if (!first) put(l, " ", 1);
        puts_(l, "via ");
        puts_(l, r->via);
        puts_(l, " peer=");
        puts_(l, r->peer);
        first = 0;
    }
    if (r->channeldata) {
        if (!first) put(l, " ", 1);
        sprintf(channel, "channel=0x%04x", r->type);
        puts_(l, channel);
    }
    put(l, "\n", 1);
}

static int write_row(Lister *l, const Row *r) {
    if (l->n_rows == l->cap_rows) {
        size_t cap = l->cap_rows ? l->cap_rows * 2 : 1024;
        uint64_t *frames = realloc(l->frames, cap * sizeof(uint64_t));
        if (frames) l->frames = frames;
        uint64_t *ends = frames ? realloc(l->ends, cap * sizeof(uint64_t)) : NULL;
        if (!ends) return -1;
        l->ends = ends;
        l->cap_rows = cap;
    }
    if (l->format == ROWS_CSV)
        write_csv(l, r);
    else if (l->format == ROWS_JSONL)
        write_jsonl(l, r);
    else
        write_table(l, r);
    if (l->failed) return -1;
    l->frames[l->n_rows] = r->frame;
    l->ends[l->n_rows++] = l->len;
    return 1;
}

/* -- the walk's entry points ------------------------------------------------------------------ */

static int remember_pair(FlowTable *pairs, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                         uint16_t dport) {
    uint8_t key[KEY_SIZE];
    int created = 0, error = 0;
    make_key(key, version, KIND_PAIR, sport, dport, src, dst);
    if (!table_find(pairs, key, 1, &created, &error)) return -1;
    make_key(key, version, KIND_PAIR, dport, sport, dst, src);
    return table_find(pairs, key, 1, &created, &error) ? 0 : -1;
}

int lister_udp(Lister *l, FlowTable *pairs, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
               uint16_t dport, const uint8_t *p, uint32_t n, uint64_t number, uint64_t ticks, uint32_t iface) {
    uint8_t key[KEY_SIZE];
    make_key(key, version, KIND_PAIR, sport, dport, src, dst);
    int known = holds(pairs, key);
    Row row;
    row.transport = "udp";
    if (p[0] <= 3) {
        /* STUN as the packet source sees it: the first message of a 5-tuple teaches it the 5-tuple */
        if (n < 20 || 20u + be16(p + 2) != n) return 0;
        if (!known && remember_pair(pairs, version, src, dst, sport, dport) < 0) return -1;
        if (be16(p) == 0x0009) return learn_binding(l, version, src, dst, sport, dport, p, n);
        if (!known || !wrapped_row(l, p, n, &row)) return 0;
    } else {
        /* ChannelData on a TURN port or a 5-tuple that carried STUN; 0xFF10 only on the latter */
        int ms = p[0] == 0xFF;
        if (n < 4 || (ms && (p[1] != 0x10 || !known)) || (!ms && !known && !TURN_PORT(sport) && !TURN_PORT(dport)))
            return 0;
        endpoint_text(l, row.src, version, src, sport);
        endpoint_text(l, row.dst, version, dst, dport);
        if (!channel_data_row(l, version, src, dst, sport, dport, p, n, &row)) return 0;
    }
    if (!time_texts(l, ticks, iface, &row)) return 0;
    if (!row.channeldata) {
        endpoint_text(l, row.src, version, src, sport);
        endpoint_text(l, row.dst, version, dst, dport);
    }
    row.frame = number;
    return write_row(l, &row);
}

/* -- ChannelData framed on TURN/TCP (RFC 8656 §12.5) ------------------------------------------ *
 *
 * A TCP direction whose first bytes the packet source and the extractor frame as STUN and
 * ChannelData (records/extract.py's "stun" framing) is followed here too, segment by segment:
 * where each frame starts. A segment that comes in order, starts where a frame starts and holds
 * whole ChannelData frames only is listed here and not handed back; the packet source hears how
 * many bytes of the direction were listed when it gets the direction's next segment (tcp_listed),
 * so its sequence numbers stay right, and the extractor, between two frames there, needs nothing.
 * A segment out of order, a SYN after data, bytes no frame starts with: the direction is Python's
 * from then on. Whole STUN messages in the segments handed back are read for ChannelBind as UDP
 * ones are; a ChannelBind split over segments makes its transport addresses opaque. */

enum { STREAM_NEW, STREAM_FOLLOWED, STREAM_PYTHON };
/* A TCP direction's Flow: first_number its state, first_ticks the next sequence number (bit 32 set
 * once known), last_number the bytes left of the frame in progress, last_ticks the bytes listed
 * since the last segment handed back, value[0..3] the first bytes of the frame in progress and
 * value[4] how many of them came. */
#define SEQ_KNOWN (1ULL << 32)

static const uint8_t COOKIE[4] = {0x21, 0x12, 0xA4, 0x42};

/* Whether the extractor frames a direction starting with these bytes as STUN and ChannelData:
 * dissectors/framing.detect_tcp_framing gives "stun", or nothing and ChannelData fits on a TURN port. */
static int stun_framing(const uint8_t *p, uint32_t n, uint16_t sport, uint16_t dport) {
    if (n >= 12 && (p[0] == 2 || p[0] == 3) && p[1] == 0 && memcmp(p + 8, COOKIE, 4) == 0) return 0;
    if (n >= 8 && p[0] < 0x40 && memcmp(p + 4, COOKIE, 4) == 0) return 1;
    if (n >= 10 && p[2] < 0x40 && memcmp(p + 6, COOKIE, 4) == 0) return 0;
    if (n >= 11 && p[0] == 0x16 && p[1] == 0x03 && p[2] == 0x01 && p[3] == 0x00) return 0; /* MS pseudo-TLS */
    if (n >= 8 && (p[0] == 2 || p[0] == 3) && p[1] == 0 && p[4] < 0x40 && 20u + be16(p + 6) == be16(p + 2)) return 0;
    return (TURN_PORT(sport) || TURN_PORT(dport)) && n >= 4 && p[0] >= 0x40 && p[0] <= 0x4F && 4u + be16(p + 2) <= n;
}

static int to_python(Lister *l, Flow *f, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                     uint16_t dport) {
    f->first_number = STREAM_PYTHON;
    return mark_both_ways(l, version, KIND_OPAQUE_EPS, sport, dport, src, dst);
}

/* Where frames start in one more segment of a followed direction, as split_stun_stream finds them;
 * whole STUN messages read for ChannelBind. */
static int track(Lister *l, Flow *f, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                 uint16_t dport, const uint8_t *p, uint32_t n) {
    uint32_t pos = 0;
    while (pos < n) {
        if (f->last_number) {
            uint32_t take = f->last_number < n - pos ? (uint32_t)f->last_number : n - pos;
            f->last_number -= take;
            pos += take;
            continue;
        }
        int before = f->value[4]; /* bytes of this frame in earlier segments */
        while (f->value[4] < 4 && pos < n) f->value[f->value[4]++] = p[pos++];
        if (f->value[4] < 4) break;
        const uint8_t *h = f->value;
        uint32_t size;
        if (h[0] < 0x40)
            size = 20u + be16(h + 2);
        else if (h[0] <= 0x7F || (h[0] == 0xFF && h[1] == 0x10))
            size = (4u + be16(h + 2) + 3) & ~3u;
        else
            return to_python(l, f, version, src, dst, sport, dport); /* no frame starts so: the extractor resynchronises */
        f->value[4] = 0;
        uint32_t rest = size - 4, here = n - pos;
        if (h[0] < 0x40 && be16(h) == 0x0009) { /* a ChannelBind */
            int whole = !before && rest <= here;
            int r = whole ? learn_binding(l, version, src, dst, sport, dport, p + pos - 4, size)
                          : mark_both_ways(l, version, KIND_OPAQUE_EPS, sport, dport, src, dst);
            if (r < 0) return -1;
        }
        if (rest <= here) {
            pos += rest;
        } else {
            f->last_number = rest - here;
            pos = n;
        }
    }
    return 0;
}

/* The segment holds whole ChannelData frames only, each a row of its own: their rows. 0: none written. */
static int list_segment(Lister *l, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                        uint16_t dport, const uint8_t *p, uint32_t n, uint64_t number, uint64_t ticks, uint32_t iface) {
    uint32_t pos = 0, frames = 0;
    while (pos < n) {
        if (n - pos < 4 || p[pos] < 0x40 || p[pos] > 0x4F) return 0;
        uint32_t declared = be16(p + pos + 2), size = (4 + declared + 3) & ~3u;
        if (size > n - pos || looks_like_stun_header(p + pos + 4, declared)) return 0;
        pos += size;
        frames++;
    }
    if (!frames || is_opaque(l, version, src, dst, sport, dport)) return 0;
    Row row;
    if (!time_texts(l, ticks, iface, &row)) return 0;
    row.transport = "tcp";
    row.frame = number;
    endpoint_text(l, row.src, version, src, sport);
    endpoint_text(l, row.dst, version, dst, dport);
    for (pos = 0; pos < n; pos += (4 + be16(p + pos + 2) + 3) & ~3u) {
        channel_data_row(l, version, src, dst, sport, dport, p + pos, 4 + be16(p + pos + 2), &row);
        if (write_row(l, &row) < 0) return -1;
    }
    return 1;
}

/* The frame handed back carries the bytes of its direction listed before it (packet source: tcp_listed). */
static int hand_back(Lister *l, Flow *f, uint64_t number) {
    if (!f->last_ticks) return 0;
    if (l->n_listed == l->cap_listed) {
        size_t cap = l->cap_listed ? l->cap_listed * 2 : 256;
        uint64_t *at = realloc(l->listed_at, cap * sizeof(uint64_t));
        if (at) l->listed_at = at;
        uint64_t *bytes = at ? realloc(l->listed, cap * sizeof(uint64_t)) : NULL;
        if (!bytes) return -1;
        l->listed = bytes;
        l->cap_listed = cap;
    }
    l->listed_at[l->n_listed] = number;
    l->listed[l->n_listed++] = f->last_ticks;
    f->last_ticks = 0;
    return 0;
}

int lister_tcp(Lister *l, int version, const uint8_t *src, const uint8_t *dst, const uint8_t *tcp, uint32_t size,
               uint64_t number, uint64_t ticks, uint32_t iface) {
    uint16_t sport = be16(tcp), dport = be16(tcp + 2);
    uint32_t seq = be32(tcp + 4), offset = (tcp[12] >> 4) * 4u;
    const uint8_t *p = tcp + offset;
    uint32_t n = offset < size ? size - offset : 0;
    uint8_t key[KEY_SIZE];
    make_key(key, version, KIND_STREAM, sport, dport, src, dst);
    int created = 0, error = 0;
    Flow *f = table_find(&l->streams, key, 1, &created, &error);
    if (!f) return -1;
    if (f->first_number == STREAM_PYTHON) return 0;
    if (tcp[13] & 0x02) { /* SYN: the packet source counts from it */
        if (f->first_number == STREAM_NEW && !n) {
            f->first_ticks = SEQ_KNOWN | (uint32_t)(seq + 1);
            return 0;
        }
        return hand_back(l, f, number) < 0 ? -1 : to_python(l, f, version, src, dst, sport, dport);
    }
    if (!n) return f->first_number == STREAM_FOLLOWED ? 2 : 0; /* nothing for the packet source */
    if (f->first_number == STREAM_NEW) {
        if (((f->first_ticks & SEQ_KNOWN) && (uint32_t)f->first_ticks != seq) ||
            !stun_framing(p, n, sport, dport))
            return to_python(l, f, version, src, dst, sport, dport);
        f->first_number = STREAM_FOLLOWED; /* the extractor's first bytes: always handed back */
        f->first_ticks = SEQ_KNOWN | (uint32_t)(seq + n);
        return track(l, f, version, src, dst, sport, dport, p, n);
    }
    if ((uint32_t)f->first_ticks != seq)
        return hand_back(l, f, number) < 0 ? -1 : to_python(l, f, version, src, dst, sport, dport);
    f->first_ticks = SEQ_KNOWN | (uint32_t)(seq + n);
    if (!f->last_number && !f->value[4]) {
        int listed = list_segment(l, version, src, dst, sport, dport, p, n, number, ticks, iface);
        if (listed) {
            f->last_ticks += n;
            return listed < 0 ? -1 : 1;
        }
    }
    if (hand_back(l, f, number) < 0) return -1;
    return track(l, f, version, src, dst, sport, dport, p, n);
}

PyObject *lister_take_rows(Lister *l) {
    PyObject *text = PyUnicode_New((Py_ssize_t)l->len, 127);
    if (!text) return NULL;
    memcpy(PyUnicode_DATA(text), l->text, l->len);
    Py_ssize_t size = (Py_ssize_t)(l->n_rows * sizeof(uint64_t));
    Py_ssize_t listed = (Py_ssize_t)(l->n_listed * sizeof(uint64_t));
    PyObject *result = Py_BuildValue("Ny#y#y#y#", text, (const char *)l->frames, size, (const char *)l->ends, size,
                                     (const char *)l->listed_at, listed, (const char *)l->listed, listed);
    l->len = 0;
    l->n_rows = 0;
    l->n_listed = 0;
    return result;
}
