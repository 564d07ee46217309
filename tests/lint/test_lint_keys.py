"""Key files for --keys (README): format and one-line errors."""

import pytest

from fmipdissect.errors import InputError
from fmipdissect.lint.keys import load_keys, parse_keys


def test_formats():
    keys = parse_keys([
        "# SPI  key  algorithm",
        "256 00112233445566778899aabbccddeeff",
        "0x101 0xdeadbeef hmac-sha1   # trailing comment",
        "",
        "  4294967295 AABB HMAC-SHA256",
    ])
    assert keys[256].secret == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert keys[256].algorithm == "hmac-md5"          # decision D5 default
    assert (keys[0x101].secret, keys[0x101].algorithm) == (
        b"\xde\xad\xbe\xef", "hmac-sha1")
    assert keys[0xFFFFFFFF].algorithm == "hmac-sha256"


@pytest.mark.parametrize("line, words", [
    ("256", "expected"),
    ("256 0011 hmac-md5 extra", "expected"),
    ("x12 0011", "bad SPI"),
    ("4294967296 0011", "bad SPI"),
    ("256 0g11", "bad key"),
    ("256 001", "bad key"),
    ("256 0011 hmac-md4", "unknown algorithm"),
])
def test_errors_name_file_and_line(line, words):
    with pytest.raises(InputError) as exc:
        parse_keys(["# ok", "1 00", line], "k.txt")
    assert str(exc.value).startswith("k.txt:3: ") and words in str(exc.value)
    assert "\n" not in str(exc.value)


def test_duplicate_spi():
    with pytest.raises(InputError, match="k.txt:2: SPI 1 "):
        parse_keys(["1 00", "0x1 11"], "k.txt")


def test_load_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read key file"):
        load_keys(str(tmp_path / "missing"))
    with pytest.raises(InputError, match="cannot read key file"):
        load_keys(str(tmp_path))
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError, match="not a text key file"):
        load_keys(str(binary))
