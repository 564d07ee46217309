"""`fmipdissect decode` on several captures, with --frame, --type, --mn and
--keys (decode/select.py), and its two JSON forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fmipdissect import cli

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NCOA, PREDICTIVE = str(SAMPLES / "ncoa.pcap"), str(SAMPLES / "predictive.pcap")
KEYS = str(SAMPLES / "keys.txt")


def records(capsys, *argv):
    assert cli.main(["decode", "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_several_captures_one_document(capsys):
    doc = records(capsys, NCOA, PREDICTIVE)
    assert doc["summary"] == {"files": 2, "messages": 14, "notes": 0}
    assert [r["file"] for r in doc["records"]] == [NCOA] * 7 + [PREDICTIVE] * 7


def test_jsonl_is_the_same_records_one_per_line(capsys):
    doc = records(capsys, NCOA)
    assert cli.main(["decode", "--format", "jsonl", NCOA]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == doc["records"]


def test_filters(capsys):
    doc = records(capsys, "--frame", "2-3,6", NCOA)
    assert [r["frame"] for r in doc["records"]] == [2, 3, 6]
    doc = records(capsys, "--type", "fbu,HACK", NCOA, PREDICTIVE)
    assert {r["abbrev"] for r in doc["records"]} == {"FBU", "HAck"}
    doc = records(capsys, "--mn", "10.9.9.9", NCOA)
    assert doc["records"] == [] and doc["summary"]["messages"] == 0
    doc = records(capsys, "--mn", "10.1.0.10", "--type", "RtSolPr",
                  PREDICTIVE)
    assert [r["src"] for r in doc["records"]] == ["10.1.0.10"]


def test_keys_give_authenticator_verdicts(capsys, tmp_path):
    doc = records(capsys, "--keys", KEYS, "--type", "fbu", NCOA)
    assert all(r["authenticators"] == [{"spi": 256, "verdict": "ok",
                                        "algorithm": "hmac-md5"}]
               for r in doc["records"]) and doc["records"]
    wrong = tmp_path / "keys.txt"
    wrong.write_text("256 00112233445566778899aabbccddeeff\n")
    assert cli.main(["decode", "--keys", str(wrong), "--type", "fbu",
                     NCOA]) == 0
    assert "[Authenticator, SPI 256: bad (hmac-md5)]" in \
        capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--frame", "0"], "frames are numbered from 1"),
    (["--frame", "a-b"], "give frame numbers or ranges"),
    (["--type", "fbuu"], "(did you mean fbu?)"),
])
def test_bad_filters_are_one_line(capsys, argv, words):
    assert cli.main(["decode", *argv, NCOA]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.splitlines()) == 1
