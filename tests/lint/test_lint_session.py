"""Cross-packet state: expiry in capture time, the entry cap, flat memory."""

from __future__ import annotations

from scapy.layers.inet import IP, UDP

import lintcaps
from fmipdissect.decode.decoder import decode_datagram
import correlated as S
from fmipdissect.spec import constraints as K
from fmipdissect.spec import rules as R
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.records import Datagram


def datagram(pkt, frame, time):
    ip = pkt[IP]
    if ip.proto == 17:
        udp = ip[UDP]
        return Datagram(frame, time, ip.src, ip.dst, 17, ip.ttl, udp.sport,
                        udp.dport, bytes(udp.payload))
    return Datagram(frame, time, ip.src, ip.dst, 1, ip.ttl, None, None,
                    bytes(ip.payload))


def feed(session, packets, t0=0.0, step=1.0):
    out = []
    for i, p in enumerate(packets, 1):
        d = datagram(p, i, t0 + i * step)
        msg = decode_datagram(d)
        out += [(i, rule) for rule, _ in session.observe(msg, d)]
    return out


def test_unanswered_request_expires_and_is_reported_on_its_frame(tmp_path):
    packets = [lintcaps.fbu(), lintcaps.hi(), lintcaps.rtsolpr(),
               lintcaps.rtsolpr(src="10.0.0.99", identifier=1)]
    for i, p in enumerate(packets[:3]):
        p.time = lintcaps.T0 + i
    packets[3].time = lintcaps.T0 + 2 + S.EXPIRY_SECONDS + 5
    from scapy.utils import wrpcap
    path = tmp_path / "late.pcap"
    wrpcap(str(path), packets)
    findings = list(CaptureLint(str(path), LintConfig()))
    late = [(f.frame, f.rule) for f in findings]
    # revealed by frame 4 (the expiry), reported on the requests' frames,
    # with their own times
    assert late[-4:-1] == [(2, "FM405"), (3, "FM407"), (1, "FM403")]
    assert [f.time for f in findings[-4:-1]] == [lintcaps.T0 + 1,
                                                 lintcaps.T0 + 2, lintcaps.T0]
    assert "within 60 s" in next(f.message for f in findings
                                 if f.rule == "FM403")
    # the late RtSolPr itself is unanswered at the end
    assert late[-1] == (4, "FM407")


def test_state_is_forgotten_after_expiry():
    session = S.Session()
    flow = lintcaps.predictive_flow()
    feed(session, flow, t0=0.0)
    assert session.handovers and session.his
    # a message much later sweeps everything older than the expiry
    feed(session, [lintcaps.rtsolpr(src="10.0.0.99")],
         t0=S.EXPIRY_SECONDS * 3)
    assert not session.his and not session.handovers
    assert list(session.rtsolprs) == [("10.0.0.99", lintcaps.RT_ID)]


def test_entry_cap_keeps_memory_flat(monkeypatch):
    monkeypatch.setattr(K, "MAX_ENTRIES", 16)
    session = S.Session()
    sizes = []
    for n in range(200):
        mn = f"10.2.{n // 250}.{n % 250 + 1}"
        found = feed(session, [lintcaps.fbu(src=mn, homeaddr=mn, ident=n)],
                     t0=n * 0.001, step=0.0)
        sizes.append(len(session.handovers))
        assert all(rule in ("FM403", R.SESSION_STATE_CAPPED) for _, rule in found)
    assert max(sizes) <= 16
    # the ones dropped by the cap were reported as unacknowledged
    rest = list(session.finish())
    assert len(rest) == 16


def test_fbus_per_handover_are_bounded():
    session = S.Session()
    feed(session, [lintcaps.fbu(ident=i) for i in range(50)], step=0.01)
    assert len(session.handovers[lintcaps.MN].fbus) == S.FBUS_PER_MN


def test_fbu_roles():
    from fmipdissect.decode.decoder import decode_mip
    raw = bytes(lintcaps.fbu()[UDP].payload)
    msg = decode_mip(raw)
    c = S.classify_fbu
    assert c(lintcaps.MN, lintcaps.PAR, msg) == S.PREDICTIVE
    assert c(lintcaps.MN, lintcaps.NAR, msg) == S.REACTIVE
    assert c(lintcaps.NAR, lintcaps.PAR, msg) == S.FORWARDED
    assert c(lintcaps.MN, lintcaps.ELSEWHERE, msg) is None


def test_fback_copies_of_facts_d8_are_legitimate():
    session = S.Session()
    flow = [lintcaps.fbu(dst=lintcaps.NAR),
            lintcaps.fbu(src=lintcaps.NAR, dst=lintcaps.PAR, sport=5555),
            lintcaps.fback(src=lintcaps.PAR, dst=lintcaps.NAR, dport=5555),
            lintcaps.fback(src=lintcaps.NAR, dst=lintcaps.MN)]
    assert feed(session, flow) == []
    # the same relay to the wrong port is FM414
    session = S.Session()
    flow[-1] = lintcaps.fback(src=lintcaps.NAR, dst=lintcaps.MN, dport=999)
    assert feed(session, flow) == [(4, "FM414")]


# --- every table capped on every insert path, expiry, one info -----------

def _hi_between(par, nar, identifier, pcoa=None):
    options = [lintcaps.LLAOption(code=2, lla=lintcaps.MN_LLA)]
    if pcoa:
        options.append(lintcaps.IPv4AddrOption(code=1, addr=pcoa))
    return lintcaps.hi(src=par, dst=nar, identifier=identifier,
                       options=options)


def _router(n):
    return f"10.{100 + n // 60000 % 100}.{n // 250 % 240}.{n % 250 + 1}"


def _capped(found):
    return [rule for _, rule in found if rule == R.SESSION_STATE_CAPPED]


def test_hi_table_is_capped_even_without_a_handover(monkeypatch):
    """The HI path used to return before the cap when its PCoA matched no
    handover (and without a PCoA option)."""
    monkeypatch.setattr(K, "MAX_ENTRIES", 8)
    session = S.Session()
    found = feed(session, [_hi_between(lintcaps.PAR, _router(n), n)
                           for n in range(40)], step=0.001)
    assert len(session.his) <= 8
    assert len(session.router_pairs) <= 8
    assert _capped(found) == [R.SESSION_STATE_CAPPED]          # once per capture
    # the HIs dropped unanswered were reported
    assert sum(rule == "FM405" for _, rule in found) == 40 - 8


def test_router_pairs_from_hacks_are_capped_and_expire(monkeypatch):
    monkeypatch.setattr(K, "MAX_ENTRIES", 8)
    session = S.Session()
    found = feed(session, [lintcaps.hack(src=_router(n), dst=lintcaps.PAR,
                                         identifier=n) for n in range(40)],
                 step=0.001)
    assert len(session.router_pairs) == 8
    assert _capped(found) == [R.SESSION_STATE_CAPPED]
    # one HAck per second: pairs expire, the table does not grow
    session = S.Session()
    feed(session, [lintcaps.hack(src=_router(n), dst=lintcaps.PAR,
                                 identifier=n) for n in range(200)],
         step=1.0)
    assert len(session.router_pairs) <= S.EXPIRY_SECONDS + 2


def test_hack_creating_a_handover_is_capped(monkeypatch):
    """A HAck with an NCoA adds to the handover of its HI's PCoA: that
    insert path is capped as well."""
    monkeypatch.setattr(K, "MAX_ENTRIES", 8)
    session = S.Session()
    packets = []
    for n in range(30):
        pcoa = f"10.3.{n // 250}.{n % 250 + 1}"
        packets += [_hi_between(lintcaps.PAR, lintcaps.NAR, n, pcoa),
                    lintcaps.hack(identifier=n, code=3,
                                  options=[lintcaps.IPv4AddrOption(
                                      code=2, addr=lintcaps.NCOA)])]
    feed(session, packets, step=0.001)
    assert len(session.handovers) <= 8 and len(session.his) <= 8


def test_rtsolpr_flood_is_capped(monkeypatch):
    monkeypatch.setattr(K, "MAX_ENTRIES", 8)
    session = S.Session()
    found = feed(session, [lintcaps.rtsolpr(identifier=n)
                           for n in range(1, 50)], step=0.001)
    assert len(session.rtsolprs) == 8
    assert _capped(found) == [R.SESSION_STATE_CAPPED]
    assert sum(rule == "FM407" for _, rule in found) == 49 - 8


def test_prrtadv_flood_of_handovers_is_capped(monkeypatch):
    monkeypatch.setattr(K, "MAX_ENTRIES", 8)
    session = S.Session()
    feed(session, [lintcaps.prrtadv(dst=f"10.4.0.{n + 1}", code=1,
                                    identifier=0) for n in range(40)],
         step=0.001)
    assert len(session.handovers) <= 8


def test_addresses_per_handover_are_capped_and_messages_bounded():
    """FM415 used to join every NAR address PrRtAdv advertised: 1,000
    options made a 2.6 MB line."""
    many = [lintcaps.IPv4AddrOption(code=3, addr=f"10.5.{i // 250}."
                                    f"{i % 250 + 1}") for i in range(300)]
    session = S.Session()
    packets = [lintcaps.prrtadv(options=many, code=1, identifier=0),
               lintcaps.fbu(coa="10.9.9.9")]
    found = feed(session, packets, step=0.001)
    ho = session.handovers[lintcaps.MN]
    assert len(ho.nar_ips) == S.ADDRESSES_PER_MN
    assert _capped(found) == [R.SESSION_STATE_CAPPED]
    # with addresses refused, "not the NAR address advertised" is unknown
    assert "FM415" not in [rule for _, rule in found]
    # below the cap the message names a few and counts the rest
    session = S.Session()
    out = session.observe
    packets = [lintcaps.prrtadv(options=many[:10], code=1, identifier=0),
               lintcaps.fbu(coa="10.9.9.9")]
    texts = []
    for i, p in enumerate(packets, 1):
        d = datagram(p, i, float(i))
        texts += [t for rule, t in out(decode_datagram(d), d)
                  if rule == "FM415"]
    [text] = texts
    assert text.endswith("(10.5.0.1, 10.5.0.2, 10.5.0.3 and 7 more)")


def test_ncoas_per_handover_are_capped():
    session = S.Session()
    packets = [lintcaps.fbu()]
    for n in range(40):
        packets.append(lintcaps.fback(code=1, extensions=[
            lintcaps.IPv4AddrOption(code=2, addr=f"10.6.0.{n + 1}")]))
    feed(session, packets, step=0.001)
    assert len(session.handovers[lintcaps.MN].ncoas) == \
        S.ADDRESSES_PER_MN


def test_no_cap_info_on_ordinary_traffic(tmp_path):
    path = lintcaps.write(tmp_path / "flows.pcap",
                          lintcaps.CONFORMANT_FLOWS["reactive"]()
                          + lintcaps.CONFORMANT_FLOWS["ncoa"]())
    assert R.SESSION_STATE_CAPPED not in {f.rule for f in
                              CaptureLint(str(path), LintConfig())}
