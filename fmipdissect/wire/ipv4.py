"""IPv4 addresses as text.

inet_ntoa(packed) is socket.inet_ntoa for the 4-octet addresses the
capture reader and the decoder read (every message has two to five):
written in Python from a table of the 256 octet texts, because _socket's
goes through the C library's snprintf, about twice the machine
instructions (perf: docs/performance.md); and no _socket import at
start-up.  Another length is a ValueError (socket.inet_ntoa: OSError);
the project's callers pass 4 octets by construction.
"""

_OCTETS = tuple(map(str, range(256)))


def inet_ntoa(packed) -> str:
    """The dotted quad of 4 octets (bytes or any buffer of them)."""
    a, b, c, d = packed
    return f"{_OCTETS[a]}.{_OCTETS[b]}.{_OCTETS[c]}.{_OCTETS[d]}"


__all__ = ["inet_ntoa"]
