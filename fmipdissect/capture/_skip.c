/* The optional accelerator of the fast path (capture/accel.py).
 *
 * skip(buf, pos, avail, layout) -> (pos, records)
 *
 * Walks the complete records of a pcap file or the Enhanced Packet Blocks
 * of a pcapng section in the read buffer from pos, and steps over every
 * record that the pure-Python hot loops (pcap.py PcapRecords._fast,
 * pcapng.py PcapngBlocks._fast) would step over without a closer look:
 * another link-layer type outside the table, an IPv4 protocol that cannot
 * carry FMIPv4, UDP without port 434 (RFC 4988 5.1, 5.2) or VXLAN's, ICMP
 * of a type other than 41 (RFC 4988 5.3-5.6), a later fragment of a
 * rejected set.  A first fragment that shows no FMIPv4 is rejected through
 * the same Reassembler.reject the Python path calls, in frame order.
 *
 * It stops at the first record the Python loop must look at (a candidate,
 * a tunnel, a link-layer type that may lead to IPv4, anything unusual) or
 * that is not complete in the buffer, and returns where that record starts
 * and how many records it stepped over.  The Python loop then handles that
 * record exactly as without the accelerator, so both give the same
 * records by construction; tests/unit/test_accel.py holds them together.
 *
 * layout: a tuple built by accel.layout():
 *   (pcapng, big_endian, interfaces, type_offset, type_value, link_header,
 *    others, port, vxlan_port, icmp_type, wanted, rejected, reject,
 *    replies)
 * others: bytes, a table of 256 or 65536 flags for one- or two-octet type
 * fields (1: the Python loop must look), or None (always look).
 * wanted: bytes, 256 flags by IPv4 protocol.  rejected: the Reassembler's
 * dict of rejected fragment keys; reject: its bound reject method.
 * replies: the set of UDP ports of replies awaited from ports other than
 * 434 (decision D16); while it is not empty, every UDP record goes to the
 * Python loop, which knows the ports.
 *
 * The IP protocol numbers 1 (ICMP) and 17 (UDP) are literals here; the
 * Python code takes them from fmipdissect/spec/numbers.py (IPPROTO_ICMP,
 * IPPROTO_UDP).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

enum { L_PCAPNG, L_BIG, L_IFACES, L_TYPE_OFFSET, L_TYPE_VALUE, L_LINK_HEADER,
       L_OTHERS, L_PORT, L_VXLAN, L_ICMP, L_WANTED, L_REJECTED, L_REJECT,
       L_REPLIES, L_SIZE };

typedef struct {
    int pcapng, big;
    unsigned long ifaces;
    Py_ssize_t type_offset, type_len, link_header;
    const unsigned char *type_value, *others, *wanted;
    Py_ssize_t others_len;
    unsigned port, vxlan, icmp;
    PyObject *rejected, *reject, *replies;
} Layout;

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

/* carries_fmip() of prefilter.py: 1, 0, or -1 when n is too short */
static int carries_fmip(const Layout *L, int proto, const unsigned char *b,
                        Py_ssize_t n)
{
    if (proto == 17) {
        if (n < 8)
            return -1;
        return u16be(b) == L->port || u16be(b + 2) == L->port
               || PySet_GET_SIZE(L->replies) > 0;
    }
    if (n < 1)
        return -1;
    return b[0] == L->icmp;
}

/* fragment_candidate() of prefilter.py: 1 look, 0 skip, -1 error */
static int fragment(const Layout *L, const unsigned char *buf, Py_ssize_t ip,
                    Py_ssize_t stop, int proto)
{
    const unsigned char *h = buf + ip;
    unsigned vihl = h[0], ihl = (vihl & 15) * 4;
    Py_ssize_t total = u16be(h + 2), have = stop - ip, n;
    PyObject *key;
    int verdict, found;

    key = Py_BuildValue("(iiy#)", (int)u16be(h + 4), proto,
                        (const char *)h + 12, (Py_ssize_t)8);
    if (key == NULL)
        return -1;
    if (u16be(h + 6) & 0x1FFF) {               /* a later fragment */
        found = PyDict_Contains(L->rejected, key);
        Py_DECREF(key);
        return found < 0 ? -1 : !found;
    }
    if (!total)
        total = have;
    if (vihl >> 4 != 4 || ihl < 20 || have < (Py_ssize_t)ihl ||
        total < (Py_ssize_t)ihl) {
        Py_DECREF(key);
        return 1;
    }
    n = (total < have ? total : have) - ihl;
    verdict = carries_fmip(L, proto, h + ihl, n);
    if (verdict == 0) {
        PyObject *r = PyObject_CallOneArg(L->reject, key);
        Py_DECREF(key);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    Py_DECREF(key);
    return 1;
}

/* Whether the Python loop must look at the frame at buf[f:stop]: 1 look,
 * 0 skip, -1 error.  end: the buffer's length (reads never pass it). */
static int look(const Layout *L, const unsigned char *buf, Py_ssize_t f,
                Py_ssize_t stop, Py_ssize_t end)
{
    Py_ssize_t ip = f + L->link_header, t = f + L->type_offset, body;
    unsigned proto;

    if (ip + 20 + 4 > end || t + L->type_len > end)
        return 1;                     /* the Python loop decides */
    if (memcmp(buf + t, L->type_value, L->type_len) != 0) {
        Py_ssize_t v;
        if (L->others == NULL)
            return 1;
        v = L->type_len == 1 ? buf[t] : (Py_ssize_t)u16be(buf + t);
        return v < L->others_len ? L->others[v] : 1;
    }
    proto = buf[ip + 9];
    if (proto != 17 && proto != 1)
        return L->wanted[proto] ? 1 : 0;
    if ((buf[ip + 6] & 0x3F) || buf[ip + 7])
        return fragment(L, buf, ip, stop, (int)proto);
    body = ip + (buf[ip] & 15) * 4;
    if (body + 4 > end)
        return 1;
    if (proto == 17)
        return u16be(buf + body) == L->port || u16be(buf + body + 2) == L->port
               || u16be(buf + body + 2) == L->vxlan
               || PySet_GET_SIZE(L->replies) > 0;
    /* ICMP: ipv4_candidate keeps it when too short to tell or of type 41 */
    return stop - body < 1 || buf[body] == L->icmp;
}

static int unpack(PyObject *t, Layout *L)
{
    PyObject *v, *o;
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != L_SIZE) {
        PyErr_SetString(PyExc_TypeError, "skip: bad layout");
        return -1;
    }
    L->pcapng = PyObject_IsTrue(PyTuple_GET_ITEM(t, L_PCAPNG));
    L->big = PyObject_IsTrue(PyTuple_GET_ITEM(t, L_BIG));
    L->ifaces = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(t, L_IFACES));
    L->type_offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, L_TYPE_OFFSET));
    L->link_header = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, L_LINK_HEADER));
    L->port = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(t, L_PORT));
    L->vxlan = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(t, L_VXLAN));
    L->icmp = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(t, L_ICMP));
    if (PyErr_Occurred())
        return -1;
    v = PyTuple_GET_ITEM(t, L_TYPE_VALUE);
    o = PyTuple_GET_ITEM(t, L_OTHERS);
    if (!PyBytes_Check(v) || (o != Py_None && !PyBytes_Check(o)) ||
        !PyBytes_Check(PyTuple_GET_ITEM(t, L_WANTED)) ||
        PyBytes_GET_SIZE(PyTuple_GET_ITEM(t, L_WANTED)) != 256 ||
        !PyDict_Check(PyTuple_GET_ITEM(t, L_REJECTED)) ||
        !PySet_Check(PyTuple_GET_ITEM(t, L_REPLIES))) {
        PyErr_SetString(PyExc_TypeError, "skip: bad layout");
        return -1;
    }
    L->type_value = (const unsigned char *)PyBytes_AS_STRING(v);
    L->type_len = PyBytes_GET_SIZE(v);
    L->others = o == Py_None ? NULL : (const unsigned char *)PyBytes_AS_STRING(o);
    L->others_len = o == Py_None ? 0 : PyBytes_GET_SIZE(o);
    L->wanted = (const unsigned char *)PyBytes_AS_STRING(
        PyTuple_GET_ITEM(t, L_WANTED));
    L->rejected = PyTuple_GET_ITEM(t, L_REJECTED);
    L->reject = PyTuple_GET_ITEM(t, L_REJECT);
    L->replies = PyTuple_GET_ITEM(t, L_REPLIES);
    return 0;
}

/* Steps over the records from pos as described above; the position of the
 * first record the Python loop must look at (or that is not complete), or
 * -1 with an exception set.  *records: how many it stepped over. */
static Py_ssize_t walk(const Layout *L, const unsigned char *buf,
                       Py_ssize_t len, Py_ssize_t pos, Py_ssize_t avail,
                       Py_ssize_t *records)
{
    if (avail > len)
        avail = len;
    for (;;) {
        Py_ssize_t nxt, f, stop;
        int verdict;
        if (pos < 0)
            break;
        if (L->pcapng) {
            uint32_t btype, blen, caplen;
            if (pos + 32 > avail)
                break;
            btype = u32(buf + pos, L->big);
            blen = u32(buf + pos + 4, L->big);
            caplen = u32(buf + pos + 20, L->big);
            nxt = pos + (Py_ssize_t)blen;
            /* the checks of PcapngBlocks._fast, in its order */
            if (btype != 6 || nxt > avail || (uint64_t)caplen + 32 > blen ||
                u32(buf + pos + 8, L->big) >= L->ifaces ||
                u32(buf + nxt - 4, L->big) != blen)
                break;
            f = pos + 28;
            stop = f + (Py_ssize_t)caplen;
        } else {
            if (pos + 16 > avail)
                break;
            nxt = pos + 16 + (Py_ssize_t)u32(buf + pos + 8, L->big);
            if (nxt > avail)
                break;
            f = pos + 16;
            stop = nxt;
        }
        verdict = look(L, buf, f, stop, len);
        if (verdict < 0)
            return -1;
        if (verdict)
            break;
        (*records)++;
        pos = nxt;
    }
    return pos;
}

/* The buffer, position, end of data and layout of skip() and take(). */
static int arguments(PyObject *const *args, const unsigned char **buf,
                     Py_ssize_t *len, Py_ssize_t *pos, Py_ssize_t *avail,
                     Layout *L)
{
    if (!PyByteArray_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "buf: bytearray expected");
        return -1;
    }
    *buf = (const unsigned char *)PyByteArray_AS_STRING(args[0]);
    *len = PyByteArray_GET_SIZE(args[0]);
    *pos = PyLong_AsSsize_t(args[1]);
    *avail = PyLong_AsSsize_t(args[2]);
    if ((*pos == -1 || *avail == -1) && PyErr_Occurred())
        return -1;
    return unpack(args[3], L);
}

static PyObject *skip(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Layout L;
    const unsigned char *buf;
    Py_ssize_t len, pos, avail, records = 0;

    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "skip(buf: bytearray, pos, avail, layout)");
        return NULL;
    }
    if (arguments(args, &buf, &len, &pos, &avail, &L) < 0)
        return NULL;
    pos = walk(&L, buf, len, pos, avail, &records);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    return Py_BuildValue("(nn)", pos, records);
}

/* A dotted quad, as socket.inet_ntoa writes it (a new reference).  The
 * texts of recently seen addresses are kept (a direct-mapped table): a
 * capture's FMIPv4 messages come from few addresses, and the same str
 * object again also keeps its hash for the dict look-ups downstream. */
#define NAMES 1024
static PyObject *names[NAMES];
static uint32_t named[NAMES];

static PyObject *dotted(const unsigned char *a)
{
    char text[16], *p = text;
    uint32_t addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                    (uint32_t)a[2] << 8 | a[3];
    unsigned slot = (unsigned)((addr * 2654435761u) >> 22) % NAMES;
    PyObject *name;
    int i;
    if (names[slot] != NULL && named[slot] == addr)
        return Py_NewRef(names[slot]);
    for (i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        if (i < 3)
            *p++ = '.';
    }
    name = PyUnicode_FromStringAndSize(text, p - text);
    if (name != NULL) {
        Py_XSETREF(names[slot], Py_NewRef(name));
        named[slot] = addr;
    }
    return name;
}

/* The slots of a record class (plain.Record: its fields are its
 * __slots__, in the order of its __init__), found once per class. */
static PyTypeObject *slots_of;
static PyMemberDef *slots[16];
static Py_ssize_t slot_count;

static int find_slots(PyTypeObject *cls)
{
    PyObject *names = PyObject_GetAttrString((PyObject *)cls, "__slots__");
    Py_ssize_t i, n;
    if (names == NULL)
        return -1;
    n = PyTuple_Check(names) ? PyTuple_GET_SIZE(names) : -1;
    if (n < 0 || n > 16) {
        Py_DECREF(names);
        PyErr_SetString(PyExc_TypeError, "take: a record with __slots__");
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *d = PyDict_GetItemWithError(cls->tp_dict,
                                              PyTuple_GET_ITEM(names, i));
        if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
            Py_DECREF(names);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "take: not a slot");
            return -1;
        }
        slots[i] = ((PyMemberDescrObject *)d)->d_member;
    }
    Py_DECREF(names);
    slot_count = n;
    Py_INCREF(cls);                   /* kept: the pointer is the cache key */
    Py_XSETREF(slots_of, cls);
    return 0;
}

/* cls(*args), its slots filled straight: what the record's generated
 * __init__ (plain.py) does, without running it. */
static PyObject *record(PyObject *cls, PyObject *const *args, Py_ssize_t n)
{
    PyTypeObject *type = (PyTypeObject *)cls;
    PyObject *obj;
    Py_ssize_t i;
    if (!PyType_Check(cls))
        return PyObject_Vectorcall(cls, args, n, NULL);
    if (slots_of != type && find_slots(type) < 0)
        return NULL;
    if (slot_count != n)
        return PyObject_Vectorcall(cls, args, n, NULL);
    obj = type->tp_alloc(type, 0);
    if (obj == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject **at = (PyObject **)((char *)obj + slots[i]->offset);
        *at = Py_NewRef(args[i]);
    }
    return obj;
}

/* plain_datagram() of prefilter.py for the pcap record at pos, reached
 * through the branches of PcapRecords._fast that lead to it: the Datagram
 * (a new reference), Py_None when the Python loop must look (anything
 * else: another link type, a fragment, IP options, a clipped datagram,
 * other ports, ...), NULL on error.  make: (Datagram, time stamp units per
 * second, encapsulation of UDP, of ICMP); frame: the record's number. */
static PyObject *plain(const Layout *L, const unsigned char *buf,
                       Py_ssize_t len, Py_ssize_t pos, Py_ssize_t avail,
                       Py_ssize_t frame, PyObject *make, Py_ssize_t *next)
{
    Py_ssize_t nxt, ip, end, total, at;
    unsigned proto, sport, dport;
    PyObject *args[12], *dgram;
    double time;
    int i, udp;

    if (avail > len)
        avail = len;
    if (L->pcapng || pos < 0 || pos + 16 > avail)
        Py_RETURN_NONE;
    nxt = pos + 16 + (Py_ssize_t)u32(buf + pos + 8, L->big);
    ip = pos + 16 + L->link_header;
    if (nxt > avail || ip + 24 > len ||
        pos + 16 + L->type_offset + L->type_len > len ||
        memcmp(buf + pos + 16 + L->type_offset, L->type_value,
               L->type_len) != 0)
        Py_RETURN_NONE;
    proto = buf[ip + 9];
    udp = proto == 17;
    if ((!udp && proto != 1) || buf[ip] != 0x45 || (buf[ip + 6] & 0x3F) ||
        buf[ip + 7])
        Py_RETURN_NONE;
    total = u16be(buf + ip + 2);
    end = ip + total;
    if (end > nxt)
        Py_RETURN_NONE;
    sport = u16be(buf + ip + 20);
    dport = u16be(buf + ip + 22);
    if (udp ? total < 28 || (sport != L->port && dport != L->port)
            : total < 21 || buf[ip + 20] != L->icmp)
        Py_RETURN_NONE;
    time = (double)u32(buf + pos, L->big) +
           (double)u32(buf + pos + 4, L->big) /
           PyFloat_AsDouble(PyTuple_GET_ITEM(make, 1));
    at = ip + (udp ? 28 : 20);
    args[0] = PyLong_FromSsize_t(frame);
    args[1] = PyFloat_FromDouble(time);
    args[2] = dotted(buf + ip + 12);
    args[3] = dotted(buf + ip + 16);
    args[4] = PyLong_FromLong((long)proto);
    args[5] = PyLong_FromLong((long)buf[ip + 8]);
    args[6] = udp ? PyLong_FromLong((long)sport) : Py_NewRef(Py_None);
    args[7] = udp ? PyLong_FromLong((long)dport) : Py_NewRef(Py_None);
    args[8] = PyBytes_FromStringAndSize((const char *)buf + at, end - at);
    args[9] = Py_NewRef(Py_False);
    args[10] = PyTuple_New(0);
    args[11] = Py_NewRef(PyTuple_GET_ITEM(make, udp ? 2 : 3));
    dgram = NULL;
    for (i = 0; i < 12 && args[i] != NULL; i++)
        ;
    if (i == 12)
        dgram = record(PyTuple_GET_ITEM(make, 0), args, 12);
    for (i = 0; i < 12; i++)
        Py_XDECREF(args[i]);
    *next = nxt;
    return dgram;
}

/* take(buf, pos, avail, layout, frames, make) -> (pos, frames, datagram):
 * skip(), then the usual FMIPv4 candidate of a pcap record built here
 * (plain()).  datagram None: pos is the record the Python loop handles. */
static PyObject *take(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Layout L;
    const unsigned char *buf;
    Py_ssize_t len, pos, avail, records = 0, frames, nxt = 0;
    PyObject *make, *dgram, *out;

    if (nargs != 6 || !PyTuple_Check(args[5]) ||
        PyTuple_GET_SIZE(args[5]) != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "take(buf: bytearray, pos, avail, layout, frames, "
                        "make: tuple)");
        return NULL;
    }
    if (arguments(args, &buf, &len, &pos, &avail, &L) < 0)
        return NULL;
    frames = PyLong_AsSsize_t(args[4]);
    if (frames == -1 && PyErr_Occurred())
        return NULL;
    make = args[5];
    pos = walk(&L, buf, len, pos, avail, &records);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    frames += records;
    dgram = plain(&L, buf, len, pos, avail, frames + 1, make, &nxt);
    if (dgram == NULL)
        return NULL;
    if (dgram != Py_None) {
        pos = nxt;
        frames++;
    }
    out = Py_BuildValue("(nnN)", pos, frames, dgram);
    return out;
}

static PyMethodDef methods[] = {
    {"skip", (PyCFunction)(void (*)(void))skip, METH_FASTCALL,
     "skip(buf, pos, avail, layout) -> (pos, records): step over the records "
     "the fast path would step over (capture/accel.py)."},
    {"take", (PyCFunction)(void (*)(void))take, METH_FASTCALL,
     "take(buf, pos, avail, layout, frames, make) -> (pos, frames, "
     "datagram): skip(), then the usual candidate built (capture/accel.py)."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_skip",
    "Optional C accelerator of fmipdissect's capture fast path.", -1, methods
};

PyMODINIT_FUNC PyInit__skip(void)
{
    return PyModule_Create(&module);
}
