"""Authenticators verified in Wireshark (decision D5): the fmip.keys and
fmip.key_file preferences, set with tshark -o, give the verdicts of
`fmip-lint --keys` (FM501, FM502), in the same words, for HMAC-MD5,
HMAC-SHA1 and HMAC-SHA256; no verification without keys, none for a
reserved SPI (decision D14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wireshark_common import T, require_tool

import lintcaps as L
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.lint.keys import load_keys
from fmipdissect.spec import protocol as P
from fmipdissect.spec import rules as R

ROOT = Path(__file__).resolve().parents[2]
AUTH_RULES = {R.AUTH_AUTHENTICATOR_BAD, R.AUTH_UNKNOWN_SPI}
OTHER_SPI = 0x999
WRONG_KEY = bytes(range(16))


# Wireshark cuts an expert info's text at ITEM_LABEL_LENGTH (240 octets
# with its NUL, epan/proto.h): an HMAC-SHA256 finding names two 64-digit
# authenticators and runs past it.
ITEM_LABEL_LENGTH = 240


def _as_wireshark_shows(rule: str, words: str) -> str:
    label = f"{rule} {R.RULES_BY_ID[rule].name}: {words}"
    return label[:ITEM_LABEL_LENGTH - 1].partition(": ")[2]


def lint_auth(path, keys) -> set[tuple[int, str, str]]:
    """fmip-lint --keys's FM501/FM502 findings, their words as long as
    Wireshark shows them."""
    config = LintConfig(keys=load_keys(str(keys)))
    return {(f.frame, f.rule, _as_wireshark_shows(f.rule, f.message))
            for f in CaptureLint(str(path), config) if f.rule in AUTH_RULES}


def tshark_auth(path, prefs) -> set[tuple[int, str, str]]:
    out = set()
    for row in T.fields(path, ["frame.number", "_ws.expert.message"],
                        two_pass=True, prefs=prefs):
        for message in row["_ws.expert.message"]:
            rule = message.split(" ", 1)[0]
            if rule in AUTH_RULES:
                out.add((int(row["frame.number"][0]), rule,
                         message.partition(": ")[2]))
    return out


def test_sample_key_file_gives_fmip_lints_verdicts():
    require_tool("tshark")
    keys = ROOT / "samples" / "keys.txt"
    for sample in sorted((ROOT / "samples").glob("*.pcap")):
        want = lint_auth(sample, keys)
        got = tshark_auth(sample, {"fmip.key_file": str(keys)})
        assert got == want, sample.name
    violations = tshark_auth(ROOT / "samples" / "violations.pcap",
                             {"fmip.key_file": str(keys)})
    assert {rule for _, rule, _ in violations} == AUTH_RULES


@pytest.mark.parametrize("algorithm", sorted(P.AUTH_ALGORITHMS))
def test_each_algorithm_verifies_and_refuses(algorithm, tmp_path):
    """A right authenticator, a wrong one (another key), an SPI not in the
    keys, and a reserved SPI, in FBU and FBAck; the key given inline."""
    require_tool("tshark")
    packets = [
        L.fbu(auth=False)
        / _auth(L.SPI, L.KEY, algorithm),
        L.fback(auth=False) / _auth(L.SPI, L.KEY, algorithm),
        L.fbu(auth=False, ident=L.IDENT + 1)
        / _auth(L.SPI, WRONG_KEY, algorithm),
        L.fbu(auth=False, ident=L.IDENT + 2)
        / _auth(OTHER_SPI, L.KEY, algorithm),
        L.fbu(auth=False, ident=L.IDENT + 3)
        / _auth(P.SPI_RESERVED_MAX, L.KEY, algorithm),
    ]
    path = L.write(tmp_path / "auth.pcap", packets)
    keys = tmp_path / "keys.txt"
    keys.write_text(L.keys_text(algorithm=algorithm))
    want = lint_auth(path, keys)
    assert {(frame, rule) for frame, rule, _ in want} == {
        (3, R.AUTH_AUTHENTICATOR_BAD), (4, R.AUTH_UNKNOWN_SPI)}
    inline = f"0x{L.SPI:x} {L.KEY.hex()} {algorithm}; 1 00"
    assert tshark_auth(path, {"fmip.keys": inline}) == want
    assert tshark_auth(path, {"fmip.key_file": str(keys)}) == want
    assert tshark_auth(path, {}) == set()          # no keys, no verdict


def _auth(spi, key, algorithm):
    from fmipdissect.layers import MNPARAuth
    return MNPARAuth(spi=spi, key=key, algorithm=algorithm)
