"""What the generator put into each sample, as handover records.

Computed from the scenario's own frames (fmipdissect.gen.scenarios: Scapy
packets with their time offsets), not from the tool: frame numbers are the
positions in the generated list, times are EPOCH_US + offset in integer
microseconds, and the handovers are grouped by the MN each message is about
(decision D13): a new handover of an MN begins with an RtSolPr, PrRtAdv,
FBU or HI once an FBAck answered one of its FBUs (unless it is that FBU
again on another path: an FBU from the PCoA repeating the Identification
is a new request); FBAcks and HAcks join the handover of their FBU / HI.
"""

from __future__ import annotations

from scapy.layers.inet import IP

from fmipdissect.gen.flows import EPOCH_US, Params
from fmipdissect.gen.scenarios import SCENARIOS
from fmipdissect.layers import FBU, HI, FBAck, HAck, IPv4AddrOption, PrRtAdv, RtSolPr

PCOA_OPTION = 1        # New IPv4 Address Option-Code 1: Previous CoA
UNSOLICITED = (1, 4)


def _pcoa_of_hi(msg):
    for layer in msg.iterpayloads():
        if isinstance(layer, IPv4AddrOption) and layer.code == PCOA_OPTION:
            return layer.addr
    return None


class _Group:
    def __init__(self, mn):
        self.mn = mn
        self.items = []          # (frame, time_us, kind, packet)
        self.idents = set()
        self.fback_code = None


def expected(name: str) -> list[dict]:
    """The expected records of samples/<name>.pcap, ordered by first frame."""
    frames = SCENARIOS[name].build(Params())
    open_by_mn: dict[str, _Group] = {}
    hi_groups: dict[tuple, _Group] = {}
    groups: list[_Group] = []
    for number, fr in enumerate(frames, start=1):
        p, t_us = fr.packet, EPOCH_US + fr.offset_us
        ip = p[IP]
        kind, mn, ident = None, None, None
        if FBU in p:
            kind, mn, ident = "fbu", p[FBU].homeaddr, p[FBU].ident
        elif FBAck in p:
            kind, mn, ident = "fback", p[FBAck].homeaddr, p[FBAck].ident
        elif RtSolPr in p:
            kind, mn = "rtsolpr", ip.src
        elif PrRtAdv in p:
            kind, mn = "prrtadv", ip.dst
        elif HI in p:
            kind, mn = "hi", _pcoa_of_hi(p[HI])
        elif HAck in p:
            kind = "hack"
        if kind is None:
            continue
        group = open_by_mn.get(mn)
        if kind == "hack":
            group = hi_groups.get((ip.dst, ip.src, p[HAck].identifier))
            if group is None:
                continue
        elif kind == "fback":
            if group is None:
                continue
        elif mn is None:
            continue
        elif group is None or (group.fback_code is not None
                               and not (kind == "fbu"
                                        and ident in group.idents
                                        and not _from_pcoa(p))):
            group = _Group(mn)
            groups.append(group)
            open_by_mn[mn] = group
        group.items.append((number, t_us, kind, p))
        if kind == "fbu":
            group.idents.add(ident)
        elif kind == "fback" and ident in group.idents \
                and group.fback_code is None:
            group.fback_code = p[FBAck].code
        elif kind == "hi":
            hi_groups[(ip.src, ip.dst, p[HI].identifier)] = group
    return [_record(g) for g in groups]


def _from_pcoa(p) -> bool:
    """An FBU from the PCoA to PAR: with the Identification of a decided
    handover it is a new request (a replay), not a copy on another path."""
    return p[IP].src == p[FBU].homeaddr and p[IP].dst == p[FBU].haaddr


def _first(group, kind, test=lambda p: True):
    for item in group.items:
        if item[2] == kind and test(item[3]):
            return item
    return None


def _latency(a, b):
    if a is None or b is None:
        return None
    return (b[1] - a[1]) / 1000.0      # integer microseconds -> ms


def _record(g: _Group) -> dict:
    first_fbu = _first(g, "fbu")
    mode = "unknown"
    first_hi = _first(g, "hi")
    if first_fbu is not None:
        ip, fbu = first_fbu[3][IP], first_fbu[3][FBU]
        if _from_pcoa(first_fbu[3]):
            mode = "predictive"
        elif first_hi is not None and first_hi[3][HI].code in (0, 1):
            # decision D13: the HI's Code says how the FBU reached PAR
            mode = ("predictive", "reactive")[first_hi[3][HI].code]
        elif ip.dst == fbu.coa or ip.src == fbu.coa:
            mode = "reactive"
    answering = _first(g, "fback", lambda p: p[FBAck].ident in g.idents)
    asked = {i[3][RtSolPr].identifier for i in g.items if i[2] == "rtsolpr"}
    first = g.items[0]
    network = (first[2] == "prrtadv" and first[3][PrRtAdv].code == 1)
    code = g.fback_code
    return {
        "mn": g.mn, "pcoa": g.mn, "mode": mode,
        "initiated_by": "network" if network else "mn",
        "outcome": ("incomplete" if code is None else
                    "rejected" if code >= 128 else "completed"),
        "first_frame": first[0], "last_frame": g.items[-1][0],
        "frames": [i[0] for i in g.items],
        "start_us": first[1], "end_us": g.items[-1][1],
        "latency_ms": {
            "rtsolpr_prrtadv": _latency(
                _first(g, "rtsolpr"),
                _first(g, "prrtadv",
                       lambda p: p[PrRtAdv].code not in UNSOLICITED
                       and p[PrRtAdv].identifier in asked)),
            "hi_hack": _latency(_first(g, "hi"), _first(g, "hack")),
            "fbu_fback": _latency(first_fbu, answering),
            "total": _latency(first, g.items[-1]),
        },
        "codes": {"fback": code},
    }
