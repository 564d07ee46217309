"""IPv4 addresses as text.

inet_ntoa(packed) is socket.inet_ntoa for the 4-octet addresses the
capture reader and the decoder read (every message has two to five):
written in Python from a table of the 256 octet texts, because _socket's
goes through the C library's snprintf, about twice the machine
instructions; and no _socket import at start-up.  The texts of the last
NAMES_KEPT addresses are kept: a capture's FMIPv4 messages come from few
addresses, and the same str object again also keeps its hash for the
dict look-ups downstream (perf: docs/performance.md).  Another length is
a ValueError (socket.inet_ntoa: OSError); the project's callers pass 4
octets by construction.
"""

_OCTETS = tuple(map(str, range(256)))
NAMES_KEPT = 4096
_names: dict[bytes, str] = {}


def inet_ntoa(packed) -> str:
    """The dotted quad of 4 octets (bytes or any buffer of them)."""
    name = _names.get(packed) if packed.__class__ is bytes else None
    if name is None:
        a, b, c, d = packed
        name = f"{_OCTETS[a]}.{_OCTETS[b]}.{_OCTETS[c]}.{_OCTETS[d]}"
        if packed.__class__ is bytes:
            if len(_names) >= NAMES_KEPT:
                _names.clear()
            _names[packed] = name
    return name


# known(packed): the text of 4 octets (bytes) seen recently, else None: the
# look-up inet_ntoa starts with, for callers that inline it (the decoder's
# generated builders: no Python call for an address seen before)
known = _names.get

__all__ = ["inet_ntoa", "known"]
