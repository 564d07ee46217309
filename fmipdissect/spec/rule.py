"""What a rule of the registry (rules.py) is: its fields, severities and
the Wireshark expert groups its findings go to."""

from __future__ import annotations

from ..plain import Frozen

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)

# Wireshark's expert groups (PI_MALFORMED ...), as the dissector names them.
MALFORMED, CHECKSUM, PROTOCOL, SEQUENCE = \
    "malformed", "checksum", "protocol", "sequence"


class Rule(Frozen):
    """One rule.  Besides what docs/rules.md shows, a row holds what a
    finding of it says and how it behaves:

      message        the finding's words: a template of {name}s only,
                     filled with text by say() (numbers in decimal,
                     Identification as 0x + 16 hex digits, addresses
                     dotted).  fmip-lint and the Lua dissector
                     (wireshark/luagen.py exports the templates) fill the
                     same one, so both say the same words.
      variants       instead of message, for a rule said in several ways:
                     ((variant, template), ...); say(rule, variant=...).
      stops_parsing  the decoder stops reading the message's options or
                     extensions here: what follows is not decoded, so the
                     checks of what is "missing" are skipped.
      group          the Wireshark expert group of its expert info
                     (default: sequence for session rules, else protocol).
      wireshark      whether the Lua dissector reports it too (default:
                     the per-message rules).
    """
    id: str
    name: str
    severity: str
    section: str
    summary: str
    why: str
    scope: str = "message"   # "message", "session" or "capture"
    message: str | None = None
    variants: tuple[tuple[str, str], ...] = ()
    stops_parsing: bool = False
    group: str | None = None
    wireshark: bool | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if (self.message is None) == (not self.variants):
            raise TypeError(f"{self.id}: a message or variants, not both "
                            f"nor neither")
        if self.group is None:
            self.__dict__["group"] = (SEQUENCE if self.scope == "session"
                                      else PROTOCOL)
        if self.wireshark is None:
            self.__dict__["wireshark"] = self.scope == "message"

    def templates(self) -> tuple[tuple[str | None, str], ...]:
        """(variant, template) of every way the rule is said; variant None
        for the one message."""
        return ((None, self.message),) if self.message is not None \
            else self.variants
