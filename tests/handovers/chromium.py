"""Headless Chromium for the HTML report tests (Debian package `chromium`).

Each run gets a profile directory of its own (never the user's), and
--enable-logging=stderr --v=0 makes Chromium write every console message
of the page to standard error as a line with ":CONSOLE" in it.  Under
CI=true a missing Chromium fails the tests instead of skipping them."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def need_chromium():
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    pytest.skip("chromium is not installed (scripts/setup.sh installs it)")


def run(page, tmp_path, *args) -> subprocess.CompletedProcess:
    """Chromium headless on a file; returns the finished process."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [need_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
           "--no-first-run", "--disable-extensions", "--hide-scrollbars",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           *args, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def dump_dom(page, tmp_path):
    """(DOM as serialised after loading, console messages)."""
    proc = run(page, tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, console_messages(proc.stderr)


def screenshot(page, tmp_path, width=900, height=1400):
    """Pixels of a screenshot: (width, height, rows of RGB(A) tuples)."""
    png = tmp_path / (page.stem + ".png")
    proc = run(page, tmp_path, f"--screenshot={png}",
               f"--window-size={width},{height}")
    assert png.exists(), proc.stderr[-2000:]
    return png, decode_png(png.read_bytes())


def decode_png(data: bytes):
    """A minimal PNG decoder: 8-bit RGB or RGBA, not interlaced (what
    Chromium writes).  Returns (width, height, rows of pixel tuples)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(
                ">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and not interlace
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows
