"""Run tshark (directly or through pyshark) with the generated dissector.

A thin bridge for the tests, the benchmark and users' scripts:

    >>> from fmipdissect.wireshark import tshark
    >>> rows = tshark.fields("samples/predictive.pcap",
    ...                      ["frame.number", "fmip.type", "fmip.lifetime"])
    >>> cap = tshark.pyshark_capture("samples/predictive.pcap")

The dissector is the committed lua/fmip.lua when the package runs from its
source tree, else a freshly rendered copy (same content: a test proves the
committed file is current).

Every tshark started here runs with a personal configuration of its own: a
private, empty HOME, XDG_CONFIG_HOME and WIRESHARK_CONFIG_DIR, so no
installed copy of the plugin (an older fmip.lua in the user's Lua plugins
folder) and no user preference (a moved port, a disabled protocol) takes
part.  Any Lua error tshark writes on standard error fails the call
(LuaError): a dissector that did not load must never pass silently.
"""

from __future__ import annotations

import atexit
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

# What a Lua failure looks like on tshark's standard error: wslua's
# "Lua: Error during loading:" (and "... during execution of ..."), and the
# stack traceback that follows a runtime error.
STDERR_LUA_MARKS = ("Lua: Error", "Lua Error", "stack traceback")


class LuaError(InputError):
    """tshark reported a Lua error (the dissector failed to load or run)."""


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
        tmp = out.with_name(f".{out.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    return out


# --- An isolated personal configuration ----------------------------------------

_ISOLATED: dict[str, str] = {}


def _cleanup_isolated_home() -> None:
    home = _ISOLATED.get("HOME")
    if home:
        shutil.rmtree(home, ignore_errors=True)


def isolated_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a tshark that ignores the user's configuration.

    A private, empty home (created once per process, removed at exit) holds
    the personal configuration and plugin folders tshark looks at: HOME
    (the Lua plugins folder ~/.local/lib/wireshark/plugins),
    XDG_CONFIG_HOME and WIRESHARK_CONFIG_DIR (preferences, the older
    plugins folder).  Everything else (PATH, locale) is kept.
    """
    if not _ISOLATED:
        home = tempfile.mkdtemp(prefix="fmip-tshark-home-")
        config = os.path.join(home, ".config")
        os.makedirs(os.path.join(config, "wireshark"))
        _ISOLATED.update(HOME=home, XDG_CONFIG_HOME=config,
                         WIRESHARK_CONFIG_DIR=os.path.join(config, "wireshark"))
        atexit.register(_cleanup_isolated_home)
    env = dict(os.environ if base is None else base)
    env.update(_ISOLATED)
    return env


def stderr_lua_errors(stderr: str) -> list[str]:
    """Lines of tshark's standard error that report a Lua error."""
    lines = [line.strip() for line in stderr.splitlines()]
    found = []
    for i, line in enumerate(lines):
        if any(mark in line for mark in STDERR_LUA_MARKS):
            if line.endswith(":") and i + 1 < len(lines):
                line += " " + lines[i + 1]    # the message follows the mark
            found.append(line)
    return found


def check_stderr(stderr: str) -> None:
    """Raise LuaError when tshark's standard error shows a Lua error."""
    errors = stderr_lua_errors(stderr)
    if errors:
        raise LuaError("tshark reported a Lua error: " + " / ".join(errors[:4]))


# --- Command lines ---------------------------------------------------------------

def command(capture, *args: str, lua: bool = True, two_pass: bool = False,
            prefs: dict[str, str] | None = None,
            lua_path: str | os.PathLike | None = None) -> list[str]:
    """The tshark command line reading capture, with or without the plugin.

    Run it with env=isolated_env() (run() and the helpers below do).

    two_pass (-2) lets a request show fmip.response_in and a request never
    answered its finding: tshark prints each frame as it reads it, before
    the response has been seen.  (With -2 and no display filter tshark's
    first pass builds no protocol tree; the dissector then reads ICMP
    type 41 from the frame's octets, so every request is recorded on the
    first pass either way.)
    """
    cmd = [find_tshark(), "-n", "-r", str(capture)]
    if lua:
        cmd += ["-X", f"lua_script:{lua_path or dissector_path()}"]
    if two_pass:
        cmd.append("-2")
    for name, value in (prefs or {}).items():
        cmd += ["-o", f"{name}:{value}"]
    return cmd + list(args)


def run_command(cmd: list[str], timeout: float = 600,
                check: bool = True) -> subprocess.CompletedProcess:
    """Run a tshark command line in the isolated configuration.

    A Lua error on standard error raises LuaError; with check, a non-zero
    exit status raises InputError.
    """
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, env=isolated_env())
    check_stderr(proc.stderr)
    if check and proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        raise InputError(f"tshark failed ({proc.returncode}): "
                         f"{err[-1] if err else 'no message'}")
    return proc


def run(capture, *args: str, timeout: float = 600, **kw) -> str:
    """tshark's standard output; a failing tshark raises InputError."""
    return run_command(command(capture, *args, **kw), timeout).stdout


def fields(capture, names: list[str], *extra: str,
           **kw) -> list[dict[str, list[str]]]:
    """One dict per frame: field name -> list of occurrences (maybe empty);
    extra: more tshark options (a display filter, -V)."""
    args = [*extra, "-T", "fields", "-E", "header=n", "-E", "occurrence=a",
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


def handovers_table(capture, **kw) -> str:
    """`tshark -q -z fmip,handovers`: the handover table the plugin prints."""
    return run(capture, "-q", "-z", "fmip,handovers", **kw)


def lua_error_marks(text: str) -> list[str]:
    """Lines of tshark output that show a Lua error or a malformed packet."""
    return [line.strip() for line in text.splitlines()
            if any(mark in line for mark in LUA_ERROR_MARKS)]


# --- pyshark -----------------------------------------------------------------------

_LOAD_CHECKED: set[tuple[str, float]] = set()


def check_dissector_loads(lua_path: str | os.PathLike | None = None) -> None:
    """Load the dissector once in tshark (isolated) and raise LuaError on a
    Lua error: pyshark itself keeps tshark's standard error to itself."""
    path = Path(lua_path or dissector_path())
    key = (str(path.resolve()), path.stat().st_mtime)
    if key in _LOAD_CHECKED:
        return
    run_command([find_tshark(), "-G", "protocols", "-X",
                 f"lua_script:{path}"], check=True)
    _LOAD_CHECKED.add(key)


def _wrapper_dir() -> str:
    """A folder with a `tshark` that runs the real one isolated.

    pyshark starts tshark itself (and asks for its version first) and takes
    only a path to it, not an environment: the wrapper sets the isolated one.
    """
    env = isolated_env()
    folder = os.path.join(env["HOME"], "bin")
    wrapper = os.path.join(folder, "tshark")
    if not os.path.exists(wrapper):
        os.makedirs(folder, exist_ok=True)
        lines = ["#!/bin/sh"]
        for name in ("HOME", "XDG_CONFIG_HOME", "WIRESHARK_CONFIG_DIR"):
            lines.append(f"{name}='{env[name]}'; export {name}")
        lines.append(f"exec '{find_tshark()}' \"$@\"")
        tmp = wrapper + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o755)
        os.replace(tmp, wrapper)
    return wrapper


# Wireshark's Lua engine adds a hidden, empty item "_ws.lua.fake" where a
# Lua dissector is called (the frames on the plugin's table entries: ICMP
# and UDP 434), before the dissector's own layer; tshark's PDML wraps it in
# a "fake-field-wrapper" protocol, which pyshark turns into a "DATA" layer.
# pyshark_capture leaves these layers out.
LUA_FAKE_FIELD = "_ws.lua.fake"


def _is_lua_fake_layer(layer) -> bool:
    return (getattr(layer, "_layer_name", None) == "fake-field-wrapper"
            and set(getattr(layer, "_all_fields", {})) == {LUA_FAKE_FIELD})


# How long pyshark_capture waits for asyncio to take an exited tshark's
# status before pyshark's own clean-up runs.
EXIT_WAIT = 10.0


def _has_exited(pid: int) -> bool:
    """Whether child `pid` has exited, without reaping it (WNOWAIT)."""
    try:
        return os.waitid(os.P_PID, pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except (AttributeError, ChildProcessError):
        return False


def pyshark_capture(capture, lua: bool = True, **kw):
    """A pyshark FileCapture that loads the FMIPv4 dissector.

    tshark runs isolated from the user's configuration (see isolated_env);
    the dissector is loaded once beforehand, and a Lua error raises
    LuaError here instead of pyshark silently using another copy.  Lua
    errors tshark reports while pyshark reads are raised by close().
    Extra keyword arguments go to pyshark.FileCapture (display_filter,
    keep_packets, use_json, ...).  Close it with .close().
    """
    import asyncio

    import pyshark
    from pyshark.tshark.output_parser.tshark_xml import TsharkXmlParser

    class LayerFilteringXmlParser(TsharkXmlParser):
        def _parse_single_packet(self, packet):
            pkt = super()._parse_single_packet(packet)
            pkt.layers = [layer for layer in pkt.layers
                          if not _is_lua_fake_layer(layer)]
            return pkt

    class IsolatedFileCapture(pyshark.FileCapture):
        """FileCapture that keeps tshark's standard error and checks it,
        and leaves out the Lua engine's hidden marker layers."""

        def _setup_tshark_output_parser(self):
            parser = super()._setup_tshark_output_parser()
            if type(parser) is TsharkXmlParser:
                return LayerFilteringXmlParser(
                    parse_summaries=self._only_summaries)
            return parser

        stderr_lines: list[str]

        async def _handle_process_stderr_forever(self, stderr):
            while True:
                line = await stderr.readline()
                if not line:
                    break
                self.stderr_lines.append(line.decode(errors="replace"))

        async def _cleanup_subprocess(self, process):
            # pyshark kills a tshark whose exit asyncio has not yet been
            # told of; the kill polls first (Popen.send_signal) and so
            # reaps tshark behind asyncio's child watcher, which then
            # reports exit status 255 and pyshark a crash.  An exited
            # tshark is left to the watcher first.
            if process.returncode is None and _has_exited(process.pid):
                try:
                    await asyncio.wait_for(process.wait(), EXIT_WAIT)
                except asyncio.TimeoutError:
                    pass
            await super()._cleanup_subprocess(process)

        async def close_async(self):
            await super().close_async()
            check_stderr("".join(self.stderr_lines))

    params = list(kw.pop("custom_parameters", []) or [])
    if lua:
        lua_path = kw.pop("lua_path", None) or dissector_path()
        check_dissector_loads(lua_path)
        params += ["-X", f"lua_script:{lua_path}"]
    cap = IsolatedFileCapture(str(capture), custom_parameters=params,
                              tshark_path=_wrapper_dir(), **kw)
    cap.stderr_lines = []
    return cap
