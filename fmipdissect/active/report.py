"""What the lab prints: the MN's handovers, the probe verdicts, fmip-lint's
counts per node capture and the handover table of PAR's capture."""

from __future__ import annotations

import io
import json

from ..analysis import CaptureHandovers
from ..handovers.report import JsonReport, TextReport
from ..lint.engine import LintConfig, lint_file
from ..lint.keys import load_keys
from ..lint.report import finding_dict
from .probe import text as probe_text


def lint_captures(captures: dict, keys_path: str) -> dict:
    """node -> {"errors", "warnings", "infos", "rules", "findings"}."""
    config = LintConfig(keys=load_keys(keys_path))
    out = {}
    for node, path in captures.items():
        findings, stats = lint_file(path, config, name=path)
        out[node] = {"packets": stats.packets, "messages": stats.messages,
                     "errors": stats.counts["error"],
                     "warnings": stats.counts["warning"],
                     "infos": stats.counts["info"],
                     "rules": dict(sorted(stats.rules.items())),
                     "findings": [finding_dict(f) for f in findings]}
    return out


def handover_report(path: str, keys_path: str) -> tuple[dict, str]:
    """(JSON, text) of the handover analysis of a capture, exactly as
    `fmipdissect handovers --format json|text` prints them."""
    config = LintConfig(keys=load_keys(keys_path))
    records = list(CaptureHandovers(path, config))
    outputs = []
    for report_class in (JsonReport, TextReport):
        out = io.StringIO()
        report = report_class(out)
        report.file_start(path)
        for r in records:
            report.record(r)
        report.file_done(path, len(records))
        report.close()
        outputs.append(out.getvalue())
    return json.loads(outputs[0]), outputs[1]


def lab_json(run, keep: bool) -> dict:
    out = {"captures": run.captures if keep else
           {node: None for node in run.captures},
           "mn": run.mn, "probe": run.probe,
           "handovers": run.handovers[0],
           "lint": {node: {k: v for k, v in s.items() if k != "findings"}
                    for node, s in run.lint.items()},
           "seconds": round(run.seconds, 2), "phases": run.phases}
    if run.flow:     # --traffic: the merged analysis, the flow, per mode
        out.update({"mn": run.moves or run.mn, "handovers": run.merged,
                    "flow": run.flow,
                    "summary": {"mode": run.data["summary"]},
                    "lab_reading": {"handovers": run.data["handovers"],
                                    "totals": run.data["totals"]}})
    return out


def traffic_text(run) -> list[str]:
    """The test flow and the handovers per mode (lab --traffic)."""
    lines = ["Test flow (its own counters): " + "; ".join(
        f"{d} {c['sent']} sent, {c['unsent']} not sent, {c['received']} "
        f"received" for d, c in run.flow.items())]
    lines.append("Handovers per mode (from the captures):")
    for mode, s in run.data["summary"].items():
        gap = s["down_interruption_ms"]
        lines.append(f"  {mode:<10} {s['handovers']} handovers, downlink "
                     f"interruption p50 {gap['p50']} ms, p95 {gap['p95']} "
                     f"ms, max {gap['max']} ms; lost {s['lost']} down, "
                     f"{s['up_lost']} up; buffered {s['buffered']}")
    own = [m for m, s in run.data["summary"].items() if s["source"] == "lab"]
    if own:
        lines.append(f"  ({', '.join(own)}: the lab's own reading of the "
                     f"captures; the others: fmipdissect handovers --merge)"
                     if len(own) < len(run.data["summary"]) else
                     "  (the lab's own reading of the captures)")
    return lines


def moves_text(moves: list) -> list[str]:
    lines = ["Handovers of the moving MN (ms from each one's start):"]
    for m in moves:
        at = {k: f"{(m[k] - m['start']) * 1000:.0f}" for k in
              ("left", "attached", "bound") if m.get(k)}
        bound = "Registration Reply" if m["mode"] == "baseline" else "FBAck"
        lines.append(f"  {m['mode']:<10} {m['outcome']}: left {at['left']}, "
                     f"attached {at['attached']}"
                     + (f", {bound} {at['bound']}" if "bound" in at else ""))
    return lines


def lab_text(run, keep: bool) -> str:
    if run.flow:
        lines = traffic_text(run)
        lines.append("")
    else:
        lines = []
    if run.moves:
        lines += moves_text(run.moves)
    else:
        lines.append("Handovers run by the MN emulator:")
    for h in run.mn if not run.moves else []:
        if not isinstance(h, dict):       # a user's MN (--mn-cmd) said so
            continue
        text = f"  {h.get('mode', '?'):<10} {h.get('outcome', '?')}"
        if h.get("fback_code") is not None:
            text += f", FBAck Code {h['fback_code']}"
        if h.get("ncoa"):
            text += f", NCoA {h['ncoa']}"
        if h.get("latency_ms") is not None:
            text += f", FBU to FBAck {h['latency_ms']:.1f} ms"
        lines.append(text)
    for report in run.probe.values():
        lines += [""] + probe_text(report).rstrip("\n").splitlines()
    lines += ["", "fmip-lint of each node's capture (with the lab's key):"]
    for node, s in run.lint.items():
        where = run.captures[node] if keep else f"{node}.pcapng (not kept)"
        rules = ", ".join(f"{r} x{n}" for r, n in s["rules"].items())
        lines.append(f"  {node:<4} {where}: {s['messages']} FMIPv4 messages, "
                     f"{s['errors']} errors, {s['warnings']} warnings, "
                     f"{s['infos']} infos" + (f" ({rules})" if rules else ""))
    if run.handovers[1]:
        lines.append("")
        lines.append("Handovers in PAR's capture (fmipdissect handovers):")
        lines.extend(("  " + line).rstrip() for line in
                     run.handovers[1].rstrip("\n").splitlines())
    lines += ["", f"Lab ran in {run.seconds:.1f} s; every namespace it made "
                  f"is gone."]
    return "\n".join(lines) + "\n"
