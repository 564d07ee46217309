"""The Python API of fmip-lint (docs/api.md): `fmipdissect.check`.

    >>> import fmipdissect
    >>> for f in fmipdissect.check("samples/violations.pcap"):
    ...     print(f.frame, f.rule, f.severity, f.message)

The same checks as the command line (lint.engine.CaptureLint), on any
source sources.capture_input takes.  Options have the command line's
meaning; a bad one raises fmipdissect.InputError (a ValueError-like one-line
message), as does a capture that cannot be read at all.  A capture that is
cut short or damaged still yields every finding for what could be read
(rules FM901-FM903), as on the command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from .errors import InputError
from .records import Finding
from .sources import capture_input
from .spec import protocol as P

__all__ = ["check", "handovers", "merged_handovers", "Finding",
           "InputError"]


def _rule_list(value, what: str):
    """`select`/`ignore`: None, "FM1,FM402" or an iterable of ids, slugs and
    prefixes -> the selector list lint.engine.lint_config takes."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [",".join(str(v) for v in value)]
    raise TypeError(f"{what}: a string or a list of rule ids, slugs or "
                    f"prefixes")


def _keys(value):
    """`keys`: None, a key file path, or a mapping SPI -> secret (bytes or
    hex), (secret, algorithm) or lint.keys.Key -> {SPI: Key}."""
    from .lint.keys import Key, load_keys, parse_keys
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return load_keys(os.fspath(value))
    if not isinstance(value, Mapping):
        raise TypeError("keys: a key file path or a mapping SPI -> key")
    lines = []
    for spi, key in value.items():
        if isinstance(key, Key):
            key = (key.secret, key.algorithm)
        secret, algorithm = key if isinstance(key, tuple) else (
            key, P.DEFAULT_AUTH_ALGORITHM)
        if isinstance(secret, (bytes, bytearray)):
            secret = bytes(secret).hex()
        lines.append(f"{spi} {secret} {algorithm}")
    return parse_keys(lines, "keys")


def check(source, *, keys=None, select=None, ignore=None,
          lla_length: int = P.DEFAULT_LLA_LENGTH,
          name: str | None = None) -> list[Finding]:
    """Check a capture against RFC 4988; return its findings in the order
    the command line reports them.

    source: a path, a binary file object, the bytes of a capture, or Scapy
        packets (sources.capture_input).
    keys: MN-PAR keys to verify authenticators (decision D5): a key file
        path (the --keys format) or a mapping {SPI: key}, key being the
        secret (bytes or hex text, HMAC-MD5) or (secret, "hmac-sha1"|...).
    select, ignore: rules as on the command line: "FM1,FM402", or a list of
        ids, slugs ("fbu-lifetime-over-limit") or prefixes.
    lla_length: link-layer address length in octets (decision D3).
    name: the "file" shown in the findings (default: the path, or
        "<bytes>", "<packets>", the file object's name).

    Each Finding has the JSON report's fields as attributes: file, frame,
    time, rule, name, severity, section, message.
    """
    from .lint.engine import CaptureLint, lint_config
    config = lint_config(_rule_list(select, "select"),
                         _rule_list(ignore, "ignore"), _keys(keys), lla_length)
    data, label = capture_input(source, name)
    return list(CaptureLint(data, config, name=label))


def handovers(source, *, keys=None, lla_length: int = P.DEFAULT_LLA_LENGTH,
              name: str | None = None) -> list:
    """The handover records of a capture (decision D13, docs/handovers.md),
    in order of their first frame: objects with the JSON fields of
    `fmipdissect handovers --format json` as attributes (mode, outcome,
    latency_ms, ...).  source, keys, lla_length and name as for check();
    keys and lla_length decide which findings each record counts."""
    from .analysis import CaptureHandovers
    from .lint.engine import lint_config
    config = lint_config(None, None, _keys(keys), lla_length)
    data, label = capture_input(source, name)
    return list(CaptureHandovers(data, config, name=label))


def merged_handovers(captures, *, clocks=None, keys=None,
                     lla_length: int = P.DEFAULT_LLA_LENGTH):
    """`fmipdissect handovers --merge`: (records, summary) of several
    captures of one network, one per vantage point (docs/handovers.md,
    "Several vantage points").

    captures: a mapping {name: path} or paths (named by their stems); the
        first is the reference clock.  Paths only: each file is read in
        several passes.
    clocks: {name: offset in seconds} set by hand (--clock).
    keys, lla_length: as for check().

    The records have the JSON fields as attributes, `vantage_points`,
    `observed` (the JSON `messages` list), `processing_ms` and `data`
    included; summary: {"vantage_points": {name: {file, offset_ms,
    uncertainty_ms, drift_ppm, pairs}}, "roles": {name: role or None},
    "data": the data plane's summary or None}.
    """
    from .analysis import MergedHandovers
    from .handovers.vantage import vantage_points
    from .lint.engine import lint_config
    if isinstance(captures, Mapping):
        names = [str(n) for n in captures]
        paths = [os.fspath(p) for p in captures.values()]
        vantage_points(f"{n}={p}" for n, p in zip(names, paths))
    else:
        paths, names = vantage_points(os.fspath(p) for p in captures)
    unknown = set(clocks or ()) - set(names)
    if unknown:
        raise InputError(f"clocks: no vantage point {sorted(unknown)[0]!r}")
    config = lint_config(None, None, _keys(keys), lla_length)
    analysis = MergedHandovers(paths, names, config,
                               {str(n): float(v)
                                for n, v in (clocks or {}).items()})
    records: list = []
    analysis.run(records.append)
    return records, {"vantage_points": analysis.vantage_points(),
                     "roles": dict(analysis.roles),
                     "data": analysis.summary_data()}
