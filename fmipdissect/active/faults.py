"""Faults the emulators can inject (`fmipdissect emulate --fault NAME`).

One table: each fault has a name, what it does, and per role the rules of
the checker (by slug, see docs/rules.md) that the packets it spoils break.
A fault applies to every reply or request of that role; a role a fault does
not list refuses it.  The probe cases that catch a fault name it themselves
(fmipdissect/active/cases.py), so `--fault help` derives that column.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..spec.rules import RULES_BY_NAME


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    roles: dict          # role -> slugs of the rules the fault breaks
    value: str | None = None    # for delay=MS: the value's meaning

    def rule_ids(self, role: str) -> tuple[str, ...]:
        return tuple(RULES_BY_NAME[s].id for s in self.roles.get(role, ()))


FAULTS: tuple[Fault, ...] = (
    Fault("wrong-identifier",
          "replies carry an identifier one off the request's (RFC 4988 5.2, "
          "5.4, 5.6: copied)",
          {"par": ("fback-identification-mismatch", "prrtadv-without-rtsolpr"),
           "nar": ("hack-without-hi",)}),
    Fault("missing-option",
          "a required option is left out: NAR's IP address in PrRtAdv, the "
          "PCoA in HI, the NCoA in FBAck Code 1 and in HAck; New AP LLA in "
          "RtSolPr (RFC 4988 5.2-5.6)",
          {"par": ("prrtadv-required-option-missing",
                   "hi-required-option-missing", "fback-ncoa-option-missing"),
           "nar": ("hack-ncoa-option-missing",),
           "mn": ("rtsolpr-new-ap-lla-missing",)}),
    Fault("bad-checksum",
          "ICMP messages go out with a wrong checksum (RFC 4988 5.3-5.6, "
          "decision D2)",
          {"par": ("icmp-checksum-bad",), "nar": ("icmp-checksum-bad",),
           "mn": ("icmp-checksum-bad",)}),
    Fault("bad-auth",
          "FBU / FBAck carry a wrong MN-PAR authenticator (RFC 4988 5.1, "
          "5.2, 7; decision D5)",
          {"par": ("auth-authenticator-bad",), "mn": ("auth-authenticator-bad",)}),
    Fault("no-auth",
          "FBU / FBAck carry no MN-PAR Authentication Extension (RFC 4988 "
          "5.1, 5.2)",
          {"par": ("auth-extension-missing",), "mn": ("auth-extension-missing",)}),
    Fault("long-lifetime",
          "Lifetime over 10 s: the MN asks for 11 s (RFC 4988 5.1), PAR "
          "grants 30 s, more than asked (RFC 4988 5.2)",
          {"par": ("fback-lifetime-exceeds-request",),
           "mn": ("fbu-lifetime-over-limit",)}),
    Fault("reject",
          "every handover is refused: FBAck / HAck Code 128 (no rule is "
          "broken; the handover fails)",
          {"par": (), "nar": ()}),
    Fault("no-reply",
          "nothing is sent: no PrRtAdv, HI, FBAck, HAck, no forwarded FBU "
          "(RFC 4988 5.2, 5.4, 5.6)",
          {"par": (), "nar": ()}),
    Fault("delay",
          "every packet goes out MS milliseconds late",
          {"par": (), "nar": (), "mn": ()}, value="MS"),
)

FAULTS_BY_NAME = {f.name: f for f in FAULTS}


@dataclass(frozen=True)
class Injected:
    """The faults one emulator runs with."""
    names: frozenset = frozenset()
    delay_ms: int = 0

    def __contains__(self, name: str) -> bool:
        return name in self.names


def parse_faults(texts: list[str], role: str) -> Injected:
    """--fault NAME (repeatable) for role; InputError (one line) for an
    unknown fault or one the role does not have."""
    names, delay = set(), 0
    for text in texts or ():
        name, _, value = text.partition("=")
        fault = FAULTS_BY_NAME.get(name)
        if fault is None:
            raise InputError(f"unknown fault {text!r} (see --fault help)")
        if role not in fault.roles:
            raise InputError(f"fault {name} does not apply to {role} (it "
                             f"applies to {', '.join(fault.roles)})")
        if fault.value:
            try:
                delay = int(value)
                if delay < 0:
                    raise ValueError
            except ValueError:
                raise InputError(f"fault {name} needs a value: "
                                 f"{name}={fault.value}, {fault.value} a "
                                 f"whole number of milliseconds") from None
        elif value:
            raise InputError(f"fault {name} takes no value")
        names.add(name)
    return Injected(frozenset(names), delay)


def fault_help(catching: dict | None = None) -> str:
    """The table `--fault help` prints: fault, roles, rules it breaks and
    (when given: fault -> case ids) the probe cases that catch it."""
    lines = ["Faults (--fault NAME, repeatable; each spoils every reply or "
             "request of the role):", ""]
    for f in FAULTS:
        name = f"{f.name}={f.value}" if f.value else f.name
        lines.append(f"  {name}")
        lines.append(f"      {f.summary}")
        for role, slugs in f.roles.items():
            rules = ", ".join(f"{RULES_BY_NAME[s].id} {s}" for s in slugs)
            lines.append(f"      {role}: {rules or 'no rule (the exchange fails)'}")
        if catching is not None and catching.get(f.name):
            lines.append(f"      caught by: {', '.join(catching[f.name])}")
    return "\n".join(lines) + "\n"
