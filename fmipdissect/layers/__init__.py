"""Scapy layers for Mobile IPv4 Fast Handovers (RFC 4988).

Every class is derived from :mod:`fmipdissect.spec.protocol`: field names,
offsets, sizes, defaults and code tables come from there; this package only
chooses the Scapy field type for each kind of field (fields.py), and defines
the options and extensions (options.py) and the messages with their hooks
into Scapy (messages.py).

Messages
    ``FBU``, ``FBAck``            Mobile IPv4 messages on UDP port 434
                                  (RFC 4988 5.1, 5.2), Type field included.
    ``RtSolPr``, ``PrRtAdv``,     ICMP type 41 messages (RFC 4988 5.3-5.6,
    ``HI``, ``HAck``              RFC 4065), directly on IP.
Options and extensions
    ``LLAOption``, ``IPv4AddrOption``, ``PrefixOption``
                                  ICMP options (RFC 4988 6)
    ``FMIPOption``                any other ICMP option (type, len, data)
    ``MNPARAuth``                 MN-PAR Authentication Extension (RFC 4721 5)
    ``MIPExtension``              any other short-format Mobile IPv4 extension

Stacking (options and extensions chain as payloads, as Scapy's ICMPv6 ND
options do)::

    >>> from scapy.layers.inet import IP, UDP
    >>> from fmipdissect.layers import *
    >>> fbu = (IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
    ...        / FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1", coa="10.1.0.1",
    ...              ident=0x1122334455667788)
    ...        / MNPARAuth(spi=256, key=b"secret"))
    >>> fback = (IP() / UDP(sport=434, dport=434)
    ...          / FBAck(code=1, homeaddr="10.0.0.5", ident=0x1122334455667788)
    ...          / IPv4AddrOption(code=2, addr="10.1.0.77")    # decision D4
    ...          / MNPARAuth(spi=256, key=b"secret"))
    >>> hi = (IP(src="10.0.0.1", dst="10.1.0.1")               # proto=1 is set
    ...       / HI(code=0, S=1, identifier=7)
    ...       / LLAOption(code=2, lla="00:11:22:33:44:55")
    ...       / IPv4AddrOption(code=1, addr="10.0.0.5"))
    >>> IP(bytes(hi)).summary()    # dissecting gives the same layers back
    'IP / HI FBU received from the PCoA (predictive) id=7 / LLA Link-Layer Address of the MN 00:11:22:33:44:55 / IPv4Addr Previous CoA 10.0.0.5'
    >>> got = IP(bytes(fback))
    >>> got[IPv4AddrOption].addr, got[MNPARAuth].len, got[FBAck].code
    ('10.1.0.77', 20, 1)

Building fills what is left as ``None``: option and extension lengths, LLA
padding (decision D3: Pad1 when one octet is left, else one PadN), the ICMP
checksum (decision D2: over the whole ICMP message, options included, with the
Reserved bits zeroed) and the MN-PAR authenticator.  ``MNPARAuth`` takes two
constructor arguments that are not on the wire: ``key`` (bytes) and
``algorithm`` ("hmac-md5" by default, or "hmac-sha1"/"hmac-sha256").  With a
key and ``authenticator=None`` the authenticator is computed (decision D5) over
the UDP payload from the FBU/FBAck Type field through this extension's SPI,
all preceding extensions included; standalone (no FBU/FBAck below it) it
covers only its own Type..SPI.  Without a key, ``authenticator=None`` builds
16 zero octets.  Explicit values are always kept, so broken packets can be
built on purpose (wrong lengths, bad padding, bad checksums).

Dissection: importing this module hooks into Scapy's own bindings.  UDP port
434 (either port) with Mobile IPv4 type 20/21 becomes ``FBU``/``FBAck``; all
other Mobile IPv4 types stay Scapy's ``MobileIP`` (RRQ, RRP, tunnel data).  IP
protocol 1 with ICMP type 41 and subtype 6-9 becomes ours; every other ICMP
message stays Scapy's ``ICMP``.  The LLA option's address length is the
module setting ``LLA_LENGTH`` (decision D3), changed with ``set_lla_length(n)``.
Malformed input never raises: a truncated layer keeps its complete fields
(the others are None), a fixed option whose Length claims more than 8 octets
shows the surplus as ``extra``, an option with Length 0 ends the chain, and
what cannot be decoded stays ``Raw``.  A dissected packet always rebuilds to
the octets it came from.
"""

from __future__ import annotations

import sys

from . import settings
from .fields import LLAField
from .messages import FBU, HI, FBAck, HAck, PrRtAdv, RtSolPr
from .options import (FMIPOption, IPv4AddrOption, LLAOption, MIPExtension,
                      MNPARAuth, PrefixOption, build_padding, padding_is_valid)
from .settings import set_lla_length

__all__ = [
    "FBU", "FBAck", "RtSolPr", "PrRtAdv", "HI", "HAck",
    "LLAOption", "IPv4AddrOption", "PrefixOption", "FMIPOption",
    "MNPARAuth", "MIPExtension", "LLA_LENGTH", "set_lla_length",
]


def __getattr__(name: str):
    if name == "LLA_LENGTH":        # the current setting, not a copy
        return settings.LLA_LENGTH
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Layers(type(sys)):
    """The type of this module: assigning LLA_LENGTH here sets the one
    setting (settings.py), checked as set_lla_length checks it."""

    def __setattr__(self, name: str, value) -> None:
        if name == "LLA_LENGTH":
            set_lla_length(value)
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Layers
