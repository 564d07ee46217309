"""The bundled samples through tshark with the plugin.

* Conformant samples: every frame is FMIPv4, every fmip.* field equals what
  the Scapy layers read from the same bytes, no Lua error, no malformed
  mark, no expert warning or error (observations, decision D10 "info", are
  allowed: e.g. FM418 HI/HAck without IPsec).
* samples/violations.pcap: each intended finding the dissector can see
  (fmipdissect.gen.violations.VIOLATIONS) fires on its frame, and no frame gets a
  warning or error that was not intended for it.

One `tshark -2` run per sample.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import pytest
from scapy.utils import rdpcap
from wireshark_common import (T, compared_field_names, expected_fields,
                                   require_tool)

from fmipdissect.gen import samples as SM
from fmipdissect.gen import violations as V
from fmipdissect.wireshark import luagen

ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = ROOT / "samples"
CONFORMANT = ("predictive", "reactive", "network-initiated", "rejected",
              "ncoa")

# Wireshark's expert severities as -T fields prints them (epan/proto.h)
PI_WARN, PI_ERROR = 0x00600000, 0x00800000

# Requests never answered: the checker reports them where the capture ends,
# the dissector on the request frame itself (as Wireshark does, e.g.
# icmp.no_resp); they are matched by capture, not by frame.
UNANSWERED = {"FM403", "FM405", "FM407"}


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    require_tool("tshark")
    if all((SAMPLES_DIR / f"{n}.pcap").is_file()
           for n in CONFORMANT + ("violations",)):
        return SAMPLES_DIR
    if os.environ.get("CI") == "true":
        pytest.fail("samples/*.pcap missing: run `make samples`")
    out = tmp_path_factory.mktemp("samples")
    SM.write_samples(out)
    return out


def _run(path):
    """With the samples' MN-PAR keys (decision D5), as `make run` runs
    fmip-lint --keys samples/keys.txt on them."""
    names = ["_ws.expert.message", "_ws.expert.severity", "_ws.malformed",
             "fmip.type", "fmip.subtype"] + compared_field_names()
    keys = Path(path).parent / "keys.txt"
    return T.fields(path, names, two_pass=True,
                    prefs={"fmip.key_file": str(keys)})


@pytest.mark.parametrize("name", CONFORMANT)
def test_conformant_sample(samples, name):
    path = samples / f"{name}.pcap"
    rows = _run(path)
    packets = rdpcap(str(path))
    assert len(rows) == len(packets) > 0
    problems = []
    for number, (pkt, row) in enumerate(zip(packets, rows), start=1):
        if not (row["fmip.type"] or row["fmip.subtype"]):
            problems.append(f"frame {number}: not decoded as FMIPv4")
        if row["_ws.malformed"]:
            problems.append(f"frame {number}: malformed")
        for msg, sev in zip(row["_ws.expert.message"],
                            row["_ws.expert.severity"]):
            if T.lua_error_marks(msg) or int(sev) >= PI_WARN:
                problems.append(f"frame {number}: {msg}")
        expected = expected_fields(pkt)
        for field in compared_field_names():
            if row[field] != expected.get(field, []):
                problems.append(f"frame {number}: {field}: tshark "
                                f"{row[field]} != scapy {expected.get(field)}")
    assert not problems, "\n".join(problems)


def test_conformant_samples_link_every_response(samples):
    rows = T.fields(samples / "predictive.pcap",
                    ["fmip.response_in", "fmip.response_to",
                     "fmip.response_time"], two_pass=True)
    requests = [r for r in rows if r["fmip.response_in"]]
    responses = [r for r in rows if r["fmip.response_to"]]
    assert len(requests) >= 3 and len(responses) >= 3
    assert all(r["fmip.response_time"] for r in responses)


def _fired(row, min_severity=0):
    return {m.split()[0] for m, s in zip(row["_ws.expert.message"],
                                         row["_ws.expert.severity"])
            if re.match(r"FM\d{3} ", m) and int(s) >= min_severity}


def test_violations_fire_on_their_frames(samples):
    rows = _run(samples / "violations.pcap")
    seen_rules = set(luagen.build_context()["rules"])
    intended = defaultdict(set)
    for frame, rule, *_ in V.VIOLATIONS:
        intended[frame].add(rule)
    missing, unexpected = [], []
    fired_anywhere = set().union(*(_fired(r) for r in rows))
    for frame, rules in sorted(intended.items()):
        for rule in sorted(rules & seen_rules):
            if rule in UNANSWERED:
                if rule not in fired_anywhere:
                    missing.append(f"{rule} nowhere in the capture")
            elif rule not in _fired(rows[frame - 1]):
                missing.append(f"frame {frame}: {rule} did not fire "
                               f"({rows[frame - 1]['_ws.expert.message']})")
    for number, row in enumerate(rows, start=1):
        for rule in _fired(row, PI_WARN) - intended.get(number, set()):
            unexpected.append(f"frame {number}: {rule}")
        for msg in row["_ws.expert.message"]:
            if T.lua_error_marks(msg):
                unexpected.append(f"frame {number}: {msg}")
    assert not missing, "\n".join(missing)
    assert not unexpected, "\n".join(unexpected)
    # the dissector covers a good part of the checker's findings
    covered = {r for _, r, *_ in V.VIOLATIONS} & seen_rules
    assert len(covered) >= 30, sorted(covered)
