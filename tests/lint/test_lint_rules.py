"""Every rule of the registry fires on a minimal capture built for it, and
the conformant flows of RFC 4988 4 stay free of errors and warnings."""

from __future__ import annotations

import pytest

import lintcaps
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.lint.keys import load_keys, parse_keys
from fmipdissect.spec.rules import RULES, RULES_BY_ID


def lint(path, keys=None, **config):
    cfg = LintConfig(keys=keys, **config)
    return list(CaptureLint(str(path), cfg))


@pytest.mark.parametrize("rule", [r.id for r in RULES])
def test_rule_fires_on_its_minimal_capture(rule, tmp_path):
    assert rule in lintcaps.CASES, f"{rule} has no minimal capture in " \
                                   f"tests/lintcaps.py CASES"
    path, keys = lintcaps.capture_case(rule, tmp_path)
    findings = lint(path, load_keys(str(keys)) if keys else None)
    fired = [f for f in findings if f.rule == rule]
    assert fired, f"{rule} did not fire; got {[f.rule for f in findings]}"
    f = fired[0]
    r = RULES_BY_ID[rule]
    assert (f.name, f.severity, f.section) == (r.name, r.severity, r.section)
    assert f.message and "\n" not in f.message
    # Nothing else of consequence: only the allowed side effects and infos.
    allowed = {rule} | lintcaps.CASES[rule][1]
    others = {x.rule for x in findings if x.severity != "info"} - allowed
    assert not others, f"{rule}'s capture also raised {sorted(others)}"


@pytest.mark.parametrize("flow", sorted(lintcaps.CONFORMANT_FLOWS))
@pytest.mark.parametrize("with_keys", [False, True])
def test_conformant_flows_have_no_errors_or_warnings(flow, with_keys,
                                                     tmp_path):
    path = lintcaps.write(tmp_path / f"{flow}.pcap",
                          lintcaps.CONFORMANT_FLOWS[flow]())
    keys = parse_keys(lintcaps.keys_text().splitlines()) if with_keys else None
    findings = lint(path, keys)
    bad = [(f.frame, f.rule, f.message) for f in findings
           if f.severity != "info"]
    assert bad == []
    # the plain HI/HAck between the routers is the one observation (RFC 4988 7)
    assert {f.rule for f in findings} == {"FM418"}


def test_findings_come_in_frame_order_and_requests_get_their_own(tmp_path):
    """Findings follow the frames that reveal them; a request never
    answered is reported, once the capture ends, on the request's frame."""
    packets = (lintcaps.CASES["FM101"][0] + lintcaps.CASES["FM203"][0]
               + [lintcaps.hi(code=1, S=1)] + [lintcaps.fbu(ident=5)])
    path = lintcaps.write(tmp_path / "mixed.pcap", packets)
    findings = lint(path)
    at_end = [f for f in findings if f.rule in ("FM403", "FM405")]
    revealed = findings[:len(findings) - len(at_end)]
    frames = [f.frame for f in revealed]
    assert frames == sorted(frames)
    assert findings[-len(at_end):] == at_end
    hi_frame = len(packets) - 1
    assert {(f.frame, f.rule) for f in at_end} >= {(hi_frame, "FM405"),
                                                  (len(packets), "FM403")}
    hi = next(f for f in at_end if f.rule == "FM405")
    assert hi.message.startswith(f"HI of frame {hi_frame} ")


@pytest.mark.parametrize("algorithm", ["hmac-md5", "hmac-sha1",
                                       "hmac-sha256"])
def test_authenticator_algorithms(algorithm, tmp_path):
    from fmipdissect.layers import MNPARAuth
    from scapy.layers.inet import IP, UDP
    from fmipdissect.layers import FBU
    pkt = lintcaps._eth(
        IP(src=lintcaps.MN, dst=lintcaps.PAR) / UDP(sport=434, dport=434)
        / FBU(lifetime=5, homeaddr=lintcaps.MN, haaddr=lintcaps.PAR,
              coa=lintcaps.NAR, ident=lintcaps.IDENT)
        / MNPARAuth(spi=lintcaps.SPI, key=lintcaps.KEY, algorithm=algorithm))
    path = lintcaps.write(tmp_path / "fbu.pcap", [pkt, lintcaps.fback(
        key=lintcaps.KEY)])
    right = parse_keys(lintcaps.keys_text(algorithm=algorithm).splitlines())
    got = [f for f in lint(path, right) if f.rule == "FM501"]
    # the FBU verifies; the FBAck was built with MD5
    assert all(f.frame == 2 for f in got)
    assert bool(got) == (algorithm != "hmac-md5")
    wrong = "hmac-sha1" if algorithm != "hmac-sha1" else "hmac-md5"
    keys = parse_keys(lintcaps.keys_text(algorithm=wrong).splitlines())
    assert 1 in {f.frame for f in lint(path, keys) if f.rule == "FM501"}


def test_without_keys_authenticators_are_not_verified(tmp_path):
    path, _ = lintcaps.capture_case("FM501", tmp_path)
    assert not {"FM501", "FM502"} & {f.rule for f in lint(path)}


def test_lla_length_setting(tmp_path):
    """decision D3: an 8-octet LLA is bad padding at 6, fine at 8."""
    from scapy.packet import Raw
    option = bytes([20, 2, 1]) + bytes(range(1, 9)) + bytes([1, 3, 0, 0, 0])
    path = lintcaps.write(tmp_path / "lla8.pcap",
                          [lintcaps.rtsolpr(options=[Raw(option)])])
    assert "FM304" in {f.rule for f in lint(path)}
    assert "FM304" not in {f.rule for f in lint(path, lla_length=8)}


def test_select_filters_in_the_engine(tmp_path):
    path, _ = lintcaps.capture_case("FM101", tmp_path)
    findings = lint(path, enabled=frozenset({"FM416"}))
    assert findings == []


def test_clipped_message_is_not_checked_beyond_the_note(tmp_path):
    path, _ = lintcaps.capture_case("FM903", tmp_path)
    rules = [f.rule for f in lint(path)]
    assert "FM903" in rules
    assert not {"FM301", "FM303", "FM104"} & set(rules)


def test_counts(tmp_path):
    path = lintcaps.write(tmp_path / "flow.pcap", lintcaps.predictive_flow())
    run = CaptureLint(str(path), LintConfig())
    list(run)
    assert (run.packets, run.messages) == (7, 7)
