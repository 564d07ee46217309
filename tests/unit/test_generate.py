"""The handover generator (`fmipdissect gen`) and the committed samples.

Captures are written by the real generator, read back by Scapy (with the
project's layers) and by dpkt; checksums and authenticators are recomputed
here independently (RFC 1071 sum, hmac module), not with the code under test.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.utils import rdpcap

from fmipdissect import cli
from fmipdissect.gen import generate as G
from fmipdissect.gen import flows as F
from fmipdissect.gen import samples as SM
from fmipdissect.gen import scenarios as S
from fmipdissect.gen import violations as V
from fmipdissect.layers import (FBU, HI, FBAck, HAck, IPv4AddrOption,
                                LLAOption, MNPARAuth, PrefixOption, PrRtAdv,
                                RtSolPr)
from fmipdissect.spec import rules as R

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
KEY = F.SAMPLE_KEY
NTP_1970 = 2_208_988_800


def gen(tmp_path, *args: str, name: str = "out.pcap") -> Path:
    out = tmp_path / name
    assert cli.main(["gen", *args, "-o", str(out)]) == 0
    return out


def messages(path: Path):
    """(time, IP packet, FMIPv4 message layer) for every FMIPv4 frame."""
    out = []
    for pkt in rdpcap(str(path)):
        for cls in (FBU, FBAck, RtSolPr, PrRtAdv, HI, HAck):
            if cls in pkt:
                out.append((float(pkt.time), pkt[IP], pkt[cls]))
                break
    return out


def summary(path: Path):
    return [(type(m).__name__, ip.src, ip.dst,
             getattr(m, "code", None)) for _, ip, m in messages(path)]


def ones_complement(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def assert_conformant_fields(path: Path):
    """Checks every conformant sample must pass, recomputed independently."""
    fbus = {}
    for t, ip, m in messages(path):
        raw = bytes(m)
        if isinstance(m, (FBU, FBAck)):
            auth = m[MNPARAuth]
            assert auth.subtype == 4 and auth.spi == F.SAMPLE_SPI
            # decision D5: HMAC-MD5 from the Type field through the SPI
            covered = raw[:len(raw) - len(bytes(auth)) + 8]
            assert auth.authenticator == hmac.new(KEY, covered,
                                                  hashlib.md5).digest()
            assert m.lifetime <= 10
            assert ip[UDP].dport == 434
        if isinstance(m, FBU):
            # decision D6: NTP timestamp of the time the FBU was sent
            assert m.ident >> 32 == int(t) + NTP_1970
            fbus[(m.homeaddr, m.ident)] = m.lifetime
            assert m.haaddr == "10.1.0.1" and m.coa == "10.2.0.1"
            assert m.flags == 0
        if isinstance(m, FBAck):
            # decision D9: matches an FBU; granted Lifetime <= requested
            assert (m.homeaddr, m.ident) in fbus
            assert m.lifetime <= fbus[(m.homeaddr, m.ident)]
        if isinstance(m, (RtSolPr, PrRtAdv, HI, HAck)):
            # decision D2: checksum over the message with Reserved zeroed
            zeroed = bytearray(raw)
            zeroed[2:4] = b"\0\0"
            zeroed[5] &= 0xC0 if isinstance(m, HI) else 0
            assert ones_complement(bytes(zeroed)) == m.chksum
            assert m.reserved == 0


# --- scenarios ------------------------------------------------------------

def test_predictive_is_figure_1():
    path = SAMPLES / "predictive.pcap"
    assert summary(path) == [
        ("RtSolPr", "10.1.0.10", "10.1.0.1", 0),
        ("PrRtAdv", "10.1.0.1", "10.1.0.10", 0),
        ("FBU", "10.1.0.10", "10.1.0.1", None),
        ("HI", "10.1.0.1", "10.2.0.1", 0),
        ("HAck", "10.2.0.1", "10.1.0.1", 0),
        ("FBAck", "10.1.0.1", "10.1.0.10", 0),
        ("FBAck", "10.1.0.1", "10.2.0.1", 0),
    ]
    msgs = messages(path)
    rtsolpr, prrtadv, fbu, hi, hack = (m for _, _, m in msgs[:5])
    assert prrtadv.identifier == rtsolpr.identifier != 0
    assert rtsolpr[LLAOption].code == 1
    assert [(o.code, o.lla) for o in prrtadv.iterpayloads()
            if isinstance(o, LLAOption)] == [(1, "02:00:00:cc:00:02"),
                                              (3, "02:00:00:bb:00:02")]
    assert prrtadv[IPv4AddrOption].code == 3
    assert prrtadv[IPv4AddrOption].addr == "10.2.0.1"
    assert prrtadv[PrefixOption].prefixlen == 16
    # FBU from the old link: source = Home Address, dest = Home Agent = PAR
    assert fbu.homeaddr == "10.1.0.10" and fbu.haaddr == "10.1.0.1"
    assert hi.S == 0 and hi.U == 1 and hack.identifier == hi.identifier
    assert hi[LLAOption].code == 2 and hi[LLAOption].lla == "02:00:00:aa:00:01"
    assert hi[IPv4AddrOption].code == 1
    assert hi[IPv4AddrOption].addr == "10.1.0.10"
    assert {m.ident for _, _, m in msgs[5:]} == {fbu.ident}
    assert_conformant_fields(path)


def test_reactive_is_figure_2():
    path = SAMPLES / "reactive.pcap"
    assert summary(path) == [
        ("RtSolPr", "10.1.0.10", "10.1.0.1", 0),
        ("PrRtAdv", "10.1.0.1", "10.1.0.10", 0),
        ("FBU", "10.1.0.10", "10.2.0.1", None),
        ("FBU", "10.2.0.1", "10.1.0.1", None),
        ("HI", "10.1.0.1", "10.2.0.1", 1),
        ("HAck", "10.2.0.1", "10.1.0.1", 0),
        ("FBAck", "10.1.0.1", "10.2.0.1", 0),
        ("FBAck", "10.2.0.1", "10.1.0.10", 0),
    ]
    msgs = messages(path)
    # NAR forwards the FBU unchanged from the Type field on (RFC 4988 4.1)
    assert bytes(msgs[2][2]) == bytes(msgs[3][2])
    assert msgs[4][2].S == 0 and msgs[4][2].U == 0
    assert_conformant_fields(path)


def test_network_initiated():
    path = SAMPLES / "network-initiated.pcap"
    assert [s[0] for s in summary(path)] == [
        "PrRtAdv", "FBU", "HI", "HAck", "FBAck", "FBAck"]
    prrtadv = messages(path)[0][2]
    assert prrtadv.code == 1 and prrtadv.identifier == 0
    options = [(type(o).__name__, getattr(o, "code", None))
               for o in prrtadv.iterpayloads()][1:]
    # NCoA after the prefix option (RFC 4988 5.4)
    assert options == [("LLAOption", 1), ("LLAOption", 3),
                       ("IPv4AddrOption", 3), ("PrefixOption", 0),
                       ("IPv4AddrOption", 2)]
    assert_conformant_fields(path)


def test_rejected():
    path = SAMPLES / "rejected.pcap"
    codes = [(name, code) for name, _, _, code in summary(path)
             if name in ("HAck", "FBAck")]
    assert codes == [("HAck", 128), ("FBAck", 128), ("HAck", 130),
                     ("FBAck", 130), ("FBAck", 129)]
    assert all(m.lifetime == 0 for _, _, m in messages(path)
               if isinstance(m, FBAck))
    assert_conformant_fields(path)


def test_ncoa():
    path = SAMPLES / "ncoa.pcap"
    msgs = {type(m).__name__: m for _, _, m in messages(path)}
    assert msgs["HI"].S == 1
    assert msgs["HAck"].code == 3
    assert msgs["HAck"][IPv4AddrOption].code == 2
    assert msgs["HAck"][IPv4AddrOption].addr == "10.2.0.10"
    fback = msgs["FBAck"]
    assert fback.code == 1
    # decision D4: the NCoA option (8 octets, Length 1) before the auth ext
    layers = [type(x).__name__ for x in fback.iterpayloads()]
    assert layers == ["FBAck", "IPv4AddrOption", "MNPARAuth"]
    assert fback[IPv4AddrOption].len == 1
    assert fback[IPv4AddrOption].addr == "10.2.0.10"
    assert_conformant_fields(path)


def test_violations_cover_every_packet_rule():
    """One frame per rule a packet can trigger (FM1xx-FM5xx)."""
    packet_rules = {r.id for r in R.RULES
                    if r.id[2] in "12345" and r.section != "-"}
    assert {v[1] for v in V.VIOLATIONS} == packet_rules
    frames = len(rdpcap(str(SAMPLES / "violations.pcap")))
    for frame, rule, description, text in V.VIOLATIONS:
        assert 1 <= frame <= frames and description
        assert text == R.rule(rule).why


def test_violations_match_the_checker():
    """The real checker finds exactly the documented findings."""
    lint = pytest.importorskip("fmipdissect.lint.engine")
    from fmipdissect.lint.keys import load_keys
    findings = lint.CaptureLint(
        str(SAMPLES / "violations.pcap"),
        lint.LintConfig(keys=load_keys(str(SAMPLES / "keys.txt"))))
    got = sorted((f.frame, f.rule) for f in findings)
    assert got == sorted((v[0], v[1]) for v in V.VIOLATIONS)


# --- templates, determinism, scale ----------------------------------------

@pytest.mark.parametrize("name", [n for n, s in S.SCENARIOS.items()
                                  if s.repeatable])
def test_patched_template_equals_scapy_build(name):
    """The fast path writes the same bytes Scapy builds for MN n."""
    base = F.Params()
    template = G.compile_template(name, base)
    assert not template.scapy_per_handover   # the struct fast path is used
    for n in (3, 400, 70000):
        p = F.params_for(base, n, base.start_us + 987_654_321 * n)
        expected = [(p.start_us + fr.offset_us, bytes(fr.packet))
                    for fr in S.SCENARIOS[name].build(p)]
        assert G.patch_handover(template, p) == expected


def test_scapy_fallback_gives_the_same_bytes():
    """Should a patch plan ever fail its proof, every handover is built
    with Scapy: slower, same bytes."""
    base = F.Params()
    fast = G.compile_template("ncoa", base)
    slow = G.compile_template("ncoa", base)
    slow.scapy_per_handover = True
    p = F.params_for(base, 12, base.start_us + 5_000_000)
    assert G.patch_handover(slow, p) == G.patch_handover(fast, p)


def test_same_seed_same_bytes(tmp_path):
    args = ["predictive", "--handovers", "5", "--background", "0.8"]
    a = gen(tmp_path, *args, "--seed", "7", name="a.pcap").read_bytes()
    b = gen(tmp_path, *args, "--seed", "7", name="b.pcap").read_bytes()
    c = gen(tmp_path, *args, "--seed", "8", name="c.pcap").read_bytes()
    assert a == b and a != c


def test_handovers_and_background_proportions(tmp_path):
    path = gen(tmp_path, "ncoa", "--handovers", "20", "--background", "0.9")
    packets = rdpcap(str(path))
    fmip = messages(path)
    assert len(fmip) == 20 * 7 and len(packets) == 20 * 7 * 10
    background = [p for p in packets if TCP in p or (
        UDP in p and p[UDP].dport != 434)]
    assert len(background) == len(packets) - len(fmip)
    times = [float(p.time) for p in packets]
    assert times == sorted(times)
    # distinct MNs, interleaved in time, each a complete conformant flow
    mns = {m.homeaddr for _, _, m in fmip if isinstance(m, FBU)}
    assert len(mns) == 20
    his = {(m.identifier) for _, _, m in fmip if isinstance(m, HI)}
    assert len(his) == 20
    for _, ip, m in fmip:
        if isinstance(m, (FBU, FBAck)):
            covered = bytes(m)[:len(bytes(m)) - 16]
            assert m[MNPARAuth].authenticator == hmac.new(
                KEY, covered, hashlib.md5).digest()
    # checksums of every packet, recomputed by Scapy
    for p in packets[:400]:
        ip = p[IP].copy()
        ip.chksum = None
        for layer in (UDP, TCP):
            if layer in ip:
                ip[layer].chksum = None
        assert bytes(IP(bytes(ip))) == bytes(p[IP])
    sizes = {len(p[IP]) for p in background}
    assert {40, 1500, 200} <= sizes


def test_total_packets_option(tmp_path):
    path = gen(tmp_path, "predictive", "--packets", "5000",
               "--background", "0.99")
    with open(path, "rb") as fh:
        count = sum(1 for _ in dpkt.pcap.Reader(fh))
    assert count == 5000
    assert len(messages(path)) == 49   # 7 handovers of 7 frames ~ 1 %


@pytest.mark.parametrize("ext", ["pcap", "pcapng"])
@pytest.mark.parametrize("linktype,dlt", [("ethernet", 1), ("cooked", 113),
                                          ("raw", 101)])
def test_link_types_and_formats(tmp_path, linktype, dlt, ext):
    path = gen(tmp_path, "reactive", "--linktype", linktype,
               "--background", "0.5", name=f"x.{ext}")
    head = path.read_bytes()[:4]
    assert head == (b"\x0a\x0d\x0d\x0a" if ext == "pcapng"
                    else b"\xd4\xc3\xb2\xa1")
    with open(path, "rb") as fh:
        reader = (dpkt.pcapng.Reader if ext == "pcapng"
                  else dpkt.pcap.Reader)(fh)
        assert reader.datalink() == dlt
        records = list(reader)
    assert len(records) == 16
    offset = {"ethernet": 14, "cooked": 16, "raw": 0}[linktype]
    first = dpkt.ip.IP(records[0][1][offset:])
    assert first.p == 1 and first.data.type == 41
    # the same records through Scapy: FMIPv4 layers on every link type
    assert summary(path) == summary(SAMPLES / "reactive.pcap")


def test_addresses_macs_key_and_spi(tmp_path):
    path = gen(tmp_path, "predictive", "--mn", "192.0.2.7", "--par",
               "192.0.2.1", "--nar", "198.51.100.1", "--ncoa", "198.51.100.9",
               "--mn-mac", "00:11:22:33:44:55", "--key", "00ff" * 8,
               "--spi", "4711")
    pkts = rdpcap(str(path))
    fbu = pkts[2][FBU]
    assert (fbu.homeaddr, fbu.haaddr, fbu.coa) == (
        "192.0.2.7", "192.0.2.1", "198.51.100.1")
    assert pkts[2].src == "00:11:22:33:44:55"
    assert pkts[3][HI][LLAOption].lla == "00:11:22:33:44:55"
    auth = fbu[MNPARAuth]
    assert auth.spi == 4711
    covered = bytes(fbu)[:len(bytes(fbu)) - 16]
    assert auth.authenticator == hmac.new(bytes.fromhex("00ff" * 8), covered,
                                          hashlib.md5).digest()


# --- command line ---------------------------------------------------------

def test_list(capsys):
    assert cli.main(["gen", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(S.SCENARIOS)


@pytest.mark.parametrize("args,words", [
    (["nope"], "unknown scenario 'nope'"),
    (["predictive", "--background", "1"], "--background"),
    (["predictive", "--mn", "10.1.0"], "not a dotted-quad"),
    (["predictive", "--key", "xyz"], "--key is not hex"),
    (["predictive", "--mn-mac", "00:11"], "not a MAC address"),
    (["violations", "--handovers", "3"], "cannot be repeated"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, args, words):
    out = tmp_path / "x.pcap"
    assert cli.main(["gen", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
    assert not out.exists()


def test_console_script_unknown_scenario(tmp_path):
    exe = Path(sys.executable).parent / "fmipdissect"
    if not exe.exists():
        exe = shutil.which("fmipdissect")
    assert exe, "the fmipdissect console script is installed with the package"
    proc = subprocess.run([str(exe), "gen", "bogus", "-o",
                           str(tmp_path / "x.pcap")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# --- the committed samples ---------------------------------------------------

def test_samples_are_current(tmp_path):
    written = SM.write_samples(tmp_path)
    for path in written:
        name = path.relative_to(tmp_path)
        committed = SAMPLES / name
        assert committed.read_bytes() == path.read_bytes(), (
            f"samples/{name} is stale: run `{SM.REGENERATE}`")
    assert (SAMPLES / SM.VANTAGE_DIR / "mn.pcap") in {
        SAMPLES / p.relative_to(tmp_path) for p in written}


def test_samples_doc_is_current():
    doc = (ROOT / "docs" / "samples.md").read_text()
    assert doc == SM.samples_doc(), (
        f"docs/samples.md is stale: run `{SM.REGENERATE_DOCS}`")
    for frame, rule, *_ in V.VIOLATIONS:
        assert f"| {frame} | {rule} |" in doc
