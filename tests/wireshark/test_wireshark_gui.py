"""Statistics > FMIPv4 Handovers in the real Wireshark Qt GUI, under Xvfb.

Wireshark 4.0's Qt GUI shows the Lua menu entries of MENU_STAT_UNSORTED
and drops those of MENU_STAT_GENERIC, which `tshark -z` cannot tell.  The
test starts Wireshark (isolated from the user's configuration) on a
private X display, walks the Statistics menu with the keyboard (Alt+S,
Down n times, Return) until an entry opens the window "FMIPv4 Handovers",
and reads that window's text through the clipboard.  Xvfb, xdotool and
xclip are Debian packages (scripts/setup.sh installs them); without CI=true
a missing one skips the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from wireshark_common import require_tool

from fmipdissect.wireshark import tshark as T

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "reactive.pcap"
WINDOW = "FMIPv4 Handovers"
MENU_ITEMS = 40        # more than the Statistics menu's top-level entries


def _stop(proc: subprocess.Popen) -> None:
    """End a process this test started (by its pid) and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _xdotool(env, *args, check=False) -> str:
    done = subprocess.run(["xdotool", *args], env=env, capture_output=True,
                          text=True, timeout=30)
    if check:
        assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _windows(env, name: str) -> list[str]:
    return _xdotool(env, "search", "--onlyvisible", "--name", name).split()


def _wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    return None


@pytest.fixture
def display(tmp_path):
    """A private X display (Xvfb picks a free number: -displayfd)."""
    require_tool("Xvfb")
    require_tool("xdotool")
    require_tool("xclip")
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen",
                             "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        number = b""
        while not number.endswith(b"\n"):
            chunk = os.read(read, 16)
            assert chunk, "Xvfb did not start"
            number += chunk
        os.close(read)
        env = T.isolated_env()
        env.update(DISPLAY=f":{number.decode().strip()}",
                   XDG_RUNTIME_DIR=str(tmp_path), QT_QPA_PLATFORM="xcb")
        yield env
    finally:
        _stop(xvfb)


@pytest.fixture
def wireshark(display):
    require_tool("wireshark")
    proc = subprocess.Popen(["wireshark", "-X",
                             f"lua_script:{T.dissector_path()}", "-r",
                             str(SAMPLE)], env=display,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        main = _wait_for(lambda: _windows(display, SAMPLE.name), 90)
        assert main, "Wireshark's main window did not appear"
        time.sleep(2)          # the packet list is loaded
        yield display, main[0]
    finally:
        _stop(proc)


def _open_statistics_entry(env, main: str, downs: int) -> None:
    _xdotool(env, "windowfocus", "--sync", main)
    _xdotool(env, "key", "--clearmodifiers", "alt+s", check=True)
    time.sleep(0.5)
    for _ in range(downs):
        _xdotool(env, "key", "Down")
    _xdotool(env, "key", "Return")


def _window_text(env, window: str) -> str:
    """The text of a Lua TextWindow: select all, copy, read the clipboard."""
    _xdotool(env, "windowfocus", "--sync", window)
    # the text area has the focus first; Ctrl+A, Ctrl+C copy its text
    _xdotool(env, "key", "ctrl+a")
    _xdotool(env, "key", "ctrl+c")
    time.sleep(0.5)
    done = subprocess.run(["xclip", "-o", "-selection", "clipboard"],
                          env=env, capture_output=True, text=True, timeout=30)
    return done.stdout


def test_statistics_menu_opens_the_handover_table(wireshark):
    env, main = wireshark
    window = None
    for downs in range(MENU_ITEMS):
        _open_statistics_entry(env, main, downs)
        window = _wait_for(lambda: _windows(env, WINDOW), 2.5)
        if window:
            break
        # another entry: close whatever it opened (a dialog, a submenu)
        for _ in range(3):
            _xdotool(env, "key", "Escape")
            time.sleep(0.2)
    assert window, "Statistics has no entry opening 'FMIPv4 Handovers'"
    text = _wait_for(lambda: _window_text(env, window[0]).strip() or None,
                     15)
    assert text, "the FMIPv4 Handovers window shows no text"
    assert text.strip() == T.handovers_table(SAMPLE).strip()
    assert "1 handover: 1 completed" in text
