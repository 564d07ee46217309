"""Stream one capture through reader -> decoder -> checks -> correlator.

CaptureLint(path, config) is iterated for its Findings, in the order the
frames that reveal them come: per-message findings at their frame, and the
correlator's findings (lint/session.py) when a message reveals them.  A
finding about a request (never answered) is reported on the request's own
frame and time, when expiry, a cap or the end of the capture reveals it.
The reader's notes keep the reader's frame: a fragment-not-reassembled note
for a fragment set the reader gives up on later (timeout, table full, end
of capture) names the frame of its last fragment, so it may follow findings
of later frames.  Nothing but the correlator's bounded state is kept: the
capture is never in memory.  Non-FMIPv4 packets never get here (the
reader's prefilter skips them); candidate datagrams that do not decode as
FMIPv4 cost one decoder call.

Other subscribers of the correlator (the handover records) are passed in
`subscribers`; `on_finding(finding, handover)` sees every finding with the
handover it belongs to (None when it belongs to none, or is not known).

After iteration, packets (frames read) and messages (FMIPv4 messages
decoded) hold the counts for the summary.
"""

from __future__ import annotations

import os

from ..spec import constraints as K
from ..spec import protocol as P
from ..capture.reader import CaptureReader
from ..errors import InputError
from ..plain import Record
from ..records import CaptureNote, Clock, Datagram, Finding
from .checks import check_message
from ..spec import rules as R
from ..spec.numbers import IPPROTO_ICMP
from ..spec.rules import RULES, RULES_BY_ID, RULES_BY_NAME
from ..correlate import Correlator
from ..decode.decoder import decode_icmp, decode_mip
from .session import SessionRules

_PORT = P.MIP_UDP_PORT

# "6-9": the ICMP type 41 subtypes of FMIPv4 (RFC 4988 8)
_FMIP_SUBTYPES = f"{min(P.ICMP_MESSAGES)}-{max(P.ICMP_MESSAGES)}"



_EVERY_RULE = frozenset(r.id for r in RULES)


class LintConfig(Record):
    """What the user chose; picklable, so -j can ship it to workers."""

    __slots__ = _fields = (
        "enabled",      # rule ids
        "keys",         # SPI -> keys.Key (decision D5)
        "lla_length",   # decision D3
        "prefilter",    # False: the reader parses every frame in full instead
                        # of prefiltering (the capture reader's reference
                        # path; --no-prefilter, docs/performance.md)
        "scoped",       # ((addresses), rule ids): ignores by address
                        # (lint/config.py, address-ignores)
        "clock",        # live capture: requests expire on the wall clock
                        # while the link is quiet (fmipdissect/live.py)
    )
    _defaults = {"enabled": _EVERY_RULE, "keys": None,
                 "lla_length": P.DEFAULT_LLA_LENGTH, "prefilter": True,
                 "scoped": (), "clock": False}


MAX_LLA_LENGTH = K.LLA_LENGTH_MAX   # decision D3, one range everywhere


def resolve_rules(selectors, what: str) -> set[str]:
    """Rule ids named by ids, slugs or id prefixes ("FM4"); InputError else,
    also when the selectors name nothing at all (`--select ""`)."""
    chosen: set[str] = set()
    words = [w.strip() for group in selectors for w in group.split(",")]
    if not any(words):
        raise InputError(f"{what} {','.join(selectors)!r}: names no rule "
                         f"(give rule ids, slugs or prefixes; see "
                         f"--list-rules)")
    for word in filter(None, words):
        if word in RULES_BY_NAME:
            chosen.add(RULES_BY_NAME[word].id)
            continue
        upper = word.upper()
        matched = {r.id for r in RULES if r.id.startswith(upper)}
        if not matched:
            raise InputError(f"{what}: no rule id, slug or prefix {word!r}"
                             f" (see --list-rules)")
        chosen |= matched
    return chosen


def lint_config(select=None, ignore=None, keys=None,
                lla_length: int = P.DEFAULT_LLA_LENGTH, prefilter: bool = True,
                options=("select", "ignore", "lla_length")) -> LintConfig:
    """A LintConfig from the user's choices, checked: select and ignore are
    lists of comma-separated selectors (None: all rules, nothing ignored),
    keys a {SPI: keys.Key}; options names them in error messages."""
    enabled = (resolve_rules(select, options[0]) if select is not None
               else {r.id for r in RULES})
    if ignore is not None:
        enabled -= resolve_rules(ignore, options[1])
    if (not isinstance(lla_length, int)
            or not K.LLA_LENGTH_MIN <= lla_length <= MAX_LLA_LENGTH):
        raise InputError(f"{options[2]} {lla_length}: must be {K.LLA_LENGTH_MIN} to "
                         f"{MAX_LLA_LENGTH} octets")
    return LintConfig(frozenset(enabled), keys, lla_length, prefilter, ())


class FileStats(Record):
    """The summary counts of one capture."""

    __slots__ = _fields = ("file", "packets", "messages", "counts", "rules")

    def __init__(self, file: str, packets: int = 0, messages: int = 0):
        self.file = file
        self.packets = packets
        self.messages = messages
        self.counts = {"error": 0, "warning": 0, "info": 0}   # by severity
        self.rules: dict[str, int] = {}     # rule id -> count

    def add(self, finding: Finding) -> None:
        self.counts[finding.severity] += 1
        self.rules[finding.rule] = self.rules.get(finding.rule, 0) + 1


def scoped_out(scoped, rule: str, at) -> bool:
    """True when an address-ignores entry covers this finding: one address
    the datagram `at` is from or to, or a pair it travels between."""
    ends = (getattr(at, "src", None), getattr(at, "dst", None))
    for addresses, rules in scoped:
        if rule in rules and (addresses[0] in ends if len(addresses) == 1
                              else set(addresses) == set(ends)):
            return True
    return False


def _finding_factory(name, enabled, scoped=()):
    """make(frame, time, rule, text, at) -> Finding, or None when not
    enabled (or ignored for the addresses of `at`, the datagram)."""
    meta = {r.id: (r.name, r.severity, r.section) for r in RULES}

    def make(frame, time, rule, text, at=None):
        if rule not in enabled:
            return None
        if scoped and at is not None and scoped_out(scoped, rule, at):
            return None
        slug, severity, section = meta[rule]
        return Finding(frame, time, rule, text, name, 0, slug, severity, section)
    return make


class CaptureLint:
    """Iterate the findings of one capture: `path` is what the capture
    reader opens (a path, "-", a binary file object or bytes; plain or
    compressed), `name` the "file" of the findings (default: the path)."""

    def __init__(self, path, config: LintConfig, name: str | None = None,
                 progress=None, subscribers=(), on_finding=None,
                 open_reader=None):
        """open_reader(replies): what yields the Datagrams instead of a
        CaptureReader of path (the merged stream of several captures)."""
        self.path = path
        self.open_reader = open_reader
        self.subscribers = tuple(subscribers)   # of the correlator, first
        self.on_finding = on_finding
        if name is None:
            name = (os.fspath(path) if isinstance(path, (str, os.PathLike))
                    else getattr(path, "name", None) or "<capture>")
        self.name = str(name)
        self.config = config
        self.progress = progress     # callable(bytes_read, size) or None
        self.stats = FileStats(self.name)

    @property
    def packets(self) -> int:
        return self.stats.packets

    @property
    def messages(self) -> int:
        return self.stats.messages

    def __iter__(self):
        config = self.config
        make = _finding_factory(self.name, config.enabled, config.scoped)
        stats = self.stats
        on_finding = self.on_finding
        revealed = []     # the correlator's findings: (finding, handover)

        def out(rule, text, at, handover):
            f = make(at.frame, at.time, rule, text, at)
            if f is not None:
                revealed.append(f)
                if on_finding is not None:
                    on_finding(f, handover)

        rules = SessionRules(out)
        replies: set[int] = set()    # decision D16: ports the reader keeps
        correlator = Correlator(self.subscribers + (rules,), replies)
        reader = (CaptureReader(self.path, prefilter=config.prefilter,
                                clock=config.clock,
                                name=self.name, replies=replies)
                  if self.open_reader is None else self.open_reader(replies))
        # (CaptureError, an InputError, comes early: from the constructor)
        try:
            yield from self._stream(reader, correlator, rules, make, revealed)
            correlator.finish()
            for f in revealed:
                stats.add(f)
                yield f
        finally:
            stats.packets = reader.frames
            reader.close()
            if self.progress is not None:
                self.progress(reader.size, reader.size)

    def _stream(self, reader, correlator, rules, make, revealed):
        """The findings of every frame the reader yields, in order."""
        keys, lla_length = self.config.keys, self.config.lla_length
        stats, progress, on_finding = self.stats, self.progress, self.on_finding
        observe = correlator.observe
        awaited = correlator.awaited.message
        tick = 0
        for item in reader:
            if progress is not None:
                tick += 1
                if not tick & 0xFF:
                    progress(reader.bytes_read, reader.size, reader.frames)
            kind = item.__class__
            if kind is Datagram or kind is not Clock and kind is not \
                    CaptureNote:
                # ICMP and UDP to or from port 434 decoded straight; the
                # rest through the awaited replies (on other ports than 434
                # only an awaited FBAck, D16)
                if item.proto == IPPROTO_ICMP:
                    msg = decode_icmp(item.payload, lla_length)
                elif item.sport == _PORT or item.dport == _PORT:
                    msg = decode_mip(item.payload, lla_length)
                else:
                    msg = awaited(item, lla_length)
                f = self._other_icmp(item, make) if msg is None else None
            elif kind is Clock:
                # live input: the wall clock moved on (requests expire)
                correlator.tick(item.time)
                for f in revealed:
                    stats.add(f)
                    yield f
                revealed.clear()
                continue
            else:                                   # a CaptureNote
                msg = None
                f = make(item.frame, item.time, item.rule, item.message)
            if msg is None:
                # a note about the capture, or ICMP type 41 not FMIPv4
                if f is not None:
                    stats.add(f)
                    if on_finding is not None:
                        on_finding(f, None)
                    yield f
                continue
            stats.messages += 1
            if item.clipped:
                continue   # the reader's packet-clipped note says why: not checkable
            found = check_message(msg, item, keys)
            rules.at = item
            handover = observe(msg, item)
            if found:
                for rule, text in found:
                    f = make(item.frame, item.time, rule, text, item)
                    if f is not None:
                        stats.add(f)
                        if on_finding is not None:
                            on_finding(f, handover)
                        yield f
            if revealed:
                for f in revealed:
                    stats.add(f)
                    yield f
                revealed.clear()

    @staticmethod
    def _other_icmp(dgram, make):
        """ICMP type 41 whose subtype is not FMIPv4 (RFC 4065 3)."""
        payload = dgram.payload
        if (dgram.proto != IPPROTO_ICMP or len(payload) <= P.ICMP_SUBTYPE_OFFSET
                or payload[0] != P.ICMP_TYPE_EXPERIMENTAL_MOBILITY):
            return None
        subtype = payload[P.ICMP_SUBTYPE_OFFSET]
        return make(dgram.frame, dgram.time, R.ICMP_UNKNOWN_SUBTYPE, R.say(
            R.ICMP_UNKNOWN_SUBTYPE, type=payload[0], subtype=subtype,
            subtypes=_FMIP_SUBTYPES), dgram)


def lint_file(path: str, config: LintConfig, name: str | None = None):
    """All findings of one file and its stats, as a list (small captures,
    tests; fmip-lint itself streams them)."""
    run = CaptureLint(path, config, name)
    findings = list(run)
    return findings, run.stats


SPOOL_BATCH = 4096      # findings pickled at a time by lint_to_spool


def lint_to_spool(path: str, config: LintConfig, spool_path: str):
    """Check one file and write its findings to spool_path (batches of
    pickled Findings) instead of returning them: a -j worker, whose parent
    then streams them with read_spool, so that no process holds a file's
    findings.  Returns (stats, error message or None); the findings up to
    an error are in the spool, as a serial run would have printed them."""
    import pickle                        # -j only (start-up time)
    run = CaptureLint(path, config)
    error = None
    with open(spool_path, "wb") as spool:
        batch: list[Finding] = []
        try:
            for f in run:
                batch.append(f)
                if len(batch) >= SPOOL_BATCH:
                    pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
                    batch = []
        except InputError as exc:
            error = str(exc)
        if batch:
            pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
    return run.stats, error


def read_spool(spool_path: str):
    """The findings lint_to_spool wrote, one at a time."""
    import pickle
    with open(spool_path, "rb") as spool:
        while True:
            try:
                batch = pickle.load(spool)
            except EOFError:
                return
            yield from batch


# RULES_BY_ID is re-exported for callers that enrich findings themselves.
__all__ = ["CaptureLint", "LintConfig", "FileStats", "lint_config",
           "resolve_rules", "lint_file",
           "lint_to_spool", "read_spool", "RULES_BY_ID"]
