"""A verdict per case, as conformance suites give them (docs/active-testing.md):

pass          its check passed and the router's frames of its exchange
              carry no finding of fmip-lint that is this case's
warn          passed, but with warnings (decision D10: a broken SHOULD is a
              warning, so a SHOULD-level case whose check fails warns too)
fail          its MUST-level check failed, or an error finding is its
inconclusive  could not send, no traffic, or nothing to judge (the
              preamble failed: an earlier case of the exchange failed)
skip          not applicable to the profile (profile.py)

A finding of the router's frames is the case's whose `rules` name it; one
no case of the exchange names is the exchange's first case's.  Findings on
the prober's own frames never count: some of them are broken on purpose.
"""

from __future__ import annotations

from .exchange import Exchange
from .exchanges import EXCHANGES
from .judges import Declined, Inconclusive, NotApplicable
from .profile import WHY_SKIPPED

VERDICTS = ("pass", "warn", "fail", "inconclusive", "skip")


def run_cases(prober, cases, profile) -> list[dict]:
    """Run the exchanges the cases need, in order, then judge each case."""
    runnable = [c for c in cases if _skip_reason(c, profile) is None]
    needed = {c.exchange for c in runnable}
    prober.results = {}
    for name, exchange in EXCHANGES[prober.cfg.target]:
        if name in needed:
            try:
                prober.results[name] = exchange(prober)
            except OSError as exc:      # e.g. no route to the router
                prober.results[name] = Exchange(
                    name, error=exc.strerror or str(exc))
    owners = _owners(runnable)
    return [_result(c, prober, profile, owners) for c in cases]


def _skip_reason(case, profile) -> str | None:
    for need in case.needs:
        if not profile.allows(need):
            return WHY_SKIPPED.get(need, f"the profile sets {need}")
    return None


def _owners(cases) -> dict[tuple[str, str], str]:
    """(exchange, rule) -> the case a finding under that rule belongs to;
    (exchange, "") -> the exchange's first case."""
    out: dict[tuple[str, str], str] = {}
    for c in cases:
        out.setdefault((c.exchange, ""), c.id)
        for rule in c.rules:
            out.setdefault((c.exchange, rule), c.id)
    return out


def _mine(case, x, owners, severity) -> list[dict]:
    """The router's findings of this severity that are this case's."""
    out = []
    for f in x.findings:
        if f["severity"] != severity or not f.get("router", True):
            continue
        owner = owners.get((case.exchange, f["rule"])) or \
            owners.get((case.exchange, ""))
        if owner == case.id:
            out.append(f)
    return out


def _judge(case, prober, profile, x) -> tuple[str, str | None]:
    if x.error:
        return "inconclusive", f"could not send: {x.error}"
    if not any(seen.outgoing for seen in x.frames):
        return "inconclusive", ("no traffic: the prober's own requests "
                                "were not seen on the interface")
    try:
        reason = case.judge(prober, x)
    except Inconclusive as why:
        return "inconclusive", str(why)
    except NotApplicable as why:
        return "skip", str(why)
    except Declined as why:
        if not profile.policy_rejections:
            return "inconclusive", (f"{why}; allow the prober's MN on the "
                                    f"router, or set policy_rejections = "
                                    f"true in the profile")
        if why.final:
            return "pass", None
        return "skip", f"{why} (allowed by the profile): nothing to judge"
    if reason:
        return ("fail" if case.level == "MUST" else "warn"), reason
    return "pass", None


def _result(case, prober, profile, owners) -> dict:
    out = {"id": case.id, "section": case.section, "level": case.level,
           "title": case.title, "verdict": "skip", "reason": None,
           "findings": [], "warnings": []}
    why = _skip_reason(case, profile)
    if why is not None:
        out["reason"] = why
        return out
    x = prober.results[case.exchange]
    out["findings"] = [{k: v for k, v in f.items() if k != "router"}
                       for f in x.findings]
    verdict, reason = _judge(case, prober, profile, x)
    if verdict in ("pass", "warn", "fail"):
        errors = _mine(case, x, owners, "error")
        warnings = _mine(case, x, owners, "warning")
        out["warnings"] = [_line(f) for f in warnings]
        if errors and verdict != "fail":
            verdict = "fail"
            reason = "fmip-lint: " + "; ".join(_line(f) for f in errors)
        elif warnings and verdict == "pass":
            verdict = "warn"
    out["verdict"], out["reason"] = verdict, reason
    return out


def _line(f: dict) -> str:
    return (f"exchange frame {f['frame']}: {f['rule']} {f['severity']} "
            f"{f['name']}: {f['message']}")


def summary(results: list[dict]) -> dict:
    counts = {v: 0 for v in VERDICTS}
    for r in results:
        counts[r["verdict"]] += 1
    return counts


def nothing_sent(prober) -> bool:
    """True when no exchange got a single request onto the wire."""
    return not any(seen.outgoing for x in prober.results.values()
                   for seen in x.frames)


def exit_status(results: list[dict], prober) -> int:
    """1 on any fail; 2 when nothing could be sent; else 0."""
    if any(r["verdict"] == "fail" for r in results):
        return 1
    if prober.results and nothing_sent(prober):
        return 2
    return 0
