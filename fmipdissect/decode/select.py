"""What `fmipdissect decode` shows: --frame, --type and --mn filters, and
the authenticator verdicts of --keys (decision D5).

  --frame 3,10-12   frame numbers and ranges (1-based, as Wireshark's)
  --type fbu,HAck   message keys or abbreviations, any case
  --mn 10.1.0.5     messages from or to the address, or carrying it as
                    Home Address, Care-of Address or in an option (the
                    NCoA of a HAck or FBAck, the PCoA of an HI)

A note about the capture (truncated file, fragments) passes --frame only.
"""

from __future__ import annotations

from ..errors import InputError
from ..spec import protocol as P
from ..wire.checksum import authenticator_matches, mn_par_authenticator


def parse_frames(groups) -> list:
    """[(first, last)] of "3,10-12" groups; InputError on anything else."""
    ranges = []
    for word in (w.strip() for g in groups for w in g.split(",")):
        first, _, last = word.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise InputError(f"--frame {word!r}: give frame numbers or "
                             f"ranges, e.g. 3,10-12") from None
        if not 1 <= low <= high:
            raise InputError(f"--frame {word!r}: frames are numbered from 1, "
                             f"a range low-high")
        ranges.append((low, high))
    return ranges


def parse_types(groups) -> set:
    """Message keys of "fbu,HAck" groups."""
    by_word = {}
    for spec in P.MESSAGES:
        by_word[spec.key.lower()] = by_word[spec.abbrev.lower()] = spec.key
    keys = set()
    for word in (w.strip() for g in groups for w in g.split(",")):
        if word.lower() not in by_word:
            from ..suggest import did_you_mean
            raise InputError(f"--type {word!r}: not an FMIPv4 message "
                             f"(one of {', '.join(s.abbrev for s in P.MESSAGES)}"
                             f"){did_you_mean(word.lower(), by_word)}")
        keys.add(by_word[word.lower()])
    return keys


class MessageFilter:
    """The --frame, --type and --mn choices of one decode run."""

    def __init__(self, frames=None, types=None, mn=None):
        self.frames = parse_frames(frames) if frames else None
        self.types = parse_types(types) if types else None
        self.mn = mn

    def frame(self, frame: int) -> bool:
        return self.frames is None or any(low <= frame <= high
                                          for low, high in self.frames)

    def message(self, item, msg) -> bool:
        if not self.frame(item.frame):
            return False
        if self.types is not None and msg.key not in self.types:
            return False
        return self.mn is None or self.mn in _addresses(item, msg)


def _addresses(item, msg) -> set:
    found = {item.src, item.dst, msg.homeaddr, msg.coa}
    found.update(e.addr for e in msg.elements if e.addr is not None)
    return found


def authenticators(msg, keys) -> list:
    """[(spi, verdict, algorithm)] of the MN-PAR authentication extensions:
    verdict "ok", "bad" or "no key" (decision D5)."""
    verdicts = []
    for e in msg.elements:
        if (e.kind != "auth" or e.code != P.AUTH_SUBTYPE_MN_PAR
                or e.spi is None or e.authenticator is None):
            continue
        key = keys.get(e.spi)
        if key is None:
            verdicts.append((e.spi, "no key", None))
            continue
        covered = msg.raw[:e.offset + P.AUTH_HEADER_LEN]
        expected = mn_par_authenticator(covered, key.secret, key.algorithm)
        verdict = ("ok" if authenticator_matches(e.authenticator, expected)
                   else "bad")
        verdicts.append((e.spi, verdict, key.algorithm))
    return verdicts
