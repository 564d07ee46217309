"""Cross-packet state: expiry in capture time, the entry cap, flat memory."""

from __future__ import annotations

from scapy.layers.inet import IP, UDP

import lintcaps
from fmipdissect.decode.decoder import decode_datagram
from fmipdissect.lint import session as S
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


def test_unanswered_request_expires_at_the_frame_that_reveals_it(tmp_path):
    packets = [lintcaps.fbu(), lintcaps.hi(), lintcaps.rtsolpr(),
               lintcaps.rtsolpr(src="10.0.0.99", identifier=1)]
    for i, p in enumerate(packets[:3]):
        p.time = lintcaps.T0 + i
    packets[3].time = lintcaps.T0 + 2 + S.EXPIRY_SECONDS + 5
    from scapy.utils import wrpcap
    path = tmp_path / "late.pcap"
    wrpcap(str(path), packets)
    findings = list(CaptureLint(str(path), LintConfig()))
    late = {(f.frame, f.rule) for f in findings}
    assert {(4, "FM403"), (4, "FM405"), (4, "FM407")} <= late
    assert "within 60 s" in next(f.message for f in findings
                                 if f.rule == "FM403")
    # the late RtSolPr itself is unanswered at the end (last frame)
    assert (4, "FM407") in late and sum(f.rule == "FM407"
                                        for f in findings) == 2


def test_state_is_forgotten_after_expiry():
    session = S.Session()
    flow = lintcaps.predictive_flow()
    feed(session, flow, t0=0.0)
    assert session.handovers and session.his
    # a message much later sweeps everything older than the expiry
    feed(session, [lintcaps.rtsolpr(src="10.0.0.99")],
         t0=S.EXPIRY_SECONDS * 3)
    assert not session.handovers and not session.his
    assert list(session.rtsolprs) == [("10.0.0.99", lintcaps.RT_ID)]


def test_entry_cap_keeps_memory_flat(monkeypatch):
    monkeypatch.setattr(S, "MAX_ENTRIES", 16)
    session = S.Session()
    sizes = []
    for n in range(200):
        mn = f"10.2.{n // 250}.{n % 250 + 1}"
        found = feed(session, [lintcaps.fbu(src=mn, homeaddr=mn, ident=n)],
                     t0=n * 0.001, step=0.0)
        sizes.append(len(session.handovers))
        assert all(rule == "FM403" for _, rule in found)
    assert max(sizes) <= 16
    # the ones dropped by the cap were reported as unacknowledged
    rest = list(session.finish())
    assert len(rest) == 16


def test_fbus_per_handover_are_bounded():
    session = S.Session()
    feed(session, [lintcaps.fbu(ident=i) for i in range(50)], step=0.01)
    assert len(session.handovers[lintcaps.MN].fbus) == S.FBUS_PER_HANDOVER


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
