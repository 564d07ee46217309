"""Run tshark (directly or through pyshark) with the generated dissector.

A thin bridge for the tests, the benchmark and users' scripts:

    >>> from fmipdissect.wireshark import tshark
    >>> rows = tshark.fields("samples/predictive.pcap",
    ...                      ["frame.number", "fmip.type", "fmip.lifetime"])
    >>> cap = tshark.pyshark_capture("samples/predictive.pcap")

The dissector is the committed lua/fmip.lua when the package runs from its
source tree, else a freshly rendered copy (same content: a test proves the
committed file is current).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError

REPO_LUA = Path(__file__).resolve().parents[2] / "lua" / "fmip.lua"

# -T fields: one tab between fields, "|" between occurrences of one field
# (expert messages contain commas and semicolons, never "|").
OCCURRENCE_SEPARATOR = "|"

# What a Lua failure looks like in tshark's output: the "Lua Error" tree
# item of wslua, the dissector's own catch-all expert info, and Wireshark's
# malformed-packet marker.
LUA_ERROR_MARKS = ("Lua Error", "FMIPv4 dissector bug", "[Malformed")


def find_tshark() -> str:
    path = shutil.which("tshark")
    if not path:
        raise InputError("tshark not found; install Wireshark's tshark "
                         "(Debian: apt-get install tshark)")
    return path


def dissector_path() -> Path:
    """The Lua dissector file to load with -X lua_script:."""
    if REPO_LUA.is_file():
        return REPO_LUA
    from .luagen import render
    out = Path(tempfile.gettempdir()) / f"fmip-{os.getuid()}.lua"
    text = render()
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out


def command(capture, *args: str, lua: bool = True, two_pass: bool = False,
            prefs: dict[str, str] | None = None,
            lua_path: str | os.PathLike | None = None) -> list[str]:
    """The tshark command line reading capture, with or without the plugin.

    two_pass (-2) lets a request show fmip.response_in: tshark prints each
    frame as it reads it, before the response has been seen.  With -2 and
    no display filter tshark's first pass builds no protocol tree, and the
    ICMP side of the dissector (a postdissector reading the icmp field)
    sees nothing on that pass; a display filter that keeps every frame
    ("frame") makes it build the tree.
    """
    cmd = [find_tshark(), "-n", "-r", str(capture)]
    if lua:
        cmd += ["-X", f"lua_script:{lua_path or dissector_path()}"]
    if two_pass:
        cmd.append("-2")
        if "-Y" not in args:
            cmd += ["-Y", "frame"]
    for name, value in (prefs or {}).items():
        cmd += ["-o", f"{name}:{value}"]
    return cmd + list(args)


def run(capture, *args: str, timeout: float = 600, **kw) -> str:
    """tshark's standard output; a failing tshark raises InputError."""
    cmd = command(capture, *args, **kw)
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        raise InputError(f"tshark failed ({proc.returncode}): "
                         f"{err[-1] if err else 'no message'}")
    return proc.stdout


def fields(capture, names: list[str], **kw) -> list[dict[str, list[str]]]:
    """One dict per frame: field name -> list of occurrences (maybe empty)."""
    args = ["-T", "fields", "-E", "header=n", "-E", "occurrence=a",
            "-E", f"aggregator={OCCURRENCE_SEPARATOR}", "-E", "quote=n"]
    for n in names:
        args += ["-e", n]
    rows = []
    for line in run(capture, *args, **kw).splitlines():
        cells = line.split("\t")
        cells += [""] * (len(names) - len(cells))
        rows.append({n: (c.split(OCCURRENCE_SEPARATOR) if c else [])
                     for n, c in zip(names, cells)})
    return rows


def json_packets(capture, **kw) -> list[dict]:
    """tshark -T json: one dict per frame (its "_source" "layers")."""
    out = run(capture, "-T", "json", **kw)
    return [p["_source"]["layers"] for p in json.loads(out or "[]")]


def verbose(capture, **kw) -> str:
    """tshark -V: the decoded tree of every frame, as text."""
    return run(capture, "-V", **kw)


def lua_error_marks(text: str) -> list[str]:
    """Lines of tshark output that show a Lua error or a malformed packet."""
    return [line.strip() for line in text.splitlines()
            if any(mark in line for mark in LUA_ERROR_MARKS)]


def pyshark_capture(capture, lua: bool = True, **kw):
    """A pyshark FileCapture that loads the FMIPv4 dissector.

    Extra keyword arguments go to pyshark.FileCapture (display_filter,
    keep_packets, use_json, ...).  Close it with .close().
    """
    import pyshark
    params = list(kw.pop("custom_parameters", []) or [])
    if lua:
        params += ["-X", f"lua_script:{dissector_path()}"]
    return pyshark.FileCapture(str(capture), custom_parameters=params,
                               tshark_path=find_tshark(), **kw)
