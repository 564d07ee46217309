"""fmipdissect.check on every source kind, its options and errors; the
examples of docs/api.md run as written; `import fmipdissect` stays light."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lintcaps
import fmipdissect
from fmipdissect.cli import lint_main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "violations.pcap"
KEYS = ROOT / "samples" / "keys.txt"


def cli_findings(capsys, *argv) -> list[dict]:
    try:
        lint_main(["--format", "json", *map(str, argv)])
    except SystemExit:
        pass
    return json.loads(capsys.readouterr().out)["findings"]


def fields(findings, drop=("file",)):
    return [{k: v for k, v in vars_(f).items() if k not in drop}
            for f in findings]


def vars_(f) -> dict:
    if isinstance(f, dict):
        return f
    return {k: getattr(f, k) for k in ("file", "frame", "time", "rule",
                                        "name", "severity", "section",
                                        "message")}


def test_a_path_gives_the_cli_findings(capsys):
    want = cli_findings(capsys, "--keys", KEYS, SAMPLE)
    got = fmipdissect.check(str(SAMPLE), keys=str(KEYS))
    assert [vars_(f) for f in got] == want and len(want) > 20
    assert fmipdissect.check(SAMPLE, keys=KEYS) == got       # PathLike


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview",
                                  "file", "bytesio", "gzip", "bzip2", "xz",
                                  "unbuffered"])
def test_other_sources(capsys, kind):
    want = fields(cli_findings(capsys, SAMPLE))
    data = SAMPLE.read_bytes()
    source = {"bytes": lambda: data, "bytearray": lambda: bytearray(data),
              "memoryview": lambda: memoryview(data),
              "file": lambda: open(SAMPLE, "rb"),
              "unbuffered": lambda: open(SAMPLE, "rb", buffering=0),
              "bytesio": lambda: io.BytesIO(data),
              "gzip": lambda: gzip.compress(data),
              "bzip2": lambda: bz2.compress(data),
              "xz": lambda: lzma.compress(data)}[kind]()
    got = fmipdissect.check(source)
    assert fields(got) == want
    names = {f.file for f in got}
    if kind in ("file", "unbuffered"):
        assert names == {str(SAMPLE)}
        assert not source.closed          # the caller's file stays open
        source.close()
    elif kind == "bytesio":
        assert names == {"<file object>"}
    else:
        assert names == {"<bytes>"}
    assert {f.file for f in fmipdissect.check(data, name="x.pcap")} == {"x.pcap"}


def test_scapy_packets(capsys, tmp_path):
    from scapy.utils import rdpcap
    packets = [lintcaps.fbu(lifetime=11, ident=1), lintcaps.fback(ident=1)] \
        + lintcaps.predictive_flow()
    path = lintcaps.write(tmp_path / "flow.pcap", packets)
    want = fields(cli_findings(capsys, path))
    assert {f["rule"] for f in want} >= {"FM101"}
    plist = rdpcap(str(path))
    for source in (plist, list(plist), (p for p in plist)):
        got = fmipdissect.check(source)
        assert fields(got) == want
        assert {f.file for f in got} == {"<packets>"}
    one = fmipdissect.check(lintcaps.fbu(lifetime=11), select="FM101")
    assert [(f.frame, f.rule) for f in one] == [(1, "FM101")]


def test_scapy_raw_ip_packets_and_mixed_link_types():
    from scapy.layers.inet import IP
    flow = lintcaps.predictive_flow()
    raw = fmipdissect.check([p[IP] for p in flow])
    assert [f.rule for f in raw] == [f.rule for f in fmipdissect.check(flow)]
    with pytest.raises(fmipdissect.InputError, match="several link types"):
        fmipdissect.check([flow[0], flow[1][IP]])
    with pytest.raises(fmipdissect.InputError, match="no packets"):
        fmipdissect.check(iter([]))


def test_keys_forms(capsys):
    want = fields(cli_findings(capsys, "--keys", KEYS, SAMPLE))
    spi, secret = 0x100, bytes.fromhex(
        KEYS.read_text().split("0x100 ", 1)[1].split()[0])
    for keys in ({spi: secret}, {spi: secret.hex()},
                 {spi: (secret, "hmac-md5")}):
        assert fields(fmipdissect.check(SAMPLE, keys=keys)) == want
    wrong = fmipdissect.check(SAMPLE, keys={spi: b"wrong"}, select="FM5")
    assert "FM501" in {f.rule for f in wrong}
    with pytest.raises(fmipdissect.InputError, match="bad SPI"):
        fmipdissect.check(SAMPLE, keys={"1_0": b"k"})
    with pytest.raises(TypeError):
        fmipdissect.check(SAMPLE, keys=[1, 2])


def test_select_and_ignore(capsys):
    want = fields(cli_findings(capsys, "--select", "FM1,FM4", "--ignore",
                               "FM418", SAMPLE))
    assert fields(fmipdissect.check(SAMPLE, select="FM1,FM4",
                                    ignore="FM418")) == want
    assert fields(fmipdissect.check(SAMPLE, select=["FM1", "FM4"],
                                    ignore=["hi-hack-without-ipsec"])) == want
    for bad in ("", [], ["FM999"]):
        with pytest.raises(fmipdissect.InputError):
            fmipdissect.check(SAMPLE, select=bad)


def test_lla_length(capsys):
    assert fields(fmipdissect.check(SAMPLE, lla_length=8)) == fields(
        cli_findings(capsys, "--lla-length", "8", SAMPLE))
    for bad in (0, 9999, "6"):
        with pytest.raises(fmipdissect.InputError, match="lla_length"):
            fmipdissect.check(SAMPLE, lla_length=bad)


def test_bad_sources(tmp_path):
    for source in (42, None, 3.5, {"a": 1}):
        with pytest.raises(TypeError):
            fmipdissect.check(source)
    with pytest.raises(TypeError, match="binary mode"):
        with open(SAMPLE, encoding="latin-1") as text:
            fmipdissect.check(text)
    for source in (b"", b"not a capture at all", tmp_path / "gone.pcap",
                   tmp_path):
        with pytest.raises(fmipdissect.InputError) as exc:
            fmipdissect.check(source)
        assert "\n" not in str(exc.value)


def test_a_cut_capture_still_gives_its_findings():
    data = SAMPLE.read_bytes()
    rules = [f.rule for f in fmipdissect.check(data[:len(data) // 2])]
    assert "FM101" in rules and rules[-1] != "FM101"
    assert "FM901" in rules


def test_import_is_light():
    code = ("import sys, fmipdissect\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('scapy', 'jinja2', 'dpkt', 'pyshark')]\n"
            "assert not heavy, heavy\n"
            "fmipdissect.check(sys.argv[1])\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('scapy', 'jinja2', 'pyshark')]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code, str(SAMPLE)], check=True)
    assert "check" in dir(fmipdissect)
    with pytest.raises(AttributeError):
        fmipdissect.no_such_name


def test_docs_api_examples_run():
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    proc = subprocess.run([sys.executable, "-c", "\n".join(blocks)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "FM101" in proc.stdout and "cannot check:" in proc.stdout


PREDICTIVE = ROOT / "samples" / "predictive.pcap"

# Each order runs in a fresh interpreter: which of the function and the
# subpackage comes first is then the script's, not an earlier test's.
HANDOVERS_ORDERS = {
    "subpackage first": (
        "import fmipdissect.handovers.records\n"
        "import fmipdissect.handovers.builder\n"
        "import fmipdissect, fmipdissect.api\n"
        "assert fmipdissect.handovers is fmipdissect.api.handovers\n"
        "records = fmipdissect.handovers(sys.argv[1])\n"
        "from fmipdissect.handovers.records import HandoverRecord\n"
        "assert records and isinstance(records[0], HandoverRecord)\n"),
    "function first": (
        "import fmipdissect\n"
        "from fmipdissect import handovers\n"
        "records = handovers(sys.argv[1])\n"      # imports the subpackage
        "import fmipdissect.api\n"
        "assert handovers is fmipdissect.api.handovers\n"
        "assert fmipdissect.handovers is handovers\n"
        "import fmipdissect.handovers.cli\n"
        "from fmipdissect.handovers import records as module\n"
        "assert isinstance(records[0], module.HandoverRecord)\n"),
    "from-import of the subpackage first": (
        "from fmipdissect.handovers import HandoverRecord\n"
        "from fmipdissect import handovers\n"
        "import fmipdissect.api\n"
        "assert handovers is fmipdissect.api.handovers\n"
        "records = handovers(sys.argv[1])\n"),
}


@pytest.mark.parametrize("order", HANDOVERS_ORDERS)
def test_handovers_is_the_function_in_any_import_order(order):
    code = ("import sys, types\n" + HANDOVERS_ORDERS[order]
            + "assert isinstance(fmipdissect.handovers, types.FunctionType)\n"
            "assert sys.modules['fmipdissect.handovers'].__name__ == "
            "'fmipdissect.handovers'\n"
            "print(len(records))\n")
    run = subprocess.run([sys.executable, "-c", code, str(PREDICTIVE)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == len(fmipdissect.handovers(PREDICTIVE)) > 0
