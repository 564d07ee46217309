"""What the lab prints: the MN's handovers, the probe verdicts, fmip-lint's
counts per node capture and the handover table of PAR's capture."""

from __future__ import annotations

import dataclasses

from ..lint.engine import LintConfig, lint_file
from ..lint.keys import load_keys
from ..lint.report import finding_dict


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


def handover_records(path: str):
    """The handover analysis of a capture (fmipdissect.handovers), or None
    where this fmipdissect does not have it yet."""
    import fmipdissect
    analysis = getattr(fmipdissect, "handovers", None)
    if not callable(analysis):
        return None
    return analysis(path)


def _record_dict(r) -> dict:
    if isinstance(r, dict):
        return r
    for method in ("to_dict", "as_dict", "asdict"):
        if callable(getattr(r, method, None)):
            return getattr(r, method)()
    if dataclasses.is_dataclass(r):
        return dataclasses.asdict(r)
    return dict(vars(r))


def _handovers_json(records):
    if records is None:
        return None
    if isinstance(records, dict):            # {"handovers": [...], ...}
        records = records.get("handovers", [])
    return [_record_dict(r) for r in records]


def lab_json(run, keep: bool) -> dict:
    return {"captures": run.captures if keep else
            {node: None for node in run.captures},
            "mn": run.mn, "probe": run.probe,
            "handovers": _handovers_json(run.handovers),
            "lint": {node: {k: v for k, v in s.items() if k != "findings"}
                     for node, s in run.lint.items()},
            "seconds": round(run.seconds, 2), "phases": run.phases}


def lab_text(run, keep: bool) -> str:
    lines = ["Handovers run by the MN emulator:"]
    for h in run.mn:
        text = f"  {h['mode']:<10} {h['outcome']}"
        if h.get("fback_code") is not None:
            text += f", FBAck Code {h['fback_code']}"
        if h.get("ncoa"):
            text += f", NCoA {h['ncoa']}"
        if h.get("latency_ms") is not None:
            text += f", FBU to FBAck {h['latency_ms']:.1f} ms"
        lines.append(text)
    for target, report in run.probe.items():
        s = report["summary"]
        lines += ["", f"Probe of the emulated {target.upper()}: "
                      f"{s['pass']} pass, {s['fail']} fail, {s['skip']} skip"]
        for c in report["cases"]:
            line = f"  {c['verdict']:<4}  {c['id']:<11} {c['section']:<5} " \
                   f"{c['title']}"
            if c.get("reason"):
                line += f" -- {c['reason']}"
            lines.append(line)
    lines += ["", "fmip-lint of each node's capture (with the lab's key):"]
    for node, s in run.lint.items():
        where = run.captures[node] if keep else f"{node}.pcapng (not kept)"
        rules = ", ".join(f"{r} x{n}" for r, n in s["rules"].items())
        lines.append(f"  {node:<4} {where}: {s['messages']} FMIPv4 messages, "
                     f"{s['errors']} errors, {s['warnings']} warnings, "
                     f"{s['infos']} infos" + (f" ({rules})" if rules else ""))
    lines.append("")
    if run.handovers is None:
        lines.append("Handover table: not available in this fmipdissect "
                     "(see the fmip-lint counts above).")
    else:
        lines.append("Handovers in PAR's capture:")
        lines.extend(_handover_table(run.handovers))
    lines += ["", f"Lab ran in {run.seconds:.1f} s; every namespace it made "
                  f"is gone."]
    return "\n".join(lines) + "\n"


def _handover_table(records) -> list[str]:
    rows = _handovers_json(records) or []
    out = [f"  {'MN':<15} {'mode':<11} {'outcome':<10} {'FBU->FBAck ms':>13}"]
    for r in rows:
        lat = (r.get("latency_ms") or {}).get("fbu_fback")
        out.append(f"  {str(r.get('mn')):<15} {str(r.get('mode')):<11} "
                   f"{str(r.get('outcome')):<10} "
                   f"{'-' if lat is None else f'{lat:.1f}':>13}")
    return out
