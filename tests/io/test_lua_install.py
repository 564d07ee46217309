"""`fmipdissect lua --install` keeps a fmip.lua that is not ours, as
`--uninstall` does (it once overwrote it silently)."""

from __future__ import annotations

from pathlib import Path

from iohelp import one_error_line, run

PLUGIN_DIR = Path(".local") / "lib" / "wireshark" / "plugins"


def test_install_refuses_to_replace_a_foreign_fmip_lua(tmp_path):
    home = tmp_path / "home"
    (home / PLUGIN_DIR).mkdir(parents=True)
    target = home / PLUGIN_DIR / "fmip.lua"
    target.write_text("-- someone else's fmip.lua\n")
    isolated = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "WIRESHARK_CONFIG_DIR": str(home / ".config" / "wireshark")}
    result = run("lua", "--install", extra_env=isolated)
    assert result.returncode == 2
    assert "not written by" in one_error_line(result)
    assert target.read_text() == "-- someone else's fmip.lua\n"
