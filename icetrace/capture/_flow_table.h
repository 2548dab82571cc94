/* What the skimmer's walk (_walk.c) and its relayed-rows lister (_relayed_rows.c) both build on:
 * the per-5-tuple hash tables and their keys, the RFC 7983 first-byte kinds, big-endian reads. */
#ifndef ICETRACE_FLOW_TABLE_H
#define ICETRACE_FLOW_TABLE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INTERFACES 4096

/* what a payload holds: dissectors.demux.media_kind's names, in this order */
enum { KIND_RTP, KIND_RTCP, KIND_DTLS, KIND_ZRTP, KIND_CHANNELDATA, KIND_DATA };
#define KIND_STREAM 249    /* key of a TCP direction the lister follows */
#define KIND_BINDING 250   /* key of a channel binding (lister) */
#define KIND_OPAQUE_IPS 251 /* key of an address pair the lister leaves to Python */
#define KIND_OPAQUE_EPS 252 /* key of a transport address pair the lister leaves to Python */
#define KIND_PAIR 254      /* key of a 5-tuple that carried STUN */
#define KIND_TCP 255       /* key of an ignored TCP direction */

#define TURN_PORT(p) ((p) == 3478 || (p) == 3479 || (p) == 5349 || (p) == 5350) /* demux.TURN_PORTS */

/* key: version, kind, sport, dport, src[16], dst[16] (IPv4 in the first 4 bytes);
 * relayed data adds: via (byte 2), peer family (3: 0 none, 4, 6), channel (40), peer port (42),
 * peer address (44..59) */
#define KEY_SIZE 64

typedef struct {
    uint8_t key[KEY_SIZE];
    uint64_t first_number, first_ticks, last_number, last_ticks, packets, bytes;
    uint32_t first_iface, last_iface;
    uint8_t value[20]; /* a channel binding's peer: family (4 or 6), port (2 bytes), address */
    int used;
} Flow;

/* Open addressing, linear probing, at most half full. It grows with the GIL released,
 * so plain malloc/free. */
typedef struct {
    Flow *slots;
    size_t cap, used;
} FlowTable;

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t hash_key(const uint8_t *key) {
    uint64_t h = 0x9E3779B97F4A7C15ULL, word;
    for (int i = 0; i < KEY_SIZE; i += 8) {
        memcpy(&word, key + i, 8);
        h = (h ^ word) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 29;
    }
    return h;
}

static inline void make_key(uint8_t *key, int version, int kind, uint16_t sport, uint16_t dport,
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

static inline int table_grow(FlowTable *t) {
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
static inline Flow *table_find(FlowTable *t, const uint8_t *key, int insert, int *created, int *error) {
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

static inline int holds(FlowTable *t, const uint8_t *key) {
    int error = 0;
    return t->used && table_find(t, key, 0, NULL, &error) != NULL;
}

#endif
