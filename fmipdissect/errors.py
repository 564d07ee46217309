"""Errors that end a command with one line on standard error and status 2."""

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """`text` with every control or line-separator character escaped, so a
    file name holding a newline cannot split a one-line message.

    Printable text (any script) is kept; a name that was not valid UTF-8
    (os.fsdecode's surrogates) shows its octets as \\xNN.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:       # surrogateescape'd octet
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


class InputError(Exception):
    """Bad input: not a capture, unreadable, nonexistent, bad option value.

    The message is one line, written for the user; the command exits 2.
    Whatever the message quotes (a file name with a newline) is escaped.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())
