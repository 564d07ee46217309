"""docs/wireshark.md runs: every display filter it lists is accepted by
tshark and matches in the samples, every command it shows runs against
the samples (tshark isolated from the user's configuration, `--install`
into a temporary HOME), and its Python example runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from wireshark_common import require_tool

from fmipdissect.wireshark import tshark as T

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "wireshark.md"
SAMPLES = sorted((ROOT / "samples").glob("*.pcap"))
# Placeholder capture names of the doc, run on a sample instead
PLACEHOLDERS = {"cap.pcap": "samples/violations.pcap",
                "CAPTURE": "samples/predictive.pcap",
                "FILE": "{tmp}/fmip.lua"}


def _indented_blocks(text: str) -> list[list[str]]:
    """The doc's code blocks written as 4-space indented lines."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.startswith("    ") and line.strip():
            current.append(line[4:])
        elif current and not line.strip():
            current.append("")
        else:
            if current:
                blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def documented_filters() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("Useful display filters:", 1)[1]
    block = _indented_blocks(section)[0]
    filters = [re.split(r"\s{2,}", line.strip())[0] for line in block
               if line.strip()]
    assert len(filters) >= 8
    return filters


def documented_commands() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    commands = []
    for block in _indented_blocks(text):
        joined = "\n".join(block).replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith(("tshark ", "fmipdissect ")):
                commands.append(re.split(r"\s{2,}#", line)[0].strip())
    # also the commands quoted inline as `tshark ...`
    for cmd in re.findall(r"`(tshark [^`]*-r [^`]*)`", text):
        commands.append(cmd)
    assert len(commands) >= 5
    return commands


@pytest.mark.parametrize("display_filter", documented_filters())
def test_documented_filter_matches_in_the_samples(display_filter):
    require_tool("tshark")
    matched = 0
    for sample in SAMPLES:
        out = T.run(sample, "-2", "-Y", display_filter)
        matched += len(out.splitlines())
    assert matched > 0, f"{display_filter!r} matches no frame of the samples"


def test_the_expert_filter_is_the_ws_one():
    assert '_ws.expert.message contains "FM1"' in documented_filters()


@pytest.mark.parametrize("command", documented_commands())
def test_documented_command_runs(command, tmp_path):
    require_tool("tshark")
    args = shlex.split(command)
    for i, a in enumerate(args):
        if a in PLACEHOLDERS:
            args[i] = PLACEHOLDERS[a].format(tmp=tmp_path)
    if args[0] == "fmipdissect":
        args[0] = str(Path(sys.executable).parent / "fmipdissect")
        env = dict(os.environ, HOME=str(tmp_path / "home"))
        env.pop("XDG_CONFIG_HOME", None)
    else:
        env = T.isolated_env()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, (command, proc.stderr)
    assert T.stderr_lua_errors(proc.stderr) == [], proc.stderr
    if args[0].endswith("tshark"):
        assert proc.stdout.strip(), command
        assert T.lua_error_marks(proc.stdout) == [] or "violations" in command


def test_documented_python_example_runs(tmp_path):
    require_tool("tshark")
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    for code in blocks:
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr


# Fields of which one FMIPv4 message may carry several, one per option or
# extension: `fmip.opt.code == 2 && fmip.opt.type == 21` matches a message
# with an option of Code 2 and another of type 21 (the Wireshark display
# filter language compares fields, not options).
PER_OPTION_FIELD = re.compile(r"\bfmip\.(?:opt|ext)\.[\w.]+")


def test_no_documented_filter_combines_fields_of_different_options():
    for display_filter in documented_filters():
        fields = set(PER_OPTION_FIELD.findall(display_filter))
        assert len(fields) <= 1, (
            f"{display_filter!r} combines {sorted(fields)}: they may come "
            f"from different options; use a per-option field such as "
            f"fmip.opt.ncoa")


def test_ncoa_filter_matches_exactly_the_messages_with_an_ncoa_option():
    """fmip.opt.ncoa against Scapy's own dissection of every sample: the
    frames with a New IPv4 Address option of Option-Code 2 (RFC 4988 6.2),
    an FBAck's NCoA extension (decision D4) included."""
    require_tool("tshark")
    from scapy.utils import rdpcap

    from fmipdissect.layers import IPv4AddrOption
    from fmipdissect.spec import protocol as P
    matched = 0
    for sample in SAMPLES:
        want = set()
        for number, pkt in enumerate(rdpcap(str(sample)), start=1):
            layer = pkt.getlayer(IPv4AddrOption)
            i = 1
            while layer is not None:
                if layer.code == P.ADDR_NCOA:
                    want.add(number)
                i += 1
                layer = pkt.getlayer(IPv4AddrOption, nb=i)
        rows = T.fields(sample, ["frame.number"], "-Y", "fmip.opt.ncoa")
        got = {int(r["frame.number"][0]) for r in rows}
        assert got == want, sample.name
        matched += len(got)
    assert matched > 0
    rows = T.fields(ROOT / "samples" / "predictive.pcap", ["frame.number"],
                    "-Y", "fmip.opt.ncoa")
    assert 4 not in {int(r["frame.number"][0]) for r in rows}
