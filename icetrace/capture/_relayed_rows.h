/* The relayed-rows lister (_relayed_rows.c): what the walk (_walk.c) calls to write the rows of
 * relayed media instead of handing those frames back to Python. */
#ifndef ICETRACE_RELAYED_ROWS_H
#define ICETRACE_RELAYED_ROWS_H

#include "_flow_table.h"

typedef struct Lister Lister;

/* A lister writing `format` ("csv", "jsonl" or "table") rows; NULL with a Python error set. */
Lister *lister_new(const char *format);
void lister_free(Lister *l);
/* Attribute names and value kinds from dissectors/codec.py (see Skimmer.list_relayed). */
int lister_set_attributes(Lister *l, PyObject *modern, PyObject *legacy);
/* Frame times of interface `iface` are (ticks + offset) / divisor seconds, exactly, or with
 * `float_division` as Python's int / float gives them; divisor 0: unknown (rows left to Python). */
int lister_time_base(Lister *l, uint32_t iface, uint64_t divisor, int64_t offset, int float_division);
/* A UDP datagram the walk met: 1 its row is written (the frame is not handed back), 0 Python
 * decides, -1 out of memory. `pairs` holds the 5-tuples that carried STUN (both ways); the
 * lister adds a 5-tuple's first STUN message there, as the packet source does. */
int lister_udp(Lister *l, FlowTable *pairs, int version, const uint8_t *src, const uint8_t *dst, uint16_t sport,
               uint16_t dport, const uint8_t *p, uint32_t n, uint64_t number, uint64_t ticks, uint32_t iface);
/* A TCP segment (header and payload, `size` bytes) of a direction the packet source follows or has
 * yet to decide on: 1 its rows are written (not handed back), 2 nothing to hand back, 0 Python
 * reads it, -1 out of memory. */
int lister_tcp(Lister *l, int version, const uint8_t *src, const uint8_t *dst, const uint8_t *tcp, uint32_t size,
               uint64_t number, uint64_t ticks, uint32_t iface);
/* An IP datagram whose payload Python reads and the walk does not (fragments, extension headers). */
int lister_opaque(Lister *l, int version, const uint8_t *src, const uint8_t *dst);
/* The rows written since the last call: (text, each row's frame number, where each ends in text,
 * frames handed back after TCP bytes of their direction were listed, how many bytes), the numbers
 * as bytes of native uint64. */
PyObject *lister_take_rows(Lister *l);

#endif
