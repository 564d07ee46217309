"""The probe cases: one table row per case (docs/active-testing.md).

Each case names the exchange it judges (exchanges.py), the RFC 4988 section
it checks and whether that is a MUST or a SHOULD, what the prober sends and
what passes, its judge (judges.py), the checker rules its own check covers
(an error or warning of the exchange under one of them is this case's;
one under none is the exchange's first case's), what the profile must
allow for it to run (profile.py), and the emulator faults (faults.py) that
make it fail (MUST) or warn (SHOULD).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import rules as R
from . import judges as J
from . import judges_nar as N
from .judges import Declined, Inconclusive, NotApplicable

__all__ = ["CASES", "CASES_BY_ID", "Case", "Declined", "Inconclusive",
           "NotApplicable", "cases_for", "catching"]

MUST, SHOULD = "MUST", "SHOULD"
SILENT = ("no-reply", "delay")     # faults that leave a request unanswered
CLEAR_HI = ("!ipsec_hi_hack",)     # the prober plays the other router
WRONG_ID = ("wrong-identifier",)
SPOILS_HI = ("missing-option", "bad-checksum")          # every HI of PAR
SPOILS_FBACK = WRONG_ID + ("bad-auth", "no-auth")        # every FBAck
SPOILS_GRANT = SPOILS_HI + SPOILS_FBACK + ("long-lifetime",)


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
    level: str = MUST
    rules: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


C = Case
CASES: tuple[Case, ...] = (
    # PAR: discovery (RFC 4988 5.3, 5.4)
    C("PAR-RTS-01", "par", "5.4", "RtSolPr for a known AP is answered with "
      "PrRtAdv Code 0", "par-rtsolpr", "RtSolPr, New AP LLA (Option-Code 1) "
      "= --ap", "PrRtAdv to the MN, Code 0", J.prrtadv_code0, SILENT),
    C("PAR-RTS-02", "par", "5.4", "PrRtAdv copies the RtSolPr's Identifier",
      "par-rtsolpr", "(same exchange)", "same Identifier",
      J.prrtadv_identifier, WRONG_ID, rules=(R.PRRTADV_IDENTIFIER_MISMATCH,)),
    C("PAR-RTS-03", "par", "5.4", "PrRtAdv Code 0 carries the [AP-ID, "
      "AR-Info] tuple of the AP", "par-rtsolpr", "(same exchange)",
      "New AP LLA (1) = --ap, NAR's LLA (3), NAR's IP address (3) = --peer",
      J.prrtadv_tuple, ("missing-option",),
      rules=(R.PRRTADV_REQUIRED_OPTION_MISSING,)),
    C("PAR-RTS-04", "par", "5.4", "PrRtAdv checksum is right", "par-rtsolpr",
      "(same exchange)", "checksum with Reserved zeroed (decision D2)",
      J.prrtadv_checksum, ("bad-checksum",), rules=(R.ICMP_CHECKSUM_BAD,)),
    C("PAR-RTS-05", "par", "5.4", "Wildcard RtSolPr is answered with the "
      "neighbourhood", "par-rtsolpr-wildcard", "RtSolPr, LLA Option-Code 0 "
      "(wildcard)", "PrRtAdv with a tuple --ap -> --peer", J.wildcard,
      SILENT + ("missing-option",) + WRONG_ID + ("bad-checksum",), SHOULD),
    C("PAR-RTS-06", "par", "5.4", "RtSolPr for an unknown AP gets PrRtAdv "
      "Code 2 with a reason", "par-rtsolpr-unknown-ap", "RtSolPr, New AP "
      "LLA = --unknown-ap", "PrRtAdv Code 2, LLA Option-Code 5, 6 or 7",
      J.unknown_ap, SILENT + WRONG_ID + ("bad-checksum",),
      rules=(R.PRRTADV_REASON_CODE_MISSING,)),
    C("PAR-RTS-07", "par", "5.3", "RtSolPr with a wrong checksum is "
      "discarded", "par-rtsolpr-bad-checksum", "RtSolPr, checksum off",
      "no PrRtAdv", J.silent_prrtadv),
    C("PAR-RTS-08", "par", "5.4", "PrRtAdv tuple carries the New Router "
      "Prefix Information option", "par-rtsolpr", "(same exchange)",
      "Prefix option (22) in the tuple of --ap (decision D15)",
      J.prrtadv_prefix, level=SHOULD,
      rules=(R.PRRTADV_TUPLE_PREFIX_MISSING,)),
    C("PAR-RTS-09", "par", "5.4", "PrRtAdv comes from PAR's address on the "
      "MN's link", "par-rtsolpr", "(same exchange)", "source = --router, "
      "destination = the RtSolPr's source", J.prrtadv_source),
    C("PAR-RTS-10", "par", "5.4", "RtSolPr for a known and an unknown AP "
      "gets PrRtAdv Code 3", "par-rtsolpr-two-aps", "RtSolPr, New AP LLA = "
      "--ap and = --unknown-ap", "PrRtAdv Code 3: the tuple of --ap, a "
      "reason (5-7) for --unknown-ap", J.prrtadv_subset,
      SILENT + ("missing-option",) + WRONG_ID + ("bad-checksum",)),
    # PAR: FBU -> HI (RFC 4988 4.2, 5.5)
    C("PAR-HI-01", "par", "5.5", "Predictive FBU makes PAR send HI Code 0 to "
      "NAR", "par-fbu-predictive", "FBU from the PCoA, Care-of Address = "
      "--peer, Lifetime 4, from port --fbu-port", "HI Code 0 to --peer",
      J.hi_predictive, SILENT + ("reject",),
      rules=(R.HI_CODE_MISMATCH,), needs=CLEAR_HI),
    C("PAR-HI-02", "par", "5.5", "HI carries the MN's LLA and the PCoA",
      "par-fbu-predictive", "(same exchange)", "LLA Option-Code 2, New IPv4 "
      "Address Option-Code 1 = the FBU's Home Address", J.hi_options,
      ("missing-option",), rules=(R.HI_REQUIRED_OPTION_MISSING,),
      needs=CLEAR_HI),
    C("PAR-HI-03", "par", "5.5", "HI checksum is right", "par-fbu-predictive",
      "(same exchange)", "checksum with the reserved bits zeroed (decision "
      "D2)", J.hi_checksum, ("bad-checksum",), rules=(R.ICMP_CHECKSUM_BAD,),
      needs=CLEAR_HI),
    C("PAR-HI-04", "par", "5.5", "FBU forwarded by NAR makes PAR send HI "
      "Code 1", "par-fbu-forwarded", "FBU of another MN from --peer (NAR) "
      "to PAR", "HI Code 1 to --peer", J.hi_reactive,
      SILENT + ("reject",) + SPOILS_GRANT, needs=CLEAR_HI),
    C("PAR-HI-05", "par", "5.5", "HI Code 1 has S clear (MUST) and U clear "
      "(SHOULD)", "par-fbu-forwarded", "(same exchange)", "S = 0; U = 0 or "
      "a warning", J.hi_reactive_flags,
      rules=(R.HI_REACTIVE_S_FLAG, R.HI_REACTIVE_U_FLAG), needs=CLEAR_HI),
    C("PAR-HI-06", "par", "5.5", "HI comes from PAR's address",
      "par-fbu-predictive", "(same exchange)", "source = --router",
      J.hi_source, needs=CLEAR_HI),
    # PAR: FBAck (RFC 4988 4.2, 5.1, 5.2, 7)
    C("PAR-FBU-01", "par", "5.2", "Predictive FBU is accepted",
      "par-fbu-predictive", "(same exchange; the prober's NAR answers HI "
      "with HAck Code 3 and --ncoa)", "FBAck to the MN, Code 0 or 1 (129, "
      "130 with policy_rejections)", J.fback_accepted, SILENT + ("reject",),
      needs=CLEAR_HI),
    C("PAR-FBU-02", "par", "5.2", "FBAck copies the FBU's Identification",
      "par-fbu-predictive", "(same exchange)", "same Identification",
      J.fback_ident, WRONG_ID, rules=(R.FBACK_IDENTIFICATION_MISMATCH,),
      needs=CLEAR_HI),
    C("PAR-FBU-03", "par", "5.2", "FBAck carries a valid MN-PAR "
      "authenticator", "par-fbu-predictive", "(same exchange)",
      "MN-PAR Authentication Extension that verifies with --keys",
      J.fback_auth, ("bad-auth", "no-auth"),
      rules=(R.AUTH_EXTENSION_MISSING, R.AUTH_AUTHENTICATOR_BAD),
      needs=CLEAR_HI),
    C("PAR-FBU-04", "par", "5.2", "FBAck Code 1 carries the NCoA NAR "
      "assigned", "par-fbu-predictive", "(same exchange)", "New IPv4 Address "
      "option, Option-Code 2 = --ncoa", J.fback_ncoa, ("missing-option",),
      rules=(R.FBACK_NCOA_OPTION_MISSING, R.FBACK_NCOA_DROPPED,
             R.FBACK_NCOA_DIFFERS), needs=CLEAR_HI),
    C("PAR-FBU-05", "par", "4.2", "PAR also sends the FBAck to NAR",
      "par-fbu-predictive", "(same exchange)", "FBAck to --peer (Figure 1, "
      "decision D8)", J.fback_copy, level=SHOULD,
      needs=CLEAR_HI + ("fback_copy_to_nar",)),
    C("PAR-FBU-06", "par", "5.2", "FBAck grants no more Lifetime than asked",
      "par-fbu-predictive", "(same exchange)", "Lifetime <= 4 s",
      J.fback_lifetime, ("long-lifetime",), SHOULD,
      rules=(R.FBACK_LIFETIME_EXCEEDS_REQUEST,), needs=CLEAR_HI),
    C("PAR-FBU-07", "par", "5.2", "FBAck goes to the FBU's source port "
      "(an ephemeral one)", "par-fbu-predictive", "(same exchange)",
      "destination port = --fbu-port, from any source port (decision D16)",
      J.fback_port, rules=(R.FBACK_WRONG_PORT,),
      needs=CLEAR_HI + ("mn_ephemeral_port",)),
    C("PAR-FBU-08", "par", "5.2", "FBU forwarded by NAR is accepted, FBAck "
      "to NAR", "par-fbu-forwarded", "(same exchange)", "FBAck to --peer, "
      "Code 0 or 1 (decision D8)", J.fback_forwarded, SILENT + ("reject",),
      needs=CLEAR_HI),
    C("PAR-FBU-09", "par", "5.1", "Retransmitted FBU with a new "
      "Identification is answered", "par-fbu-retransmitted", "FBU, then the "
      "same FBU with a new Identification", "FBAck copying the new "
      "Identification", J.fback_retransmitted, SILENT + SPOILS_GRANT,
      rules=(R.FBACK_IDENTIFICATION_MISMATCH,), needs=CLEAR_HI),
    C("PAR-FBU-10", "par", "5.1", "FBU replaying an Identification is not "
      "accepted", "par-fbu-replayed", "FBU, then the very same FBU again",
      "no FBAck Code < 128 and no HI after the replay (RFC 3344 "
      "Identification)", J.replay_refused, SPOILS_GRANT, needs=CLEAR_HI),
    C("PAR-FBU-11", "par", "5.1", "FBU asking for 11 s is granted at most "
      "10 s", "par-fbu-long-lifetime", "FBU with Lifetime 11", "FBAck Code "
      ">= 128, or Lifetime <= 10 s", J.fback_lifetime_capped,
      SPOILS_GRANT, needs=CLEAR_HI),
    C("PAR-FBU-12", "par", "4.2", "FBU is not accepted when NAR refuses "
      "the HI", "par-fbu-hack-rejected", "FBU; the prober's NAR answers HI "
      "with HAck Code 128", "no FBAck Code < 128", J.not_accepted_after,
      SPOILS_HI + SPOILS_FBACK, needs=CLEAR_HI),
    C("PAR-FBU-13", "par", "5.2", "FBAck after a HAck without NCoA supplies "
      "none", "par-fbu-hack-no-ncoa", "FBU; the prober's NAR answers HAck "
      "Code 4 without NCoA", "FBAck Code 0 without a New IPv4 Address "
      "option", J.fback_no_ncoa, SILENT + ("reject",) + SPOILS_GRANT,
      needs=CLEAR_HI),
    C("PAR-FBU-14", "par", "4.2", "FBU is not accepted without a HAck",
      "par-fbu-no-hack", "FBU; the prober's NAR does not answer the HI",
      "no FBAck Code < 128", J.not_accepted_after, SPOILS_HI,
      needs=CLEAR_HI),
    C("PAR-FBU-15", "par", "7", "FBU binding the PCoA to an address that "
      "is no NAR is not accepted", "par-fbu-not-a-nar", "FBU, Care-of "
      "Address = --not-a-nar", "no FBAck Code < 128", J.not_accepted,
      SPOILS_FBACK),
    C("PAR-FBU-16", "par", "5.2", "FBAck's Home Agent field is PAR's "
      "address", "par-fbu-predictive", "(same exchange)", "Home Agent = "
      "--router", J.fback_home_agent, rules=(R.FBACK_HOME_AGENT_NOT_PAR,),
      needs=CLEAR_HI),
    C("PAR-AUTH-01", "par", "7", "FBU with a wrong authenticator is not "
      "accepted", "par-auth-bad", "FBU, authenticator from another key",
      "no FBAck Code < 128, no HI", J.not_accepted),
    C("PAR-AUTH-02", "par", "7", "FBU without the MN-PAR Authentication "
      "Extension is not accepted", "par-auth-none", "FBU without "
      "extensions", "no FBAck Code < 128, no HI", J.not_accepted),
    C("PAR-AUTH-03", "par", "7", "FBU with an unknown SPI is not accepted",
      "par-auth-spi", "FBU, SPI not in --keys", "no FBAck Code < 128, no HI",
      J.not_accepted),
    # NAR (RFC 4988 4.2, 5.5, 5.6)
    C("NAR-HI-01", "nar", "5.6", "HI Code 0 with S set is answered and "
      "accepted", "nar-hi-s", "HI Code 0, S and U set, MN's LLA, PCoA = "
      "--mn, from --peer (PAR)", "HAck to --peer, Code < 128 (129, 130 with "
      "policy_rejections)", N.hack_accepted, SILENT + ("reject",),
      needs=CLEAR_HI),
    C("NAR-HI-02", "nar", "5.6", "HAck copies the HI's Identifier",
      "nar-hi-s", "(same exchange)", "same Identifier", N.hack_identifier,
      WRONG_ID, rules=(R.HACK_IDENTIFIER_MISMATCH,), needs=CLEAR_HI),
    C("NAR-HI-03", "nar", "5.6", "HAck to an HI with S set carries the "
      "NCoA", "nar-hi-s", "(same exchange)", "New IPv4 Address option, "
      "Option-Code 2", N.hack_ncoa, ("missing-option",),
      rules=(R.HACK_NCOA_OPTION_MISSING,), needs=CLEAR_HI),
    C("NAR-HI-04", "nar", "5.6", "HAck checksum is right", "nar-hi-s",
      "(same exchange)", "checksum with Reserved zeroed (decision D2)",
      N.hack_checksum, ("bad-checksum",), rules=(R.ICMP_CHECKSUM_BAD,),
      needs=CLEAR_HI),
    C("NAR-HI-05", "nar", "5.6", "HI Code 0 without S is accepted",
      "nar-hi-no-s", "HI Code 0, S clear", "HAck, Code < 128",
      N.hack_accepted, SILENT + ("reject",) + WRONG_ID + ("bad-checksum",),
      needs=CLEAR_HI),
    C("NAR-HI-06", "nar", "5.6", "HI Code 1 (reactive) is accepted",
      "nar-hi-reactive", "HI Code 1, S and U clear", "HAck, Code < 128",
      N.hack_accepted, SILENT + ("reject",) + WRONG_ID + ("bad-checksum",),
      needs=CLEAR_HI),
    C("NAR-HI-07", "nar", "5.6", "Two MNs get different NCoAs",
      "nar-hi-s-other-mn", "HI with S set for another PCoA", "an NCoA "
      "other than NAR-HI-01's", N.ncoa_unique,
      WRONG_ID + ("bad-checksum",), needs=CLEAR_HI),
    C("NAR-HI-08", "nar", "5.5", "HI with a wrong checksum is discarded",
      "nar-hi-bad-checksum", "HI, checksum off", "no HAck", J.silent_hack,
      needs=CLEAR_HI),
    C("NAR-HI-09", "nar", "5.6", "HAck goes from the HI's destination to "
      "its source", "nar-hi-s", "(same exchange)", "source = --router, "
      "destination = --peer", N.hack_addresses, needs=CLEAR_HI),
    C("NAR-HI-10", "nar", "5.6", "HAck Codes are those of the table",
      "nar-hi-s", "(every HI exchange)", "Code 0-4 or 128-130",
      N.hack_codes_defined, rules=(R.UNKNOWN_CODE,), needs=CLEAR_HI),
    C("NAR-HI-11", "nar", "5.6", "The NCoA NAR assigns is not the PCoA",
      "nar-hi-s", "(same exchange)", "NCoA != --mn", N.ncoa_not_pcoa,
      needs=CLEAR_HI),
    C("NAR-FBU-01", "nar", "4.2", "Reactive FBU is forwarded to PAR",
      "nar-fbu-reactive", "FBU from --mn to NAR, Home Agent = --peer",
      "FBU from NAR to --peer", N.fbu_forwarded, SILENT),
    C("NAR-FBU-02", "nar", "4.2", "Forwarded FBU is the MN's, unchanged",
      "nar-fbu-reactive", "(same exchange)", "same octets from the Type "
      "field on (decision D7)", N.fbu_unchanged,
      rules=(R.FORWARDED_FBU_DIFFERS,)),
    C("NAR-FBU-03", "nar", "4.2", "NAR passes PAR's FBAck on to the MN",
      "nar-fbu-reactive", "(same exchange; the prober's PAR answers)",
      "FBAck from NAR to --mn (Figure 2, decision D8)", N.fback_passed_on),
    C("NAR-FBU-04", "nar", "5.2", "NAR passes the FBAck on to the MN's "
      "source port", "nar-fbu-reactive-port", "FBU from --mn, port "
      "--fbu-port, to NAR", "FBAck from NAR to --mn, port --fbu-port "
      "(decision D8)", N.fback_passed_on_port,
      needs=("mn_ephemeral_port",)),
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
