"""lua/fmip.lua is generated, current, derived from protocol.py, valid Lua
5.2 and 5.4, and `fmipdissect lua` writes, prints and installs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from wireshark_common import require_tool

from fmipdissect.spec import protocol as P
from fmipdissect.spec import rules as R
from fmipdissect.wireshark import luagen, plugin

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "lua" / "fmip.lua"
TEMPLATE = ROOT / "fmipdissect" / "wireshark" / "templates" / "fmip.lua.j2"


def _cli(*args, env=None, cwd=None):
    script = Path(sys.executable).parent / "fmipdissect"
    return subprocess.run([str(script), *args],
                          capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)


def test_committed_file_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == luagen.render(), (
        "lua/fmip.lua is stale: run `fmipdissect lua -o lua/fmip.lua` "
        "(or `make lua`) and commit it")


def test_first_line_says_how_to_regenerate():
    first = COMMITTED.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("-- ")
    assert "fmipdissect lua -o lua/fmip.lua" in first and "make lua" in first


def test_valid_lua_54_syntax():
    luac = require_tool("luac5.4")
    proc = subprocess.run([luac, "-p", str(COMMITTED)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_no_api_removed_or_missing_in_lua_54_or_52():
    text = COMMITTED.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("--"))
    # bit32 is gone in Lua 5.4; integer division and bitwise operators do
    # not exist in Lua 5.2; set_plugin_info is not in Wireshark 4.0;
    # loadstring/setfenv/unpack-as-global were removed after 5.1.
    for banned in (r"\bbit32\b", r"//", r"[^~]~[^=]", r"<<", r">>",
                   r"\bset_plugin_info\b", r"\bloadstring\b", r"\bsetfenv\b",
                   r"(?<![.\w])unpack\(", r"\bgoto\b", r"\bbit\."):
        assert not re.search(banned, code), banned


def test_every_wireshark_field_of_protocol_is_declared():
    text = COMMITTED.read_text(encoding="utf-8")
    # the display-filter name is the ProtoField's first argument (a name
    # used with two widths has one ProtoField per width)
    declared = set(re.findall(r'^F\["[\w./]+"\] = ProtoField\.\w+\("([\w.]+)"',
                              text, re.M))
    wanted = {f.wsfield for m in P.MESSAGES for f in m.fields if f.wsfield}
    wanted |= {f.wsfield for o in P.OPTIONS.values() for f in o.fields}
    wanted |= {f.wsfield for f in P.AUTH_EXTENSION_FIELDS}
    wanted |= {f"{luagen.FLAG_BIT_PREFIX[f.wsfield]}.{b.name}"
               for m in P.MESSAGES for f in m.fields for b in f.flags}
    # stable field names (README, docs/wireshark.md)
    wanted |= {"fmip.response_in", "fmip.response_to", "fmip.response_time",
               "fmip.auth.authenticator", "fmip.hi.s", "fmip.hi.u",
               "fmip.flags.s", "fmip.flags.x", "fmip.checksum.status",
               "fmip.checksum.verdict"}
    assert wanted <= declared, sorted(wanted - declared)


def test_expert_infos_come_from_the_rule_registry():
    ctx = luagen.build_context()
    for rid, r in ctx["rules"].items():
        rule = R.RULES_BY_ID[rid]
        assert (r["name"], r["severity"]) == (rule.name, rule.severity)
    # every message-scope rule about a message's own bytes is reported,
    # except FM204 (another protocol's subtype: left to the built-in
    # dissector untouched); the key-based ones with the key preferences
    message_rules = {r.id for r in R.RULES if r.scope == "message"}
    assert message_rules - set(ctx["rules"]) == {R.ICMP_UNKNOWN_SUBTYPE}
    assert {R.AUTH_AUTHENTICATOR_BAD, R.AUTH_UNKNOWN_SPI} <= set(ctx["rules"])


def test_template_restates_no_field_code_or_constraint():
    """Field names, code texts and numbers live in protocol.py only."""
    template = "\n".join(
        line for line in TEMPLATE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--"))
    texts = set()
    for m in P.MESSAGES:
        texts.update(m.codes.values())
        texts.add(m.name)
    for o in P.OPTIONS.values():
        texts.update(o.codes.values())
        texts.add(o.name)
    for text in sorted(texts):
        if len(text) > 4:
            assert text not in template, text
    # layout field names are looked up through the tables, never spelled
    # as Wireshark names in the logic (a few pseudo-fields are fine)
    spelled = set(re.findall(r'F\["(fmip\.[\w.]+)"\]', template))
    layout = {f.wsfield for m in P.MESSAGES for f in m.fields if f.wsfield}
    layout |= {f.wsfield for f in P.AUTH_EXTENSION_FIELDS}
    layout |= {f.wsfield for o in P.OPTIONS.values() for f in o.fields
               if f.name != "lla"}
    assert not spelled & layout, sorted(spelled & layout)
    for number in ("434", "4988 5.1: 10", "0x3f", "0x80", "0x40"):
        assert f"= {number}" not in template
    # rule ids come from the registry (ID.NAME), never as literals
    assert rule_id_literals(template) == []
    assert rule_id_literals('say(top, "FM101", {})') == ["FM101"]   # can fail


def rule_id_literals(code: str) -> list[str]:
    """The rule ids written as literals in Lua code (comments stripped)."""
    return re.findall(r"\bFM\d{3}\b", re.sub(r"--[^\n]*", "", code))


def test_cli_prints_and_writes(tmp_path):
    out = _cli("lua")
    assert out.returncode == 0 and out.stdout == luagen.render()
    target = tmp_path / "x.lua"
    done = _cli("lua", "-o", str(target))
    assert done.returncode == 0 and done.stdout == ""
    assert target.read_text(encoding="utf-8") == luagen.render()


def test_cli_bad_output_is_one_line_exit_2(tmp_path):
    done = _cli("lua", "-o", str(tmp_path))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_install_into_personal_lua_plugins_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    done = _cli("lua", "--install", env=env)
    assert done.returncode == 0, done.stderr
    # Wireshark >= 2.5 on Unix: ~/.local/lib/wireshark/plugins (tshark -G
    # folders says the same when tshark is installed)
    target = home / ".local" / "lib" / "wireshark" / "plugins" / "fmip.lua"
    assert target.read_text(encoding="utf-8") == luagen.render()
    assert str(target) in done.stderr


def test_legacy_folder_is_xdg_aware(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert plugin.legacy_lua_plugins_dir() == tmp_path / "xdg" / "wireshark" / "plugins"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert plugin.legacy_lua_plugins_dir() == tmp_path / ".wireshark" / "plugins"
    (tmp_path / ".config" / "wireshark").mkdir(parents=True)
    assert plugin.legacy_lua_plugins_dir() == \
        tmp_path / ".config" / "wireshark" / "plugins"


def test_every_field_has_a_description_from_the_rulebook():
    """tshark -G fields: every fmip.* field has a description (Wireshark's
    blurb), naming its RFC section or decision; a field a checker rule
    judges names the rule."""
    require_tool("tshark")
    from fmipdissect.wireshark import tshark as T
    out = T.run_command([T.find_tshark(), "-G", "fields", "-X",
                         f"lua_script:{T.dissector_path()}"]).stdout
    rows = [line.split("\t") for line in out.splitlines()
            if line.startswith("F\t")]
    ours = {r[2]: r[7] for r in rows if r[2].startswith("fmip.")
            and not r[2].startswith("fmip.expert.")}
    assert len(ours) > 40
    for name, blurb in ours.items():
        assert re.search(r"RFC \d+|decision D\d+", blurb), (name, blurb)
    assert ours["fmip.lifetime"].endswith(
        "checked by FM101 fbu-lifetime-over-limit")
    assert "FM103 fbu-reserved-flags-set" in ours["fmip.flags.x"]
