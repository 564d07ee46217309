/* The optional accelerator of the merge's reader (capture/sightings.py).
 *
 * sieve(buf, pos, avail, big_endian, type_offset, type_value, link_header,
 *       addresses, sample) -> (pos, records)
 *
 * Walks the complete records of a pcap file in the read buffer from pos
 * and steps over every record that SightingReader's pure-Python test
 * (sightings.py, uninteresting()) would drop: an IPv4 datagram at the
 * link type's fixed offset, not a fragment, not a tunnel (IP-in-IP 4,
 * IPv6 41, GRE 47, VXLAN's UDP port), not an FMIPv4 candidate (UDP port
 * 434, RFC 4988 5.1 and 5.2; ICMP type 41, RFC 4988 5.3-5.6), whose source
 * and destination are both outside `addresses` (bytes: IPv4 addresses in
 * ascending order, four octets each, network order: the mobile nodes' and
 * routers' addresses the FMIPv4 messages named; decision D18).  It stops at any other record, or one not
 * complete in the buffer, and returns where it starts and how many
 * records it stepped over; the Python loop handles that record.
 *
 * The protocol numbers and ports are literals here; the Python test takes
 * them from spec/ and capture/linklayer.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t u32(const unsigned char *p, int big)
{
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                  (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
                  (uint32_t)p[1] << 8 | p[0]);
}

static inline unsigned u16be(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* 1 when the address at p is in the sorted table of n addresses */
static int in_table(const unsigned char *table, Py_ssize_t n,
                    const unsigned char *p)
{
    uint32_t want = u32(p, 1);
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        uint32_t at = u32(table + 4 * mid, 1);
        if (at == want)
            return 1;
        if (at < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* sample_hash() of sightings.py: of the fields a router leaves alone */
static inline uint32_t sample_hash(const unsigned char *ip)
{
    uint32_t h = u32(ip + 12, 1) * 2654435761u;
    h = (h ^ u32(ip + 16, 1)) * 2246822519u;
    h = (h ^ ((uint32_t)u16be(ip + 4) << 8 | ip[9])) * 3266489917u;
    return h ^ h >> 15;
}

/* 1 when the Python loop must look at the frame f of incl octets */
static int wanted(const unsigned char *f, Py_ssize_t incl,
                  Py_ssize_t type_offset, const unsigned char *type_value,
                  Py_ssize_t type_len, Py_ssize_t link_header,
                  const unsigned char *table, Py_ssize_t n,
                  unsigned long sample)
{
    if (incl < link_header + 24
            || memcmp(f + type_offset, type_value, type_len) != 0)
        return 1;
    const unsigned char *ip = f + link_header;
    Py_ssize_t ihl = (ip[0] & 15) * 4;
    if (ip[0] >> 4 != 4 || ihl < 20 || link_header + ihl + 4 > incl)
        return 1;
    if ((ip[6] & 0x3F) || ip[7])
        return 1;                               /* a fragment */
    int proto = ip[9];
    if (sample > 1 && proto != 4 && proto != 41 && proto != 47
            && sample_hash(ip) % sample)
        return 0;                               /* not in the sample */
    if (proto == 4 || proto == 41 || proto == 47)
        return 1;                               /* a tunnel */
    if (proto == 17) {
        unsigned sport = u16be(ip + ihl), dport = u16be(ip + ihl + 2);
        if (sport == 434 || dport == 434 || dport == 4789)
            return 1;
    } else if (proto == 1 && ip[ihl] == 41)
        return 1;
    return in_table(table, n, ip + 12) || in_table(table, n, ip + 16);
}

static PyObject *sieve(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, avail, type_offset, link_header;
    int big;
    Py_buffer type_value, table;
    unsigned long sample;
    if (!PyArg_ParseTuple(args, "y*nnpny*ny*k", &view, &pos, &avail, &big,
                          &type_offset, &type_value, &link_header, &table,
                          &sample))
        return NULL;
    const unsigned char *b = view.buf;
    if (avail > view.len)
        avail = view.len;
    Py_ssize_t records = 0, n = table.len / 4;
    while (pos + 16 <= avail) {
        Py_ssize_t incl = u32(b + pos + 8, big);
        Py_ssize_t next = pos + 16 + incl;
        if (next > avail)
            break;
        if (wanted(b + pos + 16, incl, type_offset, type_value.buf,
                   type_value.len, link_header, table.buf, n, sample))
            break;
        records++;
        pos = next;
    }
    PyBuffer_Release(&table);
    PyBuffer_Release(&type_value);
    PyBuffer_Release(&view);
    return Py_BuildValue("nn", pos, records);
}

static PyMethodDef methods[] = {
    {"sieve", sieve, METH_VARARGS,
     "sieve(buf, pos, avail, big_endian, type_offset, type_value, "
     "link_header, addresses, sample) -> (pos, records stepped over)"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sieve", NULL, -1, methods
};

PyMODINIT_FUNC PyInit__sieve(void)
{
    return PyModule_Create(&module);
}
