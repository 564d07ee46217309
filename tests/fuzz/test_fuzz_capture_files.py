"""Structure-aware fuzzing (hypothesis) of the capture reader.

pcap files with arbitrary headers and record headers (caplen larger than
the snaplen, the record or the file; link types of every kind) and pcapng
files made of block soups (section headers of either byte order, interface
descriptions with odd if_tsresol / if_tsoffset options, enhanced, simple
and obsolete packet blocks naming missing interfaces, unknown blocks, block
lengths that lie), carrying FMIPv4 datagrams in Ethernet, VLAN, raw IP and
cooked framing, fragments included.  For every file:

* the reader raises nothing but CaptureError (exit 2, one line);
* the fast path (prefilter) and the full parse yield the same datagrams
  and notes (fmipdissect/capture/prefilter.py: the prefilter keeps a
  superset of what the full parser accepts);
* the checker over it raises nothing but InputError.
"""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from test_fuzz_messages import fuzz_settings, mutated

import lintcaps
from fmipdissect.capture.reader import CaptureError, CaptureReader
from fmipdissect.errors import InputError
from fmipdissect.lint.engine import CaptureLint, LintConfig

LINKTYPES = [0, 1, 12, 101, 105, 108, 113, 127, 228, 276, 147]


def _frames():
    """Link-layer frames carrying FMIPv4 (Ethernet, VLAN, raw IP)."""
    flow = lintcaps.predictive_flow()
    eth = [bytes(p) for p in flow]
    vlan = [bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                  / Dot1Q(vlan=5) / p[IP]) for p in flow[:3]]
    raw_ip = [bytes(p[IP]) for p in flow[:3]]
    frags = [bytes(Ether() / f) for f in
             (IP(src="10.0.0.5", dst="10.0.0.1", id=7, flags=1, frag=0)
              / bytes(UDP(sport=434, dport=434, len=60) / bytes(52))[:24],
              IP(src="10.0.0.5", dst="10.0.0.1", id=7, frag=3,
                 proto=17) / bytes(36))]
    return eth + vlan + raw_ip + frags


FRAMES = _frames()
frame = st.one_of(st.sampled_from(FRAMES), st.binary(max_size=80),
                  mutated().map(lambda m: bytes(
                      Ether() / IP(src="10.0.0.5", dst="10.0.0.1")
                      / UDP(sport=434, dport=434) / m)))
u32 = st.integers(0, 2**32 - 1)


@st.composite
def pcap_file(draw):
    endian = draw(st.sampled_from("<>"))
    magic = draw(st.sampled_from([0xA1B2C3D4, 0xA1B23C4D]))
    snaplen = draw(st.one_of(st.sampled_from([65535, 262144, 40, 0]), u32))
    linktype = draw(st.one_of(st.just(1), st.just(1), st.just(101),
                              st.sampled_from(LINKTYPES), u32))
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen,
                       linktype)]
    for _ in range(draw(st.integers(0, 8))):
        data = draw(frame)
        caplen = draw(st.one_of(st.just(len(data)), st.just(len(data)),
                                st.just(len(data)),
                                st.integers(0, len(data) + 64), u32))
        origlen = draw(st.one_of(st.just(len(data)), st.just(len(data)),
                                 u32))
        sec = draw(st.one_of(st.just(1_700_000_000), u32))
        frac = draw(st.one_of(st.just(0), st.just(0), u32))
        out.append(struct.pack(endian + "IIII", sec, frac, caplen, origlen))
        out.append(data[:caplen] if caplen <= len(data) else data)
    blob = b"".join(out)
    if draw(st.integers(0, 3)) == 3:    # cut anywhere, the simplest: not
        blob = blob[:len(blob) - draw(st.integers(0, len(blob)))]
    return blob


def _block(endian, btype, body, length=None):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad if length is None else length
    return (struct.pack(endian + "II", btype, total) + body + bytes(pad)
            + struct.pack(endian + "I", total))


def _option(endian, code, value: bytes) -> bytes:
    return (struct.pack(endian + "HH", code, len(value)) + value
            + bytes((-len(value)) % 4))


@st.composite
def pcapng_file(draw):
    endian = draw(st.sampled_from("<>"))
    # the first section's byte order; the blocks below mostly follow it
    start = endian if draw(st.integers(0, 4)) != 4 else draw(
        st.sampled_from("<>"))
    blocks = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["epb", "epb", "epb", "epb", "idb",
                                     "spb", "opb", "shb", "unknown",
                                     "junk"]))
        # (hypothesis favours 0: the rarer case is the non-zero value)
        lie = None if draw(st.integers(0, 7)) != 7 else draw(
            st.one_of(u32, st.integers(0, 40)))
        if kind == "shb":
            e = draw(st.sampled_from([endian, "<", ">"]))
            body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
            blocks.append(_block(e, 0x0A0D0D0A, body, lie))
            endian = e
        elif kind == "idb":
            opts = b""
            if draw(st.booleans()):
                opts += _option(endian, 9, bytes([draw(st.integers(0, 255))]))
            if draw(st.booleans()):
                opts += _option(endian, 14, struct.pack(
                    endian + "q", draw(st.integers(-2**63, 2**63 - 1))))
            if draw(st.booleans()):
                opts += _option(endian, draw(st.integers(0, 65535)),
                                draw(st.binary(max_size=9)))
            if opts:
                opts += _option(endian, 0, b"")
            body = struct.pack(endian + "HHI",
                               draw(st.one_of(st.just(1), st.just(101),
                                              st.sampled_from(LINKTYPES),
                                              st.integers(0, 65535))),
                               0, draw(st.sampled_from([0, 65535, 30]))) + opts
            blocks.append(_block(endian, 1, body, lie))
        elif kind in ("epb", "opb"):
            data = draw(frame)
            caplen = draw(st.one_of(st.just(len(data)), st.just(len(data)),
                                    st.integers(0, 200)))
            iface = draw(st.sampled_from([0, 0, 0, 1, 2, 3]))
            head = (struct.pack(endian + "IIIII", iface, 0, draw(u32),
                                caplen, len(data)) if kind == "epb" else
                    struct.pack(endian + "HHIIII", iface, 0, 0, draw(u32),
                                caplen, len(data)))
            blocks.append(_block(endian, 6 if kind == "epb" else 2,
                                 head + data[:caplen], lie))
        elif kind == "spb":
            data = draw(frame)
            blocks.append(_block(endian, 3, struct.pack(endian + "I",
                                                        len(data)) + data,
                                 lie))
        elif kind == "unknown":
            blocks.append(_block(endian, draw(u32),
                                 draw(st.binary(max_size=16)), lie))
        else:
            blocks.append(draw(st.binary(max_size=24)))
    # a file starts with a section header (else it is not pcapng at all),
    # mostly followed by an Ethernet interface
    shb = _block(start, 0x0A0D0D0A,
                 struct.pack(start + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    if draw(st.integers(0, 4)) != 4:
        shb += _block(start, 1, struct.pack(start + "HHI", 1, 0, 0))
    blob = shb + b"".join(blocks)
    if draw(st.integers(0, 3)) == 3:    # cut anywhere, the simplest: not
        blob = blob[:len(blob) - draw(st.integers(0, len(blob)))]
    return blob


def read_all(path, prefilter):
    try:
        with CaptureReader(str(path), prefilter=prefilter) as reader:
            return [item for item in reader], None
    except CaptureError as exc:
        return None, str(exc)


def check_file(tmp_path_factory, blob: bytes, suffix: str):
    path = tmp_path_factory.mktemp("cap") / f"fuzz{suffix}"
    path.write_bytes(blob)
    fast, fast_error = read_all(path, True)
    full, full_error = read_all(path, False)
    assert fast_error == full_error
    assert fast == full, "prefilter and full parse disagree"
    try:
        for _ in CaptureLint(str(path), LintConfig()):
            pass
    except InputError:
        pass
    assert path.read_bytes() == blob     # never writes to its input


@fuzz_settings(150)
@given(pcap_file())
def test_pcap_files(tmp_path_factory, blob):
    check_file(tmp_path_factory, blob, ".pcap")


@fuzz_settings(150)
@given(pcapng_file())
def test_pcapng_files(tmp_path_factory, blob):
    check_file(tmp_path_factory, blob, ".pcapng")
