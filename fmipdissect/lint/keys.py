"""MN-PAR key files for `fmip-lint --keys FILE` (README, "Checking a capture").

One key a line:

    SPI HEXKEY [hmac-md5|hmac-sha1|hmac-sha256]

SPI decimal or 0x-hex in ASCII digits (32 bits, RFC 4721 5; not Python's
`1_0` or other scripts' digits), HEXKEY the shared secret in hex (an optional
0x prefix is accepted), the algorithm HMAC-MD5 unless named (decision D5).
`#` starts a comment; blank lines are ignored.  A key file is small: one
larger than MAX_KEY_FILE octets is refused before it is read whole (so
`--keys /dev/zero` ends at once).  Any mistake is an InputError naming
FILE:LINE, so the command ends with one line and exit status 2 instead of
checking authenticators against a key it misread.
"""

from __future__ import annotations

import re

from ..spec import protocol as P
from ..errors import InputError
from ..plain import Frozen

MAX_KEY_FILE = 1 << 20          # octets; thousands of keys fit in far less
_SPI = re.compile(r"0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10}")   # ASCII only


class Key(Frozen):
    spi: int
    secret: bytes
    algorithm: str


def parse_spi(text: str) -> int:
    """SPI in decimal or 0x-hex; ValueError when it is not a 32-bit number."""
    if not _SPI.fullmatch(text):
        raise ValueError("not a decimal or 0x-hex number")
    value = int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError("SPI out of the 32-bit range")
    return value


def parse_keys(lines, filename: str = "<keys>") -> dict[int, Key]:
    """SPI -> Key from the lines of a key file."""
    keys: dict[int, Key] = {}
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        where = f"{filename}:{number}"
        words = text.split()
        if len(words) not in (2, 3):
            raise InputError(f"{where}: expected 'SPI HEXKEY [ALGORITHM]', "
                             f"got {len(words)} words")
        try:
            spi = parse_spi(words[0])
        except ValueError:
            raise InputError(f"{where}: bad SPI {words[0]!r} (decimal or "
                             f"0x-hex, 32 bits)") from None
        hexkey = words[1][2:] if words[1][:2].lower() == "0x" else words[1]
        try:
            secret = bytes.fromhex(hexkey)
        except ValueError:
            secret = b""
        if not secret:
            raise InputError(f"{where}: bad key {words[1]!r} (an even number "
                             f"of hex digits)")
        algorithm = (words[2].lower() if len(words) == 3
                     else P.DEFAULT_AUTH_ALGORITHM)
        if algorithm not in P.AUTH_ALGORITHMS:
            raise InputError(f"{where}: unknown algorithm {words[2]!r} "
                             f"(one of {', '.join(P.AUTH_ALGORITHMS)})")
        if spi in keys:
            raise InputError(f"{where}: SPI {spi} ({spi:#x}) given twice")
        keys[spi] = Key(spi, secret, algorithm)
    return keys


def load_keys(path: str) -> dict[int, Key]:
    """Read a key file; InputError (one line) for anything wrong with it."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InputError(f"cannot read key file {path}: "
                         f"{exc.strerror or exc}") from None
    if len(data) > MAX_KEY_FILE:
        raise InputError(f"key file {path}: larger than {MAX_KEY_FILE:,} "
                         f"octets; not a key file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text key file") from None
    if "\0" in text:
        raise InputError(f"{path}: not a text key file (NUL octets)")
    return parse_keys(text.split("\n"), path)   # not splitlines: \f, \x1c...
