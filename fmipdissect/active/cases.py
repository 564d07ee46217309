"""The probe cases: one table row per case (docs/active-testing.md).

Each case names the exchange it judges (exchanges.py), the RFC 4988 section
it checks, what the prober sends and what passes, its judge (judges.py),
and the faults of the emulators (faults.py) it catches.  A judge skips
when the exchange gives nothing to judge (usually because an earlier case
of the same exchange already failed: one broken promise fails one case).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import judges as J
from .judges import Skip

__all__ = ["CASES", "CASES_BY_ID", "Case", "Skip", "cases_for", "catching"]

SILENT = ("no-reply", "delay")     # faults that leave a request unanswered


@dataclass(frozen=True)
class Case:
    id: str
    target: str
    section: str
    title: str
    exchange: str
    sends: str
    passes: str
    judge: object
    catches: tuple[str, ...] = ()


C = Case
CASES: tuple[Case, ...] = (
    # PAR: discovery (RFC 4988 5.3, 5.4)
    C("PAR-RTS-01", "par", "5.4", "RtSolPr for a known AP is answered with "
      "PrRtAdv Code 0", "par-rtsolpr", "RtSolPr, New AP LLA (Option-Code 1) "
      "= --ap", "PrRtAdv to the MN, Code 0", J.prrtadv_code0, SILENT),
    C("PAR-RTS-02", "par", "5.4", "PrRtAdv copies the RtSolPr's Identifier",
      "par-rtsolpr", "(same exchange)", "same Identifier",
      J.prrtadv_identifier,
      ("wrong-identifier",)),
    C("PAR-RTS-03", "par", "5.4", "PrRtAdv Code 0 carries the [AP-ID, "
      "AR-Info] tuple of the AP", "par-rtsolpr", "(same exchange)",
      "New AP LLA (1) = --ap, NAR's LLA (3), NAR's IP address (3) = --peer",
      J.prrtadv_tuple, ("missing-option",)),
    C("PAR-RTS-04", "par", "5.4", "PrRtAdv checksum is right", "par-rtsolpr",
      "(same exchange)", "checksum with Reserved zeroed (decision D2)",
      J.prrtadv_checksum, ("bad-checksum",)),
    C("PAR-RTS-05", "par", "5.4", "Wildcard RtSolPr is answered with the "
      "neighbourhood", "par-rtsolpr-wildcard", "RtSolPr, LLA Option-Code 0 "
      "(wildcard)", "PrRtAdv with a tuple --ap -> --peer", J.wildcard,
      SILENT + ("missing-option",)),
    C("PAR-RTS-06", "par", "5.4", "RtSolPr for an unknown AP gets PrRtAdv "
      "Code 2 with a reason", "par-rtsolpr-unknown-ap", "RtSolPr, New AP "
      "LLA = --unknown-ap", "PrRtAdv Code 2, LLA Option-Code 5, 6 or 7",
      J.unknown_ap, SILENT),
    C("PAR-RTS-07", "par", "5.3", "RtSolPr with a wrong checksum is "
      "discarded", "par-rtsolpr-bad-checksum", "RtSolPr, checksum off",
      "no PrRtAdv", lambda pr, x: J.silent(x, "prrtadv", "PrRtAdv")),
    # PAR: FBU -> HI (RFC 4988 4, 5.5)
    C("PAR-HI-01", "par", "5.5", "Predictive FBU makes PAR send HI Code 0 to "
      "NAR", "par-fbu-predictive", "FBU from the PCoA, Care-of Address = "
      "--peer, Lifetime 4, from port --sport", "HI Code 0 to --peer",
      J.hi_predictive, SILENT + ("reject",)),
    C("PAR-HI-02", "par", "5.5", "HI carries the MN's LLA and the PCoA",
      "par-fbu-predictive", "(same exchange)", "LLA Option-Code 2, New IPv4 "
      "Address Option-Code 1 = the FBU's Home Address", J.hi_options,
      ("missing-option",)),
    C("PAR-HI-03", "par", "5.5", "HI checksum is right", "par-fbu-predictive",
      "(same exchange)", "checksum with the reserved bits zeroed (decision "
      "D2)", J.hi_checksum, ("bad-checksum",)),
    C("PAR-HI-04", "par", "5.5", "FBU forwarded by NAR makes PAR send HI "
      "Code 1", "par-fbu-forwarded", "FBU of another MN from --peer (NAR) "
      "to PAR", "HI Code 1 to --peer", J.hi_reactive, SILENT + ("reject",)),
    C("PAR-HI-05", "par", "5.5", "HI Code 1 has S and U clear",
      "par-fbu-forwarded", "(same exchange)", "S = 0 (MUST), U = 0 (SHOULD)",
      J.hi_reactive_flags),
    # PAR: FBAck (RFC 4988 5.1, 5.2, 7)
    C("PAR-FBU-01", "par", "5.2", "Predictive FBU is accepted",
      "par-fbu-predictive", "(same exchange; the prober's NAR answers HI "
      "with HAck Code 3 and --ncoa)", "FBAck to the MN, Code 0 or 1",
      J.fback_accepted, SILENT + ("reject",)),
    C("PAR-FBU-02", "par", "5.2", "FBAck copies the FBU's Identification",
      "par-fbu-predictive", "(same exchange)", "same Identification",
      J.fback_ident, ("wrong-identifier",)),
    C("PAR-FBU-03", "par", "5.2", "FBAck carries a valid MN-PAR "
      "authenticator", "par-fbu-predictive", "(same exchange)",
      "MN-PAR Authentication Extension that verifies with --keys",
      J.fback_auth, ("bad-auth", "no-auth")),
    C("PAR-FBU-04", "par", "5.2", "FBAck Code 1 carries the NCoA NAR "
      "assigned", "par-fbu-predictive", "(same exchange)", "New IPv4 Address "
      "option, Option-Code 2 = --ncoa", J.fback_ncoa, ("missing-option",)),
    C("PAR-FBU-05", "par", "4.1", "PAR also sends the FBAck to NAR",
      "par-fbu-predictive", "(same exchange)", "FBAck to --peer (Figure 1, "
      "decision D8)", J.fback_copy),
    C("PAR-FBU-06", "par", "5.2", "FBAck grants no more Lifetime than asked",
      "par-fbu-predictive", "(same exchange)", "Lifetime <= 4 s",
      J.fback_lifetime, ("long-lifetime",)),
    C("PAR-FBU-07", "par", "5.2", "FBAck goes to the FBU's source port",
      "par-fbu-predictive", "(same exchange)", "destination port = --sport",
      J.fback_port),
    C("PAR-FBU-08", "par", "5.2", "FBU forwarded by NAR is accepted, FBAck "
      "to NAR", "par-fbu-forwarded", "(same exchange)", "FBAck to --peer, "
      "Code 0 or 1 (decision D8)", J.fback_forwarded, SILENT + ("reject",)),
    C("PAR-FBU-09", "par", "5.1", "Retransmitted FBU with a new "
      "Identification is answered", "par-fbu-retransmitted", "FBU, then the "
      "same FBU with a new Identification", "FBAck copying the new "
      "Identification", J.fback_retransmitted, SILENT + ("wrong-identifier",)),
    C("PAR-AUTH-01", "par", "7", "FBU with a wrong authenticator is not "
      "accepted", "par-auth-bad", "FBU, authenticator from another key",
      "no FBAck Code < 128, no HI", J.not_accepted),
    C("PAR-AUTH-02", "par", "7", "FBU without the MN-PAR Authentication "
      "Extension is not accepted", "par-auth-none", "FBU without "
      "extensions", "no FBAck Code < 128, no HI", J.not_accepted),
    C("PAR-AUTH-03", "par", "7", "FBU with an unknown SPI is not accepted",
      "par-auth-spi", "FBU, SPI not in --keys", "no FBAck Code < 128, no HI",
      J.not_accepted),
    # NAR (RFC 4988 4, 5.5, 5.6)
    C("NAR-HI-01", "nar", "5.6", "HI Code 0 with S set is answered and "
      "accepted", "nar-hi-s", "HI Code 0, S and U set, MN's LLA, PCoA = "
      "--mn, from --peer (PAR)", "HAck to --peer, Code < 128",
      J.hack_accepted, SILENT + ("reject",)),
    C("NAR-HI-02", "nar", "5.6", "HAck copies the HI's Identifier",
      "nar-hi-s", "(same exchange)", "same Identifier", J.hack_identifier,
      ("wrong-identifier",)),
    C("NAR-HI-03", "nar", "5.6", "HAck to an HI with S set carries the "
      "NCoA", "nar-hi-s", "(same exchange)", "New IPv4 Address option, "
      "Option-Code 2", J.hack_ncoa, ("missing-option",)),
    C("NAR-HI-04", "nar", "5.6", "HAck checksum is right", "nar-hi-s",
      "(same exchange)", "checksum with Reserved zeroed (decision D2)",
      J.hack_checksum, ("bad-checksum",)),
    C("NAR-HI-05", "nar", "5.6", "HI Code 0 without S is accepted",
      "nar-hi-no-s", "HI Code 0, S clear", "HAck, Code < 128",
      J.hack_accepted, SILENT + ("reject",)),
    C("NAR-HI-06", "nar", "5.6", "HI Code 1 (reactive) is accepted",
      "nar-hi-reactive", "HI Code 1, S and U clear", "HAck, Code < 128",
      J.hack_accepted, SILENT + ("reject",)),
    C("NAR-HI-07", "nar", "5.6", "Two MNs get different NCoAs",
      "nar-hi-s-other-mn", "HI with S set for another PCoA", "an NCoA "
      "other than NAR-HI-01's", J.ncoa_unique),
    C("NAR-HI-08", "nar", "5.5", "HI with a wrong checksum is discarded",
      "nar-hi-bad-checksum", "HI, checksum off", "no HAck",
      lambda pr, x: J.silent(x, "hack", "HAck")),
    C("NAR-FBU-01", "nar", "4.2", "Reactive FBU is forwarded to PAR",
      "nar-fbu-reactive", "FBU from --mn to NAR, Home Agent = --peer",
      "FBU from NAR to --peer", J.fbu_forwarded, SILENT),
    C("NAR-FBU-02", "nar", "4.2", "Forwarded FBU is the MN's, unchanged",
      "nar-fbu-reactive", "(same exchange)", "same octets from the Type "
      "field on (decision D7)", J.fbu_unchanged),
    C("NAR-FBU-03", "nar", "5.2", "NAR passes PAR's FBAck on to the MN",
      "nar-fbu-reactive", "(same exchange; the prober's PAR answers)",
      "FBAck from NAR to --mn (Figure 2, decision D8)", J.fback_passed_on),
)
del C

CASES_BY_ID = {c.id: c for c in CASES}


def cases_for(target: str) -> list[Case]:
    return [c for c in CASES if c.target == target]


def catching() -> dict[str, list[str]]:
    """fault name -> the ids of the cases that catch it."""
    out: dict[str, list[str]] = {}
    for c in CASES:
        for fault in c.catches:
            out.setdefault(fault, []).append(c.id)
    return out
