"""Faults the emulators can inject (`fmipdissect emulate --fault NAME`).

One table: each fault has a name, what it does, and per role the rules of
the checker (docs/rules.md) that the packets it spoils break.
A fault applies to every reply or request of that role; a role a fault does
not list refuses it.  The probe cases that catch a fault name it themselves
(fmipdissect/active/cases.py), so `--fault help` derives that column.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from ..errors import InputError
from ..spec import rules as R


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    roles: dict          # role -> ids of the rules the fault breaks
    value: str | None = None    # for delay=MS: the value's meaning

    def rule_ids(self, role: str) -> tuple[str, ...]:
        return tuple(self.roles.get(role, ()))


FAULTS: tuple[Fault, ...] = (
    Fault("wrong-identifier",
          "replies carry an identifier one off the request's (RFC 4988 5.2, "
          "5.4, 5.6: copied)",
          {"par": (R.FBACK_IDENTIFICATION_MISMATCH,
                   R.PRRTADV_IDENTIFIER_MISMATCH),
           "nar": (R.HACK_IDENTIFIER_MISMATCH,)}),
    Fault("missing-option",
          "a required option is left out: NAR's IP address in PrRtAdv, the "
          "PCoA in HI, the NCoA in FBAck Code 1 and in HAck; New AP LLA in "
          "RtSolPr (RFC 4988 5.2-5.6)",
          {"par": (R.PRRTADV_REQUIRED_OPTION_MISSING,
                   R.HI_REQUIRED_OPTION_MISSING, R.FBACK_NCOA_OPTION_MISSING),
           "nar": (R.HACK_NCOA_OPTION_MISSING,),
           "mn": (R.RTSOLPR_NEW_AP_LLA_MISSING,)}),
    Fault("bad-checksum",
          "ICMP messages go out with a wrong checksum (RFC 4988 5.3-5.6, "
          "decision D2)",
          {"par": (R.ICMP_CHECKSUM_BAD,), "nar": (R.ICMP_CHECKSUM_BAD,),
           "mn": (R.ICMP_CHECKSUM_BAD,)}),
    Fault("bad-auth",
          "FBU / FBAck carry a wrong MN-PAR authenticator (RFC 4988 5.1, "
          "5.2, 7; decision D5)",
          {"par": (R.AUTH_AUTHENTICATOR_BAD,),
           "mn": (R.AUTH_AUTHENTICATOR_BAD,)}),
    Fault("no-auth",
          "FBU / FBAck carry no MN-PAR Authentication Extension (RFC 4988 "
          "5.1, 5.2)",
          {"par": (R.AUTH_EXTENSION_MISSING,),
           "mn": (R.AUTH_EXTENSION_MISSING,)}),
    Fault("long-lifetime",
          "Lifetime over 10 s: the MN asks for 11 s (RFC 4988 5.1), PAR "
          "grants 30 s, more than asked (RFC 4988 5.2)",
          {"par": (R.FBACK_LIFETIME_EXCEEDS_REQUEST,),
           "mn": (R.FBU_LIFETIME_OVER_LIMIT,)}),
    Fault("reject",
          "every handover is refused: FBAck / HAck Code 128 (no rule is "
          "broken; the handover fails)",
          {"par": (), "nar": ()}),
    Fault("no-reply",
          "nothing is sent: no PrRtAdv, HI, FBAck, HAck, no forwarded FBU "
          "(RFC 4988 5.2, 5.4, 5.6)",
          {"par": (), "nar": ()}),
    Fault("delay",
          "every packet goes out MS milliseconds late (to the prober, a "
          "delay over its --timeout is no reply)",
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
        lines.append(textwrap.fill(f.summary, 78, initial_indent=" " * 6,
                                   subsequent_indent=" " * 6))
        for role, ids in f.roles.items():
            rules = ", ".join(f"{i} {R.RULES_BY_ID[i].name}" for i in ids)
            rules = rules or "no rule (the exchange fails)"
            lines.append(f"      {role}: {rules}")
        if catching is not None and catching.get(f.name):
            lines.append(textwrap.fill(
                "caught by: " + ", ".join(catching[f.name]), 78,
                initial_indent=" " * 6, subsequent_indent=" " * 17))
    return "\n".join(lines) + "\n"
