"""Byte-level capture fuzzing, the quick subset of `make fuzz`.

A few dozen mutations of the samples (editcap -E at several error rates,
random truncation, editcap -s snaplen, random octets overwritten anywhere,
captures of mutated messages in intact IP), each through real tshark with
lua/fmip.lua, `fmipdissect decode` and the checker in process, and the real
fmip-lint script over the lot (bench/fuzz.py holds the checks).  Seeded: the
same captures every run; `make fuzz` runs 2,000 and more with other seeds.
Last, captures of the hypothesis message soups of tests/test_fuzz_messages
(options and extensions of every kind, cut and overwritten) go through the
same checks, so the Lua dissector sees far more than the samples' messages.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.utils import wrpcap
from test_fuzz_messages import (FUZZ, capture_packets, fuzz_settings,
                                messages, mutated)
from test_fuzz_regressions import require_tool

CAPTURES_PER_CHUNK = 10
SEEDS = (4988, 3344, 4721)


def _report(result) -> str:
    return "\n".join(f"{how}: {what.splitlines()[-1] if what else ''} "
                     f"(kept as {kept})"
                     for how, what, kept in result["failures"][:10])


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_samples_break_nothing(seed):
    require_tool("tshark")
    require_tool("editcap")
    result = FUZZ.fuzz_captures(CAPTURES_PER_CHUNK, 120, seed, jobs=1,
                                log=lambda s: None, keep=False)
    assert result["captures"] == CAPTURES_PER_CHUNK
    assert not result["failures"], _report(result)


def test_every_mutation_kind_makes_a_capture(tmp_path):
    """Each kind writes a capture differing from its source; the sources
    include a pcapng copy of every sample."""
    require_tool("editcap")
    bases = FUZZ.base_captures(tmp_path)
    assert {p.suffix for p in bases} == {".pcap", ".pcapng"}
    rng = random.Random(1)
    source = next(p for p in bases if p.name == "violations.pcap")
    for kind in FUZZ.MUTATIONS:
        out = tmp_path / f"{kind}.pcap"
        how = FUZZ.mutate_capture(source, out, rng, kind)
        assert out.is_file() and how
        assert out.read_bytes() != source.read_bytes(), kind


def test_message_soup_reaches_the_decoder(tmp_path):
    """The message-soup captures carry FMIPv4 messages broken in many ways:
    the checker decodes most of them and reports framing problems."""
    from fmipdissect.lint.engine import CaptureLint, LintConfig
    path = tmp_path / "soup.pcap"
    FUZZ.write_message_soup(path, random.Random(7))
    run = CaptureLint(str(path), LintConfig())
    rules = {f.rule for f in run}
    assert run.messages > 60
    assert len(rules & {"FM301", "FM302", "FM303", "FM304", "FM201"}) >= 3
    assert Path(path).stat().st_size > 0


@fuzz_settings(4)
@given(st.lists(st.one_of(mutated(), messages.map(bytes)), min_size=60,
                max_size=80))
def test_structured_message_soups_through_tshark(tmp_path_factory, raws):
    """The hypothesis option and extension soups (tests/test_fuzz_messages)
    in one capture per example, through tshark with the Lua dissector (at
    two LLA lengths), fmip-lint and decode."""
    require_tool("tshark")
    path = tmp_path_factory.mktemp("soup") / "soup.pcap"
    wrpcap(str(path), capture_packets(raws))
    assert FUZZ.check_tshark(path) is None
    assert FUZZ.check_tshark(path, lla_length=8) is None
    assert FUZZ.check_lint_batch([path]) is None
    assert FUZZ.check_decode_inprocess(path) is None
