"""Regression tests for the rulebook: each drift fmip-lint and the Wireshark
dissector once had, and decisions D11 and D12, checked in BOTH.

Each case is a small capture; the expected (frame, rule) pairs must be what
fmip-lint reports AND what tshark's expert infos show (with the placement
mapping of test_rules_differential: an unanswered request at its frame).
Only the rules a case is about are compared (`about`), so that the usual
infos (a request left unanswered, HI without IPsec) do not clutter it.
"""

from __future__ import annotations

import pytest
from scapy.packet import Raw
from test_rules_differential import lint_pairs, tshark_pairs
from wireshark_common import require_tool

import lintcaps as L
from fmipdissect.layers import IPv4AddrOption, LLAOption, MIPExtension
from fmipdissect.spec import constraints as K
from fmipdissect.spec import rules as R

pytestmark = pytest.mark.tshark


def both(tmp_path, name, packets, about):
    """(fmip-lint's, Wireshark's) (frame, rule) pairs for the rules about."""
    require_tool("tshark")
    path = L.write(tmp_path / f"{name}.pcap", packets)
    lint = {p for p in lint_pairs(path) if p[1] in about}
    shark = {p for p in tshark_pairs(path) if p[1] in about}
    return lint, shark


def agree(tmp_path, name, packets, about, expected):
    lint, shark = both(tmp_path, name, packets, about)
    assert lint == set(expected), f"fmip-lint: {sorted(lint)}"
    assert shark == set(expected), f"Wireshark: {sorted(shark)}"


# --- the drifts of the issue ------------------------------------------------

def _auth_with_length(length: int) -> Raw:
    # Type 36, subtype 4 (MN-PAR), 16-bit Length, then 8 more octets
    return Raw(bytes([36, 4]) + length.to_bytes(2, "big") + bytes(8))


def test_auth_length_too_short_for_the_spi_is_option_past_end(tmp_path):
    """RFC 4721 5: Length counts the SPI.  Both: option-past-end (FM303),
    parsing stops (so no "auth extension missing"), not truncated-message."""
    pkt = L.fbu(auth=False, extensions=[_auth_with_length(2)])
    about = {R.OPTION_PAST_END, R.TRUNCATED_MESSAGE,
             R.AUTH_EXTENSION_MISSING, R.AUTH_EXTENSION_WRONG_SUBTYPE}
    agree(tmp_path, "short-auth", [pkt, L.fback()], about,
          {(1, R.OPTION_PAST_END)})


@pytest.mark.parametrize("etype", sorted(K.KNOWN_MIP_EXTENSIONS - {36})
                         + [99])
def test_known_extension_types_are_exempt_from_unknown(etype, tmp_path):
    """Types 32-34 (RFC 3344 3.5) are known: no FM110 in either; 99 is
    not known and not skippable: FM110 in both."""
    pkt = L.fbu(extensions=[MIPExtension(type=etype, data=b"\x00" * 6)])
    expected = set() if etype in K.KNOWN_MIP_EXTENSIONS else \
        {(1, R.MIP_EXTENSION_UNKNOWN)}
    agree(tmp_path, f"ext{etype}", [pkt, L.fback()],
          {R.MIP_EXTENSION_UNKNOWN}, expected)


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4, 128, 130])
def test_hack_ncoa_exemption(code, tmp_path):
    """HAck answering an HI with S set, without the NCoA option: FM409
    unless the code says NAR supplies none (4, and 128 up), in both."""
    packets = [L.hi(S=1), L.hack(code=code)]
    expected = set() if code in K.HACK_CODES_WITHOUT_NCOA else \
        {(2, R.HACK_NCOA_OPTION_MISSING)}
    agree(tmp_path, f"hack{code}", packets, {R.HACK_NCOA_OPTION_MISSING},
          expected)


def test_repeated_fbu_unanswered_is_reported_once(tmp_path):
    """Three copies of one FBU (same Home Address and Identification), no
    FBAck: one "unacknowledged", at the first copy, in both."""
    agree(tmp_path, "fbu-copies", [L.fbu(), L.fbu(), L.fbu()],
          {R.FBU_UNACKNOWLEDGED}, {(1, R.FBU_UNACKNOWLEDGED)})


def test_fbu_repeated_on_the_new_link_after_its_answer(tmp_path):
    """RFC 4988 4 (Figure 1): the predictive FBU is answered, the MN moves
    and sends it again to NAR: it is answered already, in both."""
    packets = [L.fbu(), L.hi(), L.hack(), L.fback(), L.fback(dst=L.NAR),
               L.fbu(dst=L.NAR)]
    agree(tmp_path, "fbu-new-link", packets, {R.FBU_UNACKNOWLEDGED}, set())


# --- decision D11: the three pairs alike ------------------------------------------

D11_CASES = {
    # pair: (request, reply with another identifier, the same reply)
    "fbu": (L.fbu(), L.fback(ident=L.IDENT + 1), L.fback()),
    "hi": (L.hi(), L.hack(identifier=L.HI_ID + 1), L.hack()),
    "rtsolpr": (L.rtsolpr(), L.prrtadv(identifier=L.RT_ID + 1), L.prrtadv()),
}


@pytest.mark.parametrize("pair", sorted(D11_CASES))
def test_reply_to_another_identifier_is_a_mismatch(pair, tmp_path):
    p = K.PAIR_OF[pair]
    request, wrong, right = D11_CASES[pair]
    about = {p.mismatch_rule, p.orphan_rule}
    # a request of the pair's scope outstanding: an error
    agree(tmp_path, f"{pair}-mismatch", [request, wrong, right], about,
          {(2, p.mismatch_rule)})
    assert R.RULES_BY_ID[p.mismatch_rule].severity == R.ERROR
    # no request of the scope seen at all: an observation
    agree(tmp_path, f"{pair}-orphan", [wrong], about, {(1, p.orphan_rule)})
    assert R.RULES_BY_ID[p.orphan_rule].severity == R.INFO


@pytest.mark.parametrize("pair", sorted(D11_CASES))
def test_mismatch_message_names_the_outstanding_request(pair, tmp_path):
    from fmipdissect.lint.engine import CaptureLint, LintConfig
    p = K.PAIR_OF[pair]
    request, wrong, _ = D11_CASES[pair]
    path = L.write(tmp_path / "m.pcap", [request, wrong])
    found = [f for f in CaptureLint(str(path), LintConfig())
             if f.rule == p.mismatch_rule]
    assert len(found) == 1
    ident = {"fbu": f"{L.IDENT:#018x}", "hi": str(L.HI_ID),
             "rtsolpr": str(L.RT_ID)}[pair]
    assert "frame 1" in found[0].message and ident in found[0].message


# --- decision D12: Option-Codes decide -----------------------------------------------

def _d12_cases():
    """(packet, rule expected or None) for every message and Option-Code."""
    cases = []
    for code in range(8):       # RtSolPr: the New AP LLA is code 0 or 1
        cases.append((L.rtsolpr(options=[LLAOption(code=code,
                                                   lla=L.AP_LLA)]),
                      None if code in K.RTSOLPR_NEW_AP_LLA_CODES
                      else R.RTSOLPR_NEW_AP_LLA_MISSING))
    for msg_code in range(5):   # PrRtAdv: the New AP LLA slot per Code
        rest = L.prrtadv_options()[1:] if msg_code in (0, 1) else []
        allowed = K.required_options("prrtadv", msg_code)[0].codes
        for code in range(8):
            options = [LLAOption(code=code, lla=L.AP_LLA)] + rest
            ident = 0 if msg_code in (1, 4) else L.RT_ID
            cases.append((L.prrtadv(code=msg_code, identifier=ident,
                                    options=options),
                          None if code in allowed
                          else R.PRRTADV_REQUIRED_OPTION_MISSING))
    for code in range(8):       # HI: the MN's LLA is code 2
        cases.append((L.hi(options=[LLAOption(code=code, lla=L.MN_LLA),
                                    IPv4AddrOption(code=1, addr=L.MN)]),
                      None if code == 2 else R.HI_REQUIRED_OPTION_MISSING))
    return cases


def test_option_codes_decide_every_case(tmp_path):
    """Every Option-Code in the place of each required LLA option: only
    the codes decision D12 names satisfy it, in both implementations."""
    cases = _d12_cases()
    about = {R.RTSOLPR_NEW_AP_LLA_MISSING, R.PRRTADV_REQUIRED_OPTION_MISSING,
             R.HI_REQUIRED_OPTION_MISSING}
    expected = {(i, rule) for i, (_, rule) in enumerate(cases, start=1)
                if rule}
    assert len(expected) > 20 and len(cases) - len(expected) >= 10
    agree(tmp_path, "d12", [pkt for pkt, _ in cases], about, expected)


def test_sender_lla_does_not_stand_in(tmp_path):
    """The issue's two examples: RtSolPr whose only LLA is the sender's own
    (Option-Code 4); PrRtAdv Code 4 with only the router's LLA (3)."""
    packets = [L.rtsolpr(options=[LLAOption(code=4, lla=L.AP_LLA)]),
               L.prrtadv(code=4, identifier=0,
                         options=[LLAOption(code=3, lla=L.NAR_LLA)])]
    agree(tmp_path, "sender-lla", packets,
          {R.RTSOLPR_NEW_AP_LLA_MISSING, R.PRRTADV_REQUIRED_OPTION_MISSING},
          {(1, R.RTSOLPR_NEW_AP_LLA_MISSING),
           (2, R.PRRTADV_REQUIRED_OPTION_MISSING)})
