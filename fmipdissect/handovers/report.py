"""Handover reports: an aligned text table, JSON and CSV (docs/handovers.md).

Each report is streamed: record() writes one handover as soon as the
analysis hands it out, file_done() and close() add what comes after.  Only
the Summary (counts and latency values for the percentiles) is kept.
"""

from __future__ import annotations

from ..errors import one_line
from .records import (CODE_KEYS, DATA_DIRECTIONS, DATA_KEYS, LATENCY_KEYS,
                      PROCESSING_KEYS, HandoverRecord, Summary)

LATENCY_LABELS = {"rtsolpr_prrtadv": "RtSolPr-PrRtAdv", "hi_hack": "HI-HAck",
                  "fbu_fback": "FBU-FBAck", "total": "total"}

# The text table: (heading, width, align, value of a record).  Latencies in
# milliseconds with three decimals (microseconds); "-" when not seen.
_DASH = "-"


def _ms(value):
    return _DASH if value is None else f"{value:.3f}"


def _text(value):
    return _DASH if value is None else str(value)


def clock(t: float, zone: str = "utc") -> str:
    """Capture time as date and time of day with microseconds, in UTC or
    (zone "local") this machine's time zone."""
    # imported here, as json and csv below: only the format asked for pays
    # its import (start-up)
    from datetime import datetime, timezone
    try:
        when = datetime.fromtimestamp(t, timezone.utc)
        if zone == "local":
            when = when.astimezone()
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")
    except (OverflowError, OSError, ValueError):
        return f"{t:.6f}"


def zone_name(zone: str) -> str:
    """The START column's zone: "UTC", or the local zone's abbreviation."""
    if zone != "local":
        return "UTC"
    import time
    return time.strftime("%Z") or "local"


COLUMNS = (
    ("FIRST", 7, ">", lambda r: str(r.first_frame)),
    ("LAST", 7, ">", lambda r: str(r.last_frame)),
    ("MSGS", 5, ">", lambda r: str(r.messages)),
    ("START (UTC)", 26, "<", lambda r: clock(r.start)),
    ("MN", 15, "<", lambda r: _text(r.mn)),
    ("PAR", 15, "<", lambda r: _text(r.par)),
    ("NAR", 15, "<", lambda r: _text(r.nar)),
    ("MODE", 10, "<", lambda r: r.mode),
    ("BY", 7, "<", lambda r: r.initiated_by),
    ("OUTCOME", 10, "<", lambda r: r.outcome),
    ("FBACK", 5, ">", lambda r: _text(r.codes["fback"])),
    ("RTSOLPR ms", 10, ">", lambda r: _ms(r.latency_ms["rtsolpr_prrtadv"])),
    ("HI ms", 9, ">", lambda r: _ms(r.latency_ms["hi_hack"])),
    ("FBU ms", 9, ">", lambda r: _ms(r.latency_ms["fbu_fback"])),
    ("TOTAL ms", 10, ">", lambda r: _ms(r.latency_ms["total"])),
    ("E/W/I", 8, ">", lambda r: "{errors}/{warnings}/{infos}".format(
        **r.findings)),
)


def _data(record, direction, key):
    data = record.data
    return None if data is None else (data.get(direction) or {}).get(key)


def _lost(record):
    counts = [_data(record, d, "lost") for d in DATA_DIRECTIONS]
    return _DASH if counts == [None, None] else str(sum(c or 0 for c in counts))


# --merge adds: the vantage points that saw the handover, the downlink's
# interruption and the packets lost both ways (the data plane)
MERGED_COLUMNS = (
    ("SEEN BY", 16, "<", lambda r: ",".join(r.vantage_points or ()) or _DASH),
    ("DOWN ms", 9, ">", lambda r: _ms(_data(r, "down", "interruption_ms"))),
    ("LOST", 5, ">", _lost),
)


class Report:
    def __init__(self, out, merged: bool = False):
        self.out = out
        self.merged = merged          # handovers --merge
        self.summary = Summary()
        self.failed: list[dict] = []
        self.vantage_points = None    # --merge: the summary's additions
        self.roles = None
        self.data = None

    def merged_summary(self, vantage_points: dict, roles: dict, data) -> None:
        """--merge, before close(): the summary's `vantage_points` {NAME:
        {file, offset_ms, uncertainty_ms, drift_ppm, pairs}}, the roles
        {NAME: role or None} and the data plane's summary (or None)."""
        self.vantage_points, self.roles, self.data = vantage_points, roles, data
        self.summary.files = len(vantage_points)     # the captures read

    def summary_dict(self) -> dict:
        summary = self.summary.to_dict()
        if self.failed:
            summary["failed"] = self.failed
        if self.merged:
            summary["vantage_points"] = self.vantage_points
            summary["data"] = self.data
        return summary

    def file_start(self, name: str) -> None:
        pass

    def record(self, record: HandoverRecord) -> None:
        self.summary.add(record)

    def file_done(self, name: str, count: int) -> None:
        self.summary.files += 1

    def file_failed(self, name: str, message: str) -> None:
        self.failed.append({"file": name, "message": message})

    def close(self) -> None:
        pass


class TextReport(Report):
    """One aligned row per handover, then the summary."""

    def __init__(self, out, multiple: bool = False, zone: str = "utc",
                 merged: bool = False):
        super().__init__(out, merged)
        self.multiple = multiple
        columns = COLUMNS + (MERGED_COLUMNS if merged else ())
        self.row = "  ".join(f"{{:{align}{width}}}"
                             for _, width, align, _ in columns)
        self.columns = [(f"START ({zone_name(zone)})", w, a,
                         lambda r: clock(r.start, zone))
                        if head.startswith("START") else (head, w, a, value)
                        for head, w, a, value in columns]

    def file_start(self, name: str) -> None:
        if self.multiple:
            self.out.write(f"{one_line(name)}:\n")
        self.out.write(self.row.format(*(c[0] for c in self.columns)).rstrip()
                       + "\n")

    def record(self, record: HandoverRecord) -> None:
        super().record(record)
        self.out.write(self.row.format(*(c[3](record) for c in self.columns))
                       .rstrip() + "\n")

    def file_done(self, name: str, count: int) -> None:
        super().file_done(name, count)
        if not count:
            self.out.write(f"(no handover in {one_line(name)})\n")
        if self.multiple:
            self.out.write("\n")

    def close(self) -> None:
        s = self.summary
        o = s.outcomes
        out = self.out
        if not self.multiple:
            out.write("\n")
        files = f"{s.files} file{'s' if s.files != 1 else ''}"
        out.write(f"{s.handovers} handover{'s' if s.handovers != 1 else ''} "
                  f"in {files}: {o['completed']} completed, {o['rejected']} "
                  f"rejected, {o['incomplete']} incomplete; "
                  f"{s.modes['predictive']} predictive, "
                  f"{s.modes['reactive']} reactive, "
                  + (f"{s.modes['baseline']} baseline, " if self.merged
                     else "")
                  + f"{s.modes['unknown']} unknown; {s.network} initiated "
                  f"by the network\n")
        if self.merged:
            self._vantage_points()
        if not s.handovers:
            return
        out.write(f"{'latency (ms)':<16}{'count':>7}{'min':>11}{'p50':>11}"
                  f"{'p95':>11}{'max':>11}\n")
        for key, st in s.latency().items():
            out.write(f"{LATENCY_LABELS[key]:<16}{st['count']:>7}"
                      + "".join(f"{_ms(st[k]):>11}"
                                for k in ("min", "p50", "p95", "max"))
                      + "\n")


    def _vantage_points(self) -> None:
        """--merge: each capture's role and clock offset."""
        out = self.out
        out.write(f"{'vantage point':<16}{'role':<6}{'offset ms':>14}"
                  f"{'+/- ms':>10}{'drift ppm':>11}{'pairs':>8}  file\n")
        for name, v in (self.vantage_points or {}).items():
            role = (self.roles or {}).get(name)
            out.write(f"{one_line(name):<16}{role or _DASH:<6}"
                      f"{v['offset_ms']:>+14.3f}{_ms(v['uncertainty_ms']):>10}"
                      f"{_ms(v['drift_ppm']):>11}{v['pairs']:>8}  "
                      f"{one_line(v['file'])}\n")


class JsonReport(Report):
    """{"handovers": [...], "summary": {...}}, written as it goes."""

    def __init__(self, out, merged: bool = False):
        super().__init__(out, merged)
        import json
        self.dumps = json.dumps
        self.first = True
        out.write('{"handovers": [')

    def record(self, record: HandoverRecord) -> None:
        super().record(record)
        self.out.write(("\n  " if self.first else ",\n  ")
                       + self.dumps(record.to_dict()))
        self.first = False

    def close(self) -> None:
        self.out.write(("]" if self.first else "\n]") + ', "summary": '
                       + self.dumps(self.summary_dict(), indent=2) + "}\n")


class JsonLinesReport(Report):
    """--format jsonl: {"handover": {...}} per line as each handover is
    over, then {"summary": {...}}."""

    def __init__(self, out, merged: bool = False):
        super().__init__(out, merged)
        import json
        self.dumps = json.dumps

    def record(self, record: HandoverRecord) -> None:
        super().record(record)
        self.out.write(self.dumps({"handover": record.to_dict()}) + "\n")

    def close(self) -> None:
        self.out.write(self.dumps({"summary": self.summary_dict()}) + "\n")


CSV_FIELDS = (["file", "mn", "pcoa", "ncoa", "par", "nar", "mode",
               "initiated_by", "outcome", "first_frame", "last_frame",
               "messages", "start", "end"]
              + [f"latency_{k}_ms" for k in LATENCY_KEYS]
              + [f"code_{k}" for k in CODE_KEYS]
              + ["errors", "warnings", "infos", "frames"])


# A text cell starting with one of these is a formula to a spreadsheet
# (CSV injection): it is written after a "'", as OWASP advises.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell: empty for null; text on one line (one_line: a CR or LF
    in a file name cannot split the row) and never a formula."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    value = one_line(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


# --merge adds: vantage points (space-separated), processing times, and
# the data plane flattened (down_interruption_ms, down_lost, ...;
# lost_last_seen as NAME:count words)
CSV_MERGED_FIELDS = (["vantage_points"]
                     + [f"processing_{k}_ms" for k in PROCESSING_KEYS]
                     + [f"{d}_{k}" for d in DATA_DIRECTIONS for k in DATA_KEYS]
                     + ["flows"])


def _merged_cells(d: dict) -> list:
    row = [" ".join(d["vantage_points"])]
    row += [d["processing_ms"][k] for k in PROCESSING_KEYS]
    data = d["data"] or {}
    for direction in DATA_DIRECTIONS:
        values = data.get(direction) or {}
        for key in DATA_KEYS:
            value = values.get(key)
            if isinstance(value, dict):
                value = " ".join(f"{n}:{c}" for n, c in value.items())
            row.append(value)
    row.append(data.get("flows"))
    return row


class CsvReport(Report):
    """One row per handover; frames space-separated; empty for null; text
    cells through csv_cell."""

    def __init__(self, out, merged: bool = False):
        super().__init__(out, merged)
        import csv
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(CSV_FIELDS + (CSV_MERGED_FIELDS if merged
                                           else []))

    def record(self, record: HandoverRecord) -> None:
        super().record(record)
        d = record.to_dict()
        row = [d[k] for k in CSV_FIELDS[:14]]
        row += [d["latency_ms"][k] for k in LATENCY_KEYS]
        row += [d["codes"][k] for k in CODE_KEYS]
        row += [d["findings"][k] for k in ("errors", "warnings", "infos")]
        row.append(" ".join(map(str, d["frames"])))
        if self.merged:
            row[CSV_FIELDS.index("messages")] = len(d["messages"])
            row += _merged_cells(d)
        self.writer.writerow([csv_cell(v) for v in row])


REPORTS = {"text": TextReport, "json": JsonReport, "jsonl": JsonLinesReport,
           "csv": CsvReport}
