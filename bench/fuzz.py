"""`make fuzz`: byte-level capture fuzzing and coverage-guided decoder fuzzing.

Two parts, both with a fixed budget, both keeping every failing input under
tests/fuzz/regressions/ so that tests/fuzz/test_fuzz_regressions.py replays it:

1. Captures.  The committed samples (pcap, plus a pcapng copy of each made
   with editcap -F pcapng) are mutated at the byte level: Debian's
   `editcap -E RATE --seed N` at several error rates, random truncation of
   the file, `editcap -s SNAPLEN` (snaplen shorter than the messages), both
   combined, and random octet overwrites anywhere in the file (file and
   record headers included, which editcap -E never touches).  Every mutated
   capture goes through
     - real tshark with lua/fmip.lua (`-V`): no "Lua Error", no "FMIPv4
       dissector bug", no "[Malformed Packet: FMIP...]", no crash (signal),
       no hang (timeout), exit status 0 or 2 (2: tshark's "cut short" /
       corrupt file);
     - the real `fmip-lint` console script, a batch of files per run:
       exit status 0, 1 or 2, "Traceback" never on standard error, every
       standard-error line a one-line "fmip-lint: error: ..." and standard
       output valid JSON;
     - the checker in process (CaptureLint), to name the file when a batch
       fails: only InputError (exit 2) may escape.
   Failing captures are copied to tests/fuzz/regressions/captures/.

2. Decoder.  atheris (libFuzzer, coverage-guided) over the fast decoder and
   the per-message checker and session, with fmipdissect's decoder, checksum
   and checker modules instrumented, seeded with every FMIPv4 message of the
   samples.  exercise_message() below is the fuzz target; it asserts the
   invariants (no exception, records in bounds, rule ids from the registry,
   every decoder Problem reported as a finding).  A crashing input is copied
   to tests/fuzz/regressions/decoder/ and fuzzing restarts until the budget is
   spent.  Without atheris (`.venv/bin/pip install atheris`), a bounded
   random-mutation loop over the same target runs instead, and says so.

Usage:
    .venv/bin/python bench/fuzz.py [--captures N] [--seconds S]
                                   [--atheris-seconds S] [--seed N] [--jobs N]

Exit status 0 when nothing failed, 1 when something did (see the report and
tests/fuzz/regressions/), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "lua" / "fmip.lua"
SAMPLES = ROOT / "samples"
REGRESSIONS = ROOT / "tests" / "fuzz" / "regressions"
CAPTURE_REGRESSIONS = REGRESSIONS / "captures"
DECODER_REGRESSIONS = REGRESSIONS / "decoder"
BIN = Path(sys.executable).parent
FMIP_LINT = BIN / "fmip-lint"

# editcap -E: probability that each octet of a packet is changed.
ERROR_RATES = (0.002, 0.01, 0.03, 0.1)
MUTATIONS = ("editcap", "truncate", "snaplen", "editcap+truncate", "overwrite",
             "message-soup")
KEYS = SAMPLES / "keys.txt"
# Output of tshark that means our dissector failed (lua/fmip.lua wraps its
# dissection in pcall and reports a caught error as "FMIPv4 dissector bug").
LUA_FAILURE_MARKERS = ("Lua Error", "FMIPv4 dissector bug",
                       "Malformed Packet: FMIP")
TSHARK_STATUSES = (0, 2)     # 2: capture file cut short or corrupt
LINT_STATUSES = (0, 1, 2)
TSHARK_TIMEOUT = 60.0
LINT_BATCH = 40
LLA_LENGTHS = (6, 6, 6, 1, 8, 20, 255)   # link-layer address lengths tried
LINKTYPE_RAW = 101


# --- the decoder fuzz target (also used by the tests) -----------------------

def _imports():
    """The modules under test, imported late (atheris instruments them)."""
    from fmipdissect.decode import decoder as decode
    from fmipdissect.lint import checks, keys, session
    from fmipdissect.spec import rules
    from fmipdissect import records
    return decode, checks, keys, rules, session, records


_KEY_TABLE = None


def _key_table(keys, P):
    """The samples' keys (their seeds carry real HMACs) and SPI 1."""
    global _KEY_TABLE
    if _KEY_TABLE is None:
        _KEY_TABLE = dict(keys.load_keys(str(KEYS))) if KEYS.is_file() \
            else {}
        _KEY_TABLE[1] = keys.Key(1, b"fuzz", P.DEFAULT_AUTH_ALGORITHM)
    return _KEY_TABLE


def exercise_message(data: bytes, lla_length: int | None = None) -> int:
    """Decode data as FBU/FBAck and as an ICMP message, check, match.

    Raises (AssertionError or whatever escapes) when an invariant breaks;
    returns the number of findings.  Invariants:
      * decode_mip / decode_icmp return None or a Message whose raw is data;
      * every element lies inside the message, in order, without overlap;
        with no Problem the elements cover the message to its end;
      * every Problem and every finding has a rule id of the registry;
      * every decoder Problem is reported by check_message (malformed input
        yields a finding);
      * check_message (with the samples' keys and one for SPI 1, so HMACs
        are verified) and the
        session (observe, then finish) do not raise.
    """
    decode, checks, keys, rules, session, records = _imports()
    P = decode.P
    if lla_length is None:
        lla_length = P.DEFAULT_LLA_LENGTH
    key_table = _key_table(keys, P)
    findings = 0
    for proto, decoder, ports in ((decode.IPPROTO_UDP, decode.decode_mip,
                                   (P.MIP_UDP_PORT, P.MIP_UDP_PORT)),
                                  (decode.IPPROTO_ICMP, decode.decode_icmp,
                                   (None, None))):
        msg = decoder(data, lla_length)
        if msg is None:
            continue
        assert msg.raw == data, "raw is not the input"
        spec = next(m for m in P.MESSAGES if m.key == msg.key)
        end = spec.header_len
        for e in msg.elements:
            assert e.offset >= end, f"element at {e.offset} overlaps {end}"
            assert e.size > 0 and e.offset + e.size <= len(data), \
                f"element {e.kind} at {e.offset} size {e.size} out of bounds"
            end = e.offset + e.size
        for p in msg.problems:
            assert p.rule in rules.RULES_BY_ID, f"unknown rule {p.rule}"
            assert 0 <= p.offset <= len(data), f"problem offset {p.offset}"
        if not msg.problems and len(data) >= spec.header_len:
            assert end == len(data), f"elements end at {end} of {len(data)}"
        dgram = records.Datagram(1, 1.0, "10.0.0.5", "10.0.0.1", proto, 64,
                                 ports[0], ports[1], data)
        out = checks.check_message(msg, dgram, key_table)
        reported = {rule for rule, _ in out}
        for rule, text in out:
            assert rule in rules.RULES_BY_ID, f"unknown rule {rule}"
            assert isinstance(text, str) and text
        missing = {p.rule for p in msg.problems} - reported
        assert not missing, f"decoder problems not reported: {missing}"
        s = session.Session()
        out += s.observe(msg, dgram)
        out += s.finish()
        for rule, _ in out:
            assert rule in rules.RULES_BY_ID, f"unknown rule {rule}"
        findings += len(out)
    return findings


def sample_messages() -> list[bytes]:
    """Every FMIPv4 message (UDP payload / ICMP message) of the samples."""
    from fmipdissect.capture.reader import CaptureReader
    from fmipdissect.decode.decoder import decode_datagram
    from fmipdissect.records import Datagram
    out = []
    for path in sorted(SAMPLES.glob("*.pcap")):
        with CaptureReader(str(path)) as reader:
            for item in reader:
                if isinstance(item, Datagram) and decode_datagram(item):
                    out.append(bytes(item.payload))
    return out


# --- capture mutation --------------------------------------------------------

def base_captures(workdir: Path) -> list[Path]:
    """The samples, and a pcapng copy of each (the pcapng reader too)."""
    out = []
    for path in sorted(SAMPLES.glob("*.pcap")):
        out.append(path)
        ng = workdir / (path.stem + ".pcapng")
        subprocess.run(["editcap", "-F", "pcapng", str(path), str(ng)],
                       check=True, capture_output=True)
        out.append(ng)
    return out


def _truncate(src: Path, dst: Path, rng: random.Random) -> str:
    data = src.read_bytes()
    cut = rng.randrange(len(data))
    dst.write_bytes(data[:cut])
    return f"truncate to {cut} of {len(data)} octets"


def mutate_capture(src: Path, dst: Path, rng: random.Random,
                   kind: str | None = None) -> str:
    """Write a mutation of src to dst; return how, reproducibly."""
    kind = kind or rng.choice(MUTATIONS)
    if kind in ("editcap", "editcap+truncate"):
        rate = rng.choice(ERROR_RATES)
        seed = rng.randrange(1 << 31)
        subprocess.run(["editcap", "-E", str(rate), "--seed", str(seed),
                        str(src), str(dst)], check=True, capture_output=True)
        how = f"editcap -E {rate} --seed {seed} {src.name}"
        if kind == "editcap+truncate":
            how += "; " + _truncate(dst, dst, rng)
        return how
    if kind == "truncate":
        return f"{src.name}: " + _truncate(src, dst, rng)
    if kind == "snaplen":
        # Shorter than every FMIPv4 message: cut in the link, IP, UDP/ICMP
        # headers or the message itself.
        snaplen = rng.randrange(1, 80)
        subprocess.run(["editcap", "-s", str(snaplen), str(src), str(dst)],
                       check=True, capture_output=True)
        return f"editcap -s {snaplen} {src.name}"
    if kind == "message-soup":
        seed = rng.randrange(1 << 31)
        write_message_soup(dst, random.Random(seed))
        return f"message soup, seed {seed}"
    if kind == "overwrite":
        data = bytearray(src.read_bytes())
        count = rng.randint(1, 8)
        for _ in range(count):
            data[rng.randrange(len(data))] = rng.randrange(256)
        dst.write_bytes(bytes(data))
        return f"{src.name}: {count} random octets overwritten"
    raise ValueError(kind)


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(src: bytes, dst: bytes, proto: int, body: bytes) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0, 64,
                       proto, 0, src, dst)
    return head[:10] + struct.pack("!H", _ip_checksum(head)) + head[12:] + body


def write_message_soup(dst: Path, rng: random.Random,
                       count: int = 120) -> None:
    """A raw-IP pcap of mutated sample messages in intact IP/UDP/ICMP.

    editcap -E mostly breaks the link and IP headers, so few of its
    mutations reach a dissector intact; here every frame is a well-framed
    datagram carrying a mutated FMIPv4 message (mutate_message), with the
    ICMP checksum right half of the time (decision D2), so the Lua dissector
    and the checker see the message octets themselves broken.
    """
    from fmipdissect.wire.checksum import fmip_icmp_checksum
    messages = sample_messages()
    hosts = [bytes([10, 0, 0, 1]), bytes([10, 0, 0, 5]), bytes([10, 1, 0, 1]),
             bytes([10, 2, 0, 1])]
    records = []
    when = 1_700_000_000.0
    for _ in range(count):
        data = rng.choice(messages)
        for _ in range(rng.randint(0, 3)):
            data = mutate_message(rng, data)
        src, dst_addr = rng.sample(hosts, 2)
        when += rng.choice((0.001, 0.5, 5.0, -1.0, 70.0))
        if data[:1] in (b"\x14", b"\x15") or rng.random() < 0.2:
            body = struct.pack("!HHHH", 434, 434, 8 + len(data), 0) + data
            records.append((when, _ipv4(src, dst_addr, 17, body)))
        else:
            if len(data) >= 4 and rng.random() < 0.5:
                ck = fmip_icmp_checksum(data)
                data = data[:2] + struct.pack("!H", ck) + data[4:]
            records.append((when, _ipv4(src, dst_addr, 1, data)))
    with open(dst, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144,
                            LINKTYPE_RAW))
        for when, data in records:
            sec = int(when)
            f.write(struct.pack("<IIII", sec, int((when - sec) * 1e6),
                                len(data), len(data)) + data)


# --- the checks on one capture ------------------------------------------------

def check_tshark(path: Path, timeout: float = TSHARK_TIMEOUT,
                 lua: Path = LUA, lla_length: int | None = None,
                 two_pass: bool = False) -> str | None:
    """None, or what went wrong dissecting path with lua/fmip.lua
    (two_pass: tshark -2, the request/response links' second pass)."""
    prefs = [] if lla_length is None else ["-o",
                                           f"fmip.lla_length:{lla_length}"]
    if two_pass:
        prefs.append("-2")
    try:
        from fmipdissect.wireshark.tshark import isolated_env
        run = subprocess.run(   # no installed plugin, no user preference
            ["tshark", "-X", f"lua_script:{lua}", *prefs, "-r", str(path),
             "-V"], capture_output=True, timeout=timeout, env=isolated_env())
    except subprocess.TimeoutExpired:
        return f"tshark did not finish within {timeout:g} s"
    if run.returncode < 0:
        return f"tshark killed by signal {-run.returncode}"
    text = (run.stdout + run.stderr).decode("utf-8", "replace")
    for marker in LUA_FAILURE_MARKERS:
        at = text.find(marker)
        if at >= 0:
            line = text[text.rfind("\n", 0, at) + 1:text.find("\n", at)]
            return f"tshark output has {marker!r}: {line.strip()}"
    if run.returncode not in TSHARK_STATUSES:
        return (f"tshark exit status {run.returncode}: "
                f"{run.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    return None


def check_lint_batch(paths: list[Path],
                     command: tuple = (str(FMIP_LINT),),
                     lla_length: int = 6) -> str | None:
    """None, or what went wrong running the fmip-lint script on paths
    (once with --format json, once with text and --statistics)."""
    for form in ("json", "text"):
        extra = ["--statistics"] if form == "text" else []
        try:
            run = subprocess.run(
                [*command, "--format", form, *extra, "--no-progress",
                 "--keys", str(KEYS), "--lla-length", str(lla_length),
                 *map(str, paths)], capture_output=True, timeout=300)
        except subprocess.TimeoutExpired:
            return f"fmip-lint --format {form} did not finish within 300 s"
        err = run.stderr.decode("utf-8", "replace")
        if "Traceback" in err:
            return f"fmip-lint printed a traceback:\n{err[-2000:]}"
        if run.returncode not in LINT_STATUSES:
            return f"fmip-lint exit status {run.returncode}: {err[-500:]}"
        for line in err.splitlines():
            # one-line errors, and the one-line note about a capture
            # without any FMIPv4 message
            if not line.startswith(("fmip-lint: error: ", "fmip-lint: note: ")):
                return ("fmip-lint standard error line is not one error: "
                        f"{line!r}")
        if form == "json" and run.stdout.strip():
            try:
                report = json.loads(run.stdout)
            except ValueError as exc:
                return f"fmip-lint standard output is not JSON: {exc}"
            if not {"findings", "summary"} <= set(report):
                return "fmip-lint JSON lacks findings or summary"
    return None


def check_lint_inprocess(path: Path) -> str | None:
    """None, or the traceback of an exception other than InputError."""
    from fmipdissect.errors import InputError
    from fmipdissect.lint.engine import CaptureLint, LintConfig
    try:
        for _ in CaptureLint(str(path), LintConfig()):
            pass
    except InputError:
        return None
    except Exception:   # noqa: BLE001 - this is what we look for
        return traceback.format_exc()
    return None


def check_decode_inprocess(path: Path) -> str | None:
    """None, or what went wrong in `fmipdissect decode --format json`."""
    import contextlib
    import io
    from fmipdissect import cli
    for form in ("json", "text"):
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), \
                    contextlib.redirect_stderr(err):
                status = cli.main(["decode", "--format", form, str(path)])
        except Exception:   # noqa: BLE001
            return traceback.format_exc()
        text = err.getvalue()
        if status not in (0, 2) or "internal error" in text \
                or "Traceback" in text:
            return (f"fmipdissect decode --format {form} status {status}: "
                    f"{text[-1000:]}")
        if form == "json":
            try:
                json.loads(out.getvalue())
            except ValueError as exc:
                return f"fmipdissect decode JSON does not parse: {exc}"
    return None


def keep_capture(path: Path, how: str, what: str) -> Path:
    """Copy a failing capture into tests/fuzz/regressions/captures/."""
    CAPTURE_REGRESSIONS.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:12]
    kept = CAPTURE_REGRESSIONS / f"{digest}{path.suffix}"
    shutil.copyfile(path, kept)
    kept.with_suffix(kept.suffix + ".txt").write_text(
        f"made by: {how}\nfailure: {what}\n")
    return kept


def fuzz_captures(count: int, seconds: float, seed: int, jobs: int,
                  log=print, keep: bool = True) -> dict:
    """Mutate and check count captures (fewer if seconds run out)."""
    rng = random.Random(seed)
    started = time.monotonic()
    failures = []
    kinds: dict[str, int] = {}
    done = 0
    with tempfile.TemporaryDirectory(prefix="fmip-fuzz-") as tmp:
        tmpdir = Path(tmp)
        bases = base_captures(tmpdir)
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            while done < count and time.monotonic() - started < seconds:
                batch = []
                for i in range(min(LINT_BATCH, count - done)):
                    src = rng.choice(bases)
                    dst = tmpdir / f"m{done + i}{src.suffix}"
                    kind = rng.choice(MUTATIONS)
                    how = mutate_capture(src, dst, rng, kind)
                    kinds[kind] = kinds.get(kind, 0) + 1
                    batch.append((dst, how))
                # decision D3: the LLA length is a setting; vary it per batch
                lla = rng.choice(LLA_LENGTHS)
                two_pass = rng.random() < 0.5
                shark = pool.map(lambda item: check_tshark(
                    item[0], lla_length=lla, two_pass=two_pass), batch)
                for (path, how), problem in zip(batch, shark):
                    problem_lint = check_lint_inprocess(path)
                    problem_decode = check_decode_inprocess(path)
                    for what in (problem, problem_lint, problem_decode):
                        if what:
                            kept = keep_capture(path, how, what) if keep \
                                else path
                            failures.append((how, what, str(kept)))
                            log(f"FAIL {how}: {what.splitlines()[-1]}")
                problem = check_lint_batch([p for p, _ in batch],
                                           lla_length=lla)
                if problem:
                    # Name the files: the script on each one alone.
                    failures.append(("fmip-lint batch", problem, ""))
                    log(f"FAIL fmip-lint batch: {problem.splitlines()[0]}")
                    for path, how in batch:
                        what = check_lint_batch([path], lla_length=lla)
                        if what:
                            kept = keep_capture(path, how, what) if keep \
                                else path
                            failures.append((how, what, str(kept)))
                            log(f"FAIL {how}: {what.splitlines()[0]}")
                done += len(batch)
                for path, _ in batch:
                    path.unlink()
                log(f"captures: {done}/{count}, failures {len(failures)}, "
                    f"{time.monotonic() - started:.0f} s")
    return {"captures": done, "failures": failures, "kinds": kinds,
            "seconds": time.monotonic() - started}


# --- coverage-guided fuzzing of the decoder --------------------------------

def _atheris_worker(seconds: float, corpus: str, artifacts: str) -> None:
    """Run in a child process: libFuzzer until the budget or a crash."""
    import atheris
    with atheris.instrument_imports(include=["fmipdissect"]):
        _imports()

    def target(data: bytes) -> None:
        exercise_message(data)
        if len(data) > 1:
            exercise_message(data, lla_length=1 + data[-1] % 16)

    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}",
                   f"-artifact_prefix={artifacts}/", "-timeout=10",
                   "-rss_limit_mb=2048", "-print_final_stats=1", corpus],
                  target)
    atheris.Fuzz()


def fuzz_decoder(seconds: float, seed: int, log=print) -> dict:
    """atheris for `seconds` (restarting after each crash found)."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        log("atheris is not installed (.venv/bin/pip install atheris): "
            "running the random-mutation loop instead")
        return fuzz_decoder_random(seconds, seed, log)
    crashes = []
    runs = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fmip-atheris-") as tmp:
        corpus = Path(tmp) / "corpus"
        artifacts = Path(tmp) / "artifacts"
        corpus.mkdir()
        artifacts.mkdir()
        for i, data in enumerate(sample_messages()):
            (corpus / f"sample{i}").write_bytes(data)
        for path in sorted(DECODER_REGRESSIONS.glob("*.bin")):
            shutil.copy(path, corpus / path.name)
        while True:
            left = seconds - (time.monotonic() - started)
            if left < 1:
                break
            run = subprocess.run(
                [sys.executable, __file__, "--atheris-worker", str(left),
                 str(corpus), str(artifacts)], capture_output=True,
                text=True, cwd=ROOT)
            for line in run.stderr.splitlines():
                if line.startswith("stat::number_of_executed_units"):
                    runs += int(line.split(":")[-1])
            found = sorted(artifacts.iterdir())
            if run.returncode == 0 and not found:
                break
            if not found:
                crashes.append(("atheris exited "
                                f"{run.returncode}", run.stderr[-2000:]))
                log(f"FAIL atheris exited {run.returncode} without an "
                    f"artifact:\n{run.stderr[-2000:]}")
                break
            for artifact in found:
                data = artifact.read_bytes()
                kept = keep_decoder_input(data, run.stderr[-3000:])
                crashes.append((str(kept), run.stderr[-1000:]))
                log(f"FAIL decoder input kept as {kept}")
                shutil.copy(artifact, corpus / artifact.name)
                artifact.unlink()
    return {"engine": "atheris", "runs": runs, "crashes": crashes,
            "seconds": time.monotonic() - started}


def keep_decoder_input(data: bytes, why: str) -> Path:
    DECODER_REGRESSIONS.mkdir(parents=True, exist_ok=True)
    kept = DECODER_REGRESSIONS / f"{hashlib.sha1(data).hexdigest()[:12]}.bin"
    kept.write_bytes(data)
    kept.with_suffix(".txt").write_text(why)
    return kept


def mutate_message(rng: random.Random, data: bytes) -> bytes:
    """One to four octet-level edits: overwrite, insert, delete, cut, splice."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        if op == 0 and buf:
            buf[rng.randrange(len(buf))] = rng.choice(
                (0, 1, 0xFF, rng.randrange(256)))
        elif op == 1:
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = rng.randbytes(rng.randint(1, 16))
        elif op == 2 and buf:
            at = rng.randrange(len(buf))
            del buf[at:at + rng.randint(1, 8)]
        elif op == 3 and buf:
            del buf[rng.randrange(len(buf)):]
        else:
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = buf[rng.randrange(len(buf) + 1):][:24]
    return bytes(buf)


def fuzz_decoder_random(seconds: float, seed: int, log=print,
                        max_runs: int | None = None) -> dict:
    """The fallback: random mutations of the sample messages, bounded."""
    rng = random.Random(seed)
    pool = sample_messages()
    crashes = []
    runs = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds and (
            max_runs is None or runs < max_runs):
        data = mutate_message(rng, rng.choice(pool))
        runs += 1
        try:
            exercise_message(data)
        except Exception:   # noqa: BLE001
            kept = keep_decoder_input(data, traceback.format_exc())
            crashes.append((str(kept), traceback.format_exc()))
            log(f"FAIL decoder input kept as {kept}")
        if runs % 64 == 0 and len(pool) < 4096:
            pool.append(data)
    return {"engine": "random mutation", "runs": runs, "crashes": crashes,
            "seconds": time.monotonic() - started}


# --- command line ---------------------------------------------------------------

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--atheris-worker"]:
        _atheris_worker(float(argv[1]), argv[2], argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=2000,
                        help="mutated captures to check (default 2000)")
    parser.add_argument("--seconds", type=float, default=3600,
                        help="stop making captures after this many seconds "
                        "(default 3600)")
    parser.add_argument("--atheris-seconds", type=float, default=120,
                        help="coverage-guided decoder fuzzing budget "
                        "(default 120; 0 skips it)")
    parser.add_argument("--seed", type=int, default=4988)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="tshark processes in parallel")
    args = parser.parse_args(argv)
    if shutil.which("tshark") is None or shutil.which("editcap") is None:
        print("fuzz: tshark and editcap are required (wireshark-common)",
              file=sys.stderr)
        return 2
    failed = 0
    if args.atheris_seconds > 0:
        print(f"== decoder: coverage-guided, {args.atheris_seconds:g} s ==",
              flush=True)
        dec = fuzz_decoder(args.atheris_seconds, args.seed,
                           log=lambda s: print(s, flush=True))
        print(f"decoder: {dec['engine']}, {dec['runs']} inputs, "
              f"{len(dec['crashes'])} crashes, {dec['seconds']:.0f} s",
              flush=True)
        failed += len(dec["crashes"])
    print(f"== captures: {args.captures} mutated captures ==", flush=True)
    cap = fuzz_captures(args.captures, args.seconds, args.seed, args.jobs,
                        log=lambda s: print(s, flush=True))
    print(f"captures: {cap['captures']} checked "
          f"({', '.join(f'{k} {v}' for k, v in sorted(cap['kinds'].items()))}),"
          f" {len(cap['failures'])} failures, {cap['seconds']:.0f} s")
    if cap["captures"] < args.captures:
        print(f"captures: stopped by --seconds after {cap['captures']}")
    failed += len(cap["failures"])
    if failed:
        print(f"{failed} failures; inputs kept under {REGRESSIONS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
