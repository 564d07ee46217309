"""The checker judged against the RFC: the corrections and the checks that
were missing (RFC 4988 4, 5.2-5.6, 6.3; decisions D14, D15).  Each test
reproduces what an independent corpus found; tests/wireshark/
test_wireshark_judged.py holds the dissector to the same cases."""

from __future__ import annotations

import lintcaps as L
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.lint.keys import parse_keys

NCOA_HACK = [L.IPv4AddrOption(code=2, addr=L.NCOA)]

# name -> (packets, the (frame, rule) findings expected among errors and
# warnings, nothing else)
CASES = {
    # the second handover's HAck supplies no NCoA: its FBAck needs none
    "second-handover-without-ncoa": ([
        L.fbu(), L.hi(S=1), L.hack(code=3, options=NCOA_HACK),
        L.fback(code=1, extensions=[L.IPv4AddrOption(code=2, addr=L.NCOA)]),
        L.fbu(ident=L.IDENT + 1), L.hi(identifier=L.HI_ID + 1),
        L.hack(identifier=L.HI_ID + 1), L.fback(ident=L.IDENT + 1)], set()),
    # RFC 3344 3.4: a denial's Lifetime is ignored on reception
    "rejected-fback-lifetime": ([L.fbu(lifetime=3),
                                 L.fback(code=129, lifetime=10)], set()),
    # an undefined PrRtAdv Code answers no RtSolPr: only its Code is wrong
    "prrtadv-undefined-code": ([L.rtsolpr(), L.prrtadv(code=6)],
                               {(2, "FM205")}),
    "ttl-zero": ([L._ttl_zero(L.hi()), L.hack()], {(1, "FM215")}),
    "prefix-length": ([L.prrtadv(code=1, identifier=0, options=(
        L.prrtadv_options()[:3] + [L.PrefixOption(prefixlen=33)]))],
        {(1, "FM309")}),
    # decision D15: the second tuple misses NAR's IP address and prefix
    "tuples": ([L.prrtadv(code=1, identifier=0, options=(
        L.prrtadv_options() + L.prrtadv_options()[:2]))],
        {(1, "FM207"), (1, "FM216")}),
    "home-agent": ([L.fbu(), L.fback(haaddr=L.ELSEWHERE)], {(2, "FM421")}),
    "ncoa-dropped": ([L.fbu(), L.hi(S=1), L.hack(code=3, options=NCOA_HACK),
                      L.fback()], {(4, "FM422")}),
    "ncoa-differs": ([L.fbu(), L.hi(S=1), L.hack(code=3, options=NCOA_HACK),
                      L.fback(code=1, extensions=[L.IPv4AddrOption(
                          code=2, addr=L.ELSEWHERE)])], {(4, "FM423")}),
    "ncoa-kept": ([L.fbu(), L.hi(S=1), L.hack(code=3, options=NCOA_HACK),
                   L.fback(code=1, extensions=[L.IPv4AddrOption(
                       code=2, addr=L.NCOA)])], set()),
    "reserved-spi": ([L.fbu(spi=7), L.fback(spi=7)],
                     {(1, "FM503"), (2, "FM503")}),
    # decision D16: FBAck from and to other ports than 434
    "ephemeral-ports": ([L.fbu(sport=50000),
                         L.fback(sport=50001, dport=50000, auth=False),
                         L.raw_udp(L.PAR, L.MN, b"\x15" * 12, sport=50001,
                                   dport=50009)], {(2, "FM104")}),
}


def findings(tmp_path, name, keys=None):
    packets, _ = CASES[name]
    path = L.write(tmp_path / f"{name}.pcap", packets)
    return list(CaptureLint(str(path), LintConfig(keys=keys)))


def test_each_case_gives_exactly_its_findings(tmp_path):
    for name, (_, want) in CASES.items():
        got = {(f.frame, f.rule) for f in findings(tmp_path, name)
               if f.severity != "info"}
        assert got == want, name


def test_the_words_of_the_new_checks(tmp_path):
    texts = {f.rule: f.message for name in ("tuples", "ncoa-dropped",
                                            "ncoa-differs", "home-agent")
             for f in findings(tmp_path, name)}
    assert texts["FM207"] == ("PrRtAdv Code 1 lacks the New Router's IP "
                              "Address option in the tuple at offset 56")
    assert texts["FM216"] == ("PrRtAdv Code 1: the tuple of the New Access "
                              "Point LLA option at offset 56 has no New "
                              "Router Prefix Information option")
    assert texts["FM422"] == (f"FBAck Code 0 carries no NCoA, but the HAck "
                              f"of frame 3 supplied {L.NCOA}")
    assert texts["FM423"] == (f"FBAck NCoA {L.ELSEWHERE} differs from "
                              f"{L.NCOA}, supplied by the HAck of frame 3")
    assert texts["FM421"] == (f"FBAck Home Agent {L.ELSEWHERE} is not the "
                              f"PAR {L.PAR} the FBU of frame 1 was sent to")


def test_a_reserved_spi_is_not_verified_even_with_its_key(tmp_path):
    keys = parse_keys(L.keys_text(spi=7).splitlines())
    rules = {f.rule for f in findings(tmp_path, "reserved-spi", keys)}
    assert "FM503" in rules and not rules & {"FM501", "FM502"}



# --- decision D16: an FBAck from and to other ports than 434 ----------------

EPHEMERAL = [L.fbu(sport=50000), L.fback(sport=50001, dport=50000)]


def test_an_fback_on_ephemeral_ports_answers_its_fbu(tmp_path):
    from fmipdissect.api import handovers
    path = L.write(tmp_path / "ephemeral.pcap", EPHEMERAL)
    run = CaptureLint(str(path), LintConfig())
    got = [(f.frame, f.rule) for f in run]
    assert run.messages == 2 and not [r for _, r in got if r == "FM403"]
    [record] = handovers(path)
    assert record.outcome == "completed" and record.frames == [1, 2]


def test_an_ephemeral_fback_is_checked_and_others_left_alone(tmp_path):
    from scapy.packet import Raw
    packets = [L.fbu(sport=50000), L.fback(sport=50001, dport=50000,
                                           auth=False),
               # not an FBAck, on the awaited ports: left alone
               L.raw_udp(L.PAR, L.MN, b"\x01" * 12, sport=50001, dport=50000),
               # an FBAck nobody awaits on these ports: not Mobile IP
               L.fback(sport=50001, dport=50009),
               L._eth(L.IP(src=L.PAR, dst=L.MN) / L.UDP(sport=1, dport=2)
                      / Raw(b"\x15" * 20))]
    path = L.write(tmp_path / "ephemeral2.pcap", packets)
    run = CaptureLint(str(path), LintConfig())
    got = [(f.frame, f.rule) for f in run]
    assert (2, "FM104") in got                 # no MN-PAR authentication
    assert run.messages == 2 and not [g for g in got if g[0] > 2]


def test_decode_shows_an_fback_on_ephemeral_ports(tmp_path, capsys):
    from fmipdissect.cli import main
    path = L.write(tmp_path / "ephemeral.pcap", EPHEMERAL + [
        L.raw_udp(L.PAR, L.MN, b"\x01" * 12, sport=50001, dport=50000)])
    assert main(["decode", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Frame 2 " in out and "Frame 3 " not in out
    assert out.rstrip().endswith(f"2 FMIPv4 messages in {path}")


def test_awaited_replies_all_expire_in_one_sweep():
    from fmipdissect.correlate.replies import AwaitedReplies
    from fmipdissect.records import Datagram
    awaited = AwaitedReplies()
    for port in (50000, 50001, 50002):
        awaited.fbu(Datagram(1, 0.0, L.MN, L.PAR, 17, 64, port, 434, b""),
                    0.0)
    assert awaited.ports == {50000, 50001, 50002}
    awaited.expire(100.0, 160.0, 220.0)
    assert not awaited.awaited and awaited.ports == set()
