"""Which handover each message belongs to (decision D13).

A handover is keyed by the MN's PCoA (decision D9) and is *open* until it is
over.  An RtSolPr from the PCoA, a PrRtAdv to it (not to a group address),
an FBU with it as Home Address or an HI with it in the PCoA option joins the
open handover of that PCoA, or begins a new one when there is none or the
open one is *decided*: an FBAck answered one of its FBUs.

Once decided, a handover still takes its FBAcks (the copies to NAR and from
NAR to the MN, decision D8), the copies of its FBUs on another path (NAR's
forwarded FBU, decision D7; the MN's FBU sent again from the new link,
RFC 4988 4) with what follows them.  An FBU from the PCoA that repeats the
Identification of a decided handover is a new request (a replay): it begins
the next handover.  FBAck and HAck never begin a handover.

A handover ends when the next one of its PCoA begins and that one is over
too (so late FBAck copies still find it), when no message about the PCoA
came for EXPIRY_SECONDS, or at the end of the capture.

Latencies are between capture timestamps; a reply stamped before its
request (the capture's clock went back) gives no latency but a note.
"""

from __future__ import annotations

from ..spec import constraints as K
from ..spec import protocol as P
from .state import FORWARDED, PREDICTIVE, REACTIVE, Handover, remember

_ROLE_MODE = {PREDICTIVE: "predictive", REACTIVE: "reactive",
              FORWARDED: "reactive", None: None}
_REFUSED = P.FBACK_CODE_REFUSED_MIN


def undecided(ho) -> bool:
    return not ho.over and ho.fback is None


def undecided_or_resumed(ho) -> bool:
    return not ho.over and (ho.fback is None or ho.resumed)


def resumes(ho, role, msg) -> bool:
    """After a completed predictive handover, the MN's FBU from the new link
    (to NAR, or NAR's forwarded copy) for the same NAR (RFC 4988 4)."""
    return (not ho.over and ho.fback is not None and ho.fback < _REFUSED
            and ho.mode == "predictive"
            and role in (REACTIVE, FORWARDED) and msg.coa == ho.fbu_coa)


def holding(node, ident):
    """The open handover of the node, or the one before it, with an FBU
    (or FBAck) of this Identification; else None."""
    for ho in (node.current, node.previous):
        if ho is not None and not ho.over and ident in ho.idents:
            return ho
    return None


def latency(ho, since, dgram, what):
    """Seconds from since to the reply's time; None, with a note on the
    handover, when the reply is stamped before its request."""
    delta = dgram.time - since
    if delta >= 0:
        return delta
    ho.note(f"{what} latency not computed: the reply of frame {dgram.frame} "
            f"is stamped {-delta * 1000.0:.3f} ms before its request")
    return None


def mode_of_fbu(role) -> str:
    return _ROLE_MODE[role]


def mode_of_hi(code):
    return K.HANDOVER_MODE_OF_HI_CODE.get(code)


class Assembler:
    """Begins, joins and closes the handovers of MobileNodes; the correlator
    calls it and passes its events on (opened, closed)."""

    def __init__(self, opened, closed):
        self._opened = opened        # callables(handover)
        self._closed = closed
        self.seq = 0

    def begin(self, node, dgram) -> Handover:
        self.seq += 1
        ho = Handover(node.pcoa, self.seq, dgram.frame, dgram.time)
        self.close(node.previous)
        node.previous, node.current = node.current, ho
        for f in self._opened:
            f(ho)
        return ho

    def join_or_begin(self, node, dgram, joins) -> Handover:
        current = node.current
        if current is not None and joins(current):
            return current
        return self.begin(node, dgram)

    def close(self, ho) -> None:
        if ho is not None and not ho.over:
            ho.over = True
            for f in self._closed:
                f(ho)

    def close_node(self, node) -> None:
        self.close(node.previous)
        self.close(node.current)

    def fbu(self, node, msg, dgram, role) -> Handover:
        """The handover an FBU belongs to."""
        ho = holding(node, msg.ident)
        if ho is not None and ho.decided and role not in (REACTIVE, FORWARDED):
            ho = None       # a replay of a decided handover's FBU: a new one
        if ho is not None:
            if ho.decided:
                ho.resumed = True          # the same FBU on another path
        else:
            current = node.current
            if current is not None and resumes(current, role, msg):
                current.resumed = True
            ho = self.join_or_begin(node, dgram, undecided_or_resumed)
        ho.idents = remember(ho.idents, msg.ident)
        if ho.fbu_first is None:
            ho.fbu_first = dgram.time
            ho.fbu_coa = msg.coa
            ho.fbu_mode = mode_of_fbu(role)
        if ho.par is None:
            ho.par = msg.haaddr
        if ho.nar is None and role != FORWARDED:
            ho.nar = msg.coa           # RFC 4988 5.1, 7: NAR's IP address
        return ho

    def rtsolpr(self, node, msg, dgram) -> Handover:
        ho = node.current
        if ho is None or not undecided(ho):
            ho = self.begin(node, dgram)
        if msg.identifier not in ho.rtsolprs:
            ho.rtsolprs = remember(ho.rtsolprs, msg.identifier)
        if ho.rt_first is None:
            ho.rt_first = dgram.time
        if ho.par is None:
            ho.par = dgram.dst
        return ho

    def prrtadv(self, node, msg, dgram, solicited, nar_ips, ncoa) -> Handover:
        ho = node.current
        if ho is None or not undecided(ho):
            ho = self.begin(node, dgram)
        if ho.messages == 0 and msg.code == P.PRRTADV_CODE_NETWORK_TRIGGER:
            ho.network = True          # decision D13: begun by the network
        if ho.code_prrtadv is None:
            ho.code_prrtadv = msg.code
        if ho.par is None:
            ho.par = dgram.src
        if (ho.lat_rt is None and solicited
                and msg.identifier in ho.rtsolprs):
            ho.lat_rt = latency(ho, ho.rt_first, dgram, "RtSolPr-PrRtAdv")
        if nar_ips and ho.nar is None:
            ho.nar = nar_ips[0]
        if ncoa is not None and ho.ncoa is None:
            ho.ncoa = ncoa
        return ho

    def hi(self, node, msg, dgram) -> Handover:
        ho = self.join_or_begin(node, dgram, undecided_or_resumed)
        if ho.hi_first is None:
            ho.hi_first = dgram.time
            ho.code_hi = msg.code
            ho.hi_mode = mode_of_hi(msg.code)
            ho.par, ho.nar = dgram.src, dgram.dst   # the routers
        ho.his = remember(ho.his, (dgram.src, dgram.dst, msg.identifier))
        return ho

    @staticmethod
    def hack(ho, msg, dgram, key, ncoa) -> None:
        """A HAck answering an HI of the (open) handover ho."""
        if ho.code_hack is None:
            ho.code_hack = msg.code
        if ho.lat_hi is None and key in ho.his:
            ho.lat_hi = latency(ho, ho.hi_first, dgram, "HI-HAck")
        if ho.ncoa is None:
            ho.ncoa = ncoa

    @staticmethod
    def fback(node, msg, dgram, ncoa):
        """The handover an FBAck belongs to (None: it begins none)."""
        ho = Assembler._fback(node, msg, dgram)
        if ho is not None and ho.ncoa is None:
            ho.ncoa = ncoa
        return ho

    @staticmethod
    def _fback(node, msg, dgram):
        ho = holding(node, msg.ident)
        if ho is None:
            ho = node.current
            if ho is None or ho.over:
                return None
            if ho.fbu_first is None and ho.fback is None:
                # no FBU of this handover seen (NAR's capture: PAR's copy
                # comes first, decision D8): the FBAck decides it
                ho.idents = remember(ho.idents, msg.ident)
                ho.fback = msg.code
            return ho       # else an Identification of no FBU (a mismatch)
        if ho.fback is None:
            ho.fback = msg.code        # decision D13: decides the outcome
            ho.lat_fbu = latency(ho, ho.fbu_first, dgram, "FBU-FBAck")
        else:
            ho.resumed = False         # the FBU from the new link answered
        return ho

