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


@pytest.mark.parametrize("spi", ["1_0", "0x_1", "0x1_0", "\u0661\u0662",
                                 "\uff11", "+1", "-1", " 1".strip() + "\u00b2",
                                 "0x", "0b101", "1e3", "0x123456789"])
def test_spi_only_ascii_decimal_or_hex(spi):
    """Python's int() would take `1_0` and other scripts' digits: not here."""
    with pytest.raises(InputError, match="bad SPI"):
        parse_keys([f"{spi} 0011"], "k.txt")


def test_spi_forms_accepted():
    keys = parse_keys(["0 00", "0X1f 01", "0xFFFFFFFF 02", "007 03"])
    assert set(keys) == {0, 0x1F, 0xFFFFFFFF, 7}


def test_key_file_size_limit(tmp_path):
    from fmipdissect.lint.keys import MAX_KEY_FILE
    big = tmp_path / "big.txt"
    line = f"1 {'00' * 16}\n"
    big.write_text("# padding\n" * (MAX_KEY_FILE // 10) + line)
    with pytest.raises(InputError, match="larger than 1,048,576 octets"):
        load_keys(str(big))
    ok = tmp_path / "ok.txt"
    ok.write_text("# padding\n" * 1000 + line)
    assert 1 in load_keys(str(ok))


def test_dev_zero_fails_fast():
    """An endless key file is refused after MAX_KEY_FILE octets, at once."""
    import time
    start = time.monotonic()
    with pytest.raises(InputError, match="larger than"):
        load_keys("/dev/zero")
    assert time.monotonic() - start < 5


def test_nul_octets_are_not_text(tmp_path):
    p = tmp_path / "nul.txt"
    p.write_bytes(b"1 0011\n\0\0\0\n")
    with pytest.raises(InputError, match="not a text key file"):
        load_keys(str(p))


def test_line_numbers_count_newlines_only(tmp_path):
    """A form feed is not a line break: FILE:LINE is what an editor shows."""
    p = tmp_path / "k.txt"
    p.write_text("1 00\f\n2 0g\n")
    with pytest.raises(InputError, match=r"k.txt:2: bad key"):
        load_keys(str(p))


def test_key_file_name_with_a_newline_is_one_line(tmp_path):
    p = tmp_path / "a\nb.txt"
    p.write_text("x 00\n")
    with pytest.raises(InputError) as exc:
        load_keys(str(p))
    assert "\n" not in str(exc.value) and "a\\nb.txt:1: bad SPI" in str(exc.value)
