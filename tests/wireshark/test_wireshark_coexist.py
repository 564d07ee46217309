"""An installed plugin and `-X lua_script:` side by side, `--install` and
`--uninstall`, and the isolation of every tshark the package starts.

The installed copy below is marked (its Protocol column reads
"FMIPv4-installed"), so the output tells which copy dissected it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wireshark_common import require_tool

from fmipdissect.wireshark import luagen
from fmipdissect.wireshark import tshark as T

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = Path(".local") / "lib" / "wireshark" / "plugins"
INSTALLED_MARK = "FMIPv4-installed"


def _cli(*args, home):
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("WIRESHARK_CONFIG_DIR", None)
    return subprocess.run([str(Path(sys.executable).parent / "fmipdissect"),
                           *args], capture_output=True, text=True, env=env,
                          timeout=120)


def _home_env(home):
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("WIRESHARK_CONFIG_DIR", None)
    return env


@pytest.fixture
def home_with_plugin(tmp_path):
    """A HOME with the plugin installed by `fmipdissect lua --install`,
    marked so that its output can be told apart."""
    require_tool("tshark")
    home = tmp_path / "home"
    home.mkdir()
    done = _cli("lua", "--install", home=home)
    assert done.returncode == 0, done.stderr
    target = home / PLUGIN_DIR / "fmip.lua"
    text = target.read_text(encoding="utf-8")
    marked = text.replace('cols.protocol = "FMIPv4"',
                          f'cols.protocol = "{INSTALLED_MARK}"')
    assert marked != text
    target.write_text(marked, encoding="utf-8")
    return home


def _documented_x_commands() -> list[list[str]]:
    """Every `tshark ... -X lua_script:...` command of the README."""
    cmds = []
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("tshark ") and "lua_script:" in line:
            cmds.append(shlex.split(line.split("  #")[0]))
    assert cmds, "the README shows no -X lua_script: command"
    return cmds


def test_readme_x_commands_with_the_plugin_installed(home_with_plugin):
    for cmd in _documented_x_commands():
        proc = subprocess.run(cmd, cwd=ROOT, env=_home_env(home_with_plugin),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (cmd, proc.stderr)
        assert T.stderr_lua_errors(proc.stderr) == [], (cmd, proc.stderr)
        # the copy named with -X is used, and stderr says so
        assert "using lua/fmip.lua (-X)" in proc.stderr, proc.stderr
        assert "is not loaded" in proc.stderr
        assert INSTALLED_MARK not in proc.stdout
        assert "FMIPv4" in proc.stdout or "fmip" in proc.stdout.lower()


def test_installed_copy_alone_is_used(home_with_plugin):
    proc = subprocess.run(["tshark", "-n", "-r", "samples/predictive.pcap"],
                          cwd=ROOT, env=_home_env(home_with_plugin),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert T.stderr_lua_errors(proc.stderr) == []
    assert "fmip.lua:" not in proc.stderr
    assert proc.stdout.count(INSTALLED_MARK) == 7


def test_same_script_twice_is_one_copy_without_error(tmp_path):
    require_tool("tshark")
    lua = str(T.dissector_path())
    proc = subprocess.run(["tshark", "-n", "-X", f"lua_script:{lua}", "-X",
                           f"lua_script:{lua}", "-r",
                           str(ROOT / "samples" / "predictive.pcap")],
                          env=T.isolated_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0
    assert T.stderr_lua_errors(proc.stderr) == []
    assert re.search(r"not loading .* already loaded from .*the same",
                     proc.stderr), proc.stderr
    assert proc.stdout.count("FMIPv4") == 7


def test_package_calls_ignore_the_users_plugin_and_prefs(tmp_path,
                                                         monkeypatch):
    """A broken installed plugin and a preference moving the port do not
    reach the package's tshark calls."""
    require_tool("tshark")
    home = tmp_path / "home"
    (home / PLUGIN_DIR).mkdir(parents=True)
    (home / PLUGIN_DIR / "fmip.lua").write_text('error("user plugin")\n')
    prefs = home / ".config" / "wireshark"
    prefs.mkdir(parents=True)
    (prefs / "preferences").write_text("fmip.udp_port: 9999\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    rows = T.fields(ROOT / "samples" / "predictive.pcap",
                    ["frame.number", "fmip.type"])
    assert [r["fmip.type"] for r in rows if r["fmip.type"]] == \
        [["20"], ["21"], ["21"]]
    cap = T.pyshark_capture(ROOT / "samples" / "predictive.pcap",
                            display_filter="fmip.type == 20")
    try:
        assert [p.highest_layer for p in cap] == ["FMIP"]
    finally:
        cap.close()


def test_lua_error_on_stderr_fails_loudly(tmp_path):
    require_tool("tshark")
    broken = tmp_path / "broken.lua"
    broken.write_text('error("this dissector does not load")\n')
    with pytest.raises(T.LuaError, match="does not load"):
        T.fields(ROOT / "samples" / "predictive.pcap", ["frame.number"],
                 lua_path=broken)
    with pytest.raises(T.LuaError, match="does not load"):
        T.pyshark_capture(ROOT / "samples" / "predictive.pcap",
                          lua_path=broken)


def test_pyshark_close_after_tshark_exited_unseen():
    """tshark has exited but asyncio has not yet handled its SIGCHLD (a busy
    machine): closing the capture is not reported as a crash.  pyshark's
    kill would reap it behind asyncio's back (exit status 255); a CI run
    failed this way."""
    require_tool("tshark")
    cap = T.pyshark_capture(ROOT / "samples" / "predictive.pcap",
                            display_filter="fmip.type == 20")
    run = cap.eventloop.run_until_complete
    proc = run(cap._get_tshark_process())
    # One packet's PDML fits in the pipe: tshark exits while the event
    # loop does not run, so asyncio cannot have seen it go.
    deadline = time.monotonic() + 60
    while not T._has_exited(proc.pid):      # exited, not reaped
        assert time.monotonic() < deadline, "tshark did not exit"
        time.sleep(0.05)
    assert proc.returncode is None
    run(cap._cleanup_subprocess(proc))
    cap.close()
    assert proc.returncode == 0


# --- --install / --uninstall ----------------------------------------------------

def test_install_refuses_a_symlink_and_leaves_its_target(tmp_path):
    home = tmp_path / "home"
    (home / PLUGIN_DIR).mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (home / PLUGIN_DIR / "fmip.lua").symlink_to(victim)
    done = _cli("lua", "--install", home=home)
    assert done.returncode == 2
    assert "symbolic link" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert victim.read_text() == "keep me\n"


def test_install_is_atomic_and_replaces_an_old_copy(tmp_path):
    home = tmp_path / "home"
    (home / PLUGIN_DIR).mkdir(parents=True)
    target = home / PLUGIN_DIR / "fmip.lua"
    target.write_text(f"-- Generated by `{luagen.REGENERATE_COMMAND}`: "
                      f"an old copy\n")
    old_inode = target.stat().st_ino
    done = _cli("lua", "--install", home=home)
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == luagen.render()
    assert target.stat().st_ino != old_inode        # renamed into place
    assert sorted(p.name for p in target.parent.iterdir()) == ["fmip.lua"]


def test_uninstall_removes_the_copy_and_keeps_foreign_files(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    assert _cli("lua", "--install", home=home).returncode == 0
    target = home / PLUGIN_DIR / "fmip.lua"
    done = _cli("lua", "--uninstall", home=home)
    assert done.returncode == 0 and not target.exists()
    assert f"removed {target}" in done.stderr
    target.write_text("-- someone else's fmip.lua\n")
    done = _cli("lua", "--uninstall", home=home)
    assert done.returncode == 0 and target.exists()
    assert "not written by" in done.stderr
    done = _cli("lua", "--uninstall", home=tmp_path / "nohome")
    assert done.returncode == 0 and "nothing to remove" in done.stderr


# --- Colouring rules -----------------------------------------------------------

COLORFILTERS = Path(".config") / "wireshark" / "colorfilters"


def _coloured(home) -> dict[int, str]:
    """frame -> the colouring rule tshark --color applies (samples/
    violations.pcap, with the installed plugin, in HOME home)."""
    proc = subprocess.run(["tshark", "-n", "-2", "--color", "-r",
                           "samples/violations.pcap", "-T", "fields", "-e",
                           "frame.number", "-e", "frame.coloring_rule.name",
                           "-e", "_ws.expert.severity"], cwd=ROOT,
                          env=_home_env(home), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert T.stderr_lua_errors(proc.stderr) == []
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    return {int(r[0]): r[1] for r in rows}


def test_install_adds_colouring_rules_and_uninstall_removes_them(tmp_path):
    require_tool("tshark")
    home = tmp_path / "home"
    home.mkdir()
    assert _cli("lua", "--install", home=home).returncode == 0
    rules = (home / COLORFILTERS).read_text(encoding="utf-8").splitlines()
    assert rules[0].startswith("@FMIPv4 errors@fmip.expert.fm101 || ")
    assert rules[1].startswith("@FMIPv4 warnings@")
    default = Path("/usr/share/wireshark/colorfilters")
    if default.is_file():       # Wireshark's defaults follow, unchanged
        assert rules[2:] == [line for line in default.read_text().splitlines()
                             if line.startswith(("@", "!@"))]
    colours = _coloured(home)
    # frame 1 of the violations sample: FBU Lifetime 11 (FM101, an error)
    assert colours[1] == "FMIPv4 errors"
    assert "FMIPv4 warnings" in colours.values()
    done = _cli("lua", "--uninstall", home=home)
    assert done.returncode == 0, done.stderr
    assert not (home / COLORFILTERS).exists()


def test_colouring_rules_keep_the_users_own(tmp_path):
    home = tmp_path / "home"
    (home / COLORFILTERS).parent.mkdir(parents=True)
    mine = "@My rule@tcp.port == 8080@[0,0,0][65535,65535,65535]\n"
    (home / COLORFILTERS).write_text(mine)
    assert _cli("lua", "--install", home=home).returncode == 0
    text = (home / COLORFILTERS).read_text()
    assert text.startswith("@FMIPv4 errors@") and text.endswith(mine)
    assert _cli("lua", "--install", home=home).returncode == 0   # once only
    assert (home / COLORFILTERS).read_text().count("@FMIPv4 errors@") == 1
    assert _cli("lua", "--uninstall", home=home).returncode == 0
    assert (home / COLORFILTERS).read_text() == mine
