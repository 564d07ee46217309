"""Live capture: `fmip-lint -i IFACE` and `fmipdissect handovers -i IFACE`.

dumpcap (Wireshark's capture tool, Debian package wireshark-common) captures
on the interface and writes pcapng to a pipe; a thread copies what it writes
to a second pipe, which the command reads as it reads any capture, and to
the --save file when one is given.  --duration S stops dumpcap after S
seconds (SIGTERM: it ends its pcapng cleanly); without it, Ctrl-C stops.
dumpcap runs in a session of its own, so it is stopped by its process id
when the command ends, however it ends.
"""

from __future__ import annotations

import os
import struct

from .errors import InputError, one_line

CHUNK = 1 << 16
STOP_WAIT = 5.0              # seconds dumpcap gets to finish after SIGTERM


def add_live_arguments(parser) -> None:
    """-i IFACE, --duration S, --save FILE (this module is otherwise
    imported only when -i is given: start-up)."""
    live = parser.add_argument_group("live capture (dumpcap)")
    live.add_argument("-i", "--interface", metavar="IFACE",
                      help="capture on IFACE with dumpcap instead of reading "
                      "files; results print as they happen")
    live.add_argument("--duration", type=float, metavar="S",
                      help="with -i: stop after S seconds (default: Ctrl-C)")
    live.add_argument("--save", metavar="FILE",
                      help="with -i: also keep the capture in FILE (pcapng)")


def no_live_options(args) -> None:
    """--duration and --save without -i: one line, status 2."""
    if args.duration is not None or args.save is not None:
        raise InputError("--duration and --save go with -i IFACE")


def _check(args) -> str:
    """dumpcap's path; InputError for options that cannot work."""
    if args.captures:
        raise InputError("-i IFACE captures live: give no CAPTURE files")
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration}: must be more than 0 "
                         f"seconds")
    iface = args.interface
    if (iface != "any" and os.path.isdir("/sys/class/net")
            and not os.path.exists(os.path.join("/sys/class/net", iface))):
        raise InputError(f"-i {iface}: no such network interface")
    import shutil
    dumpcap = shutil.which("dumpcap")
    if dumpcap is None:
        raise InputError("-i needs dumpcap (Debian package wireshark-common)")
    if args.save is not None:
        from .output import check_target
        check_target(args.save, "capture", "--save")
    return dumpcap


TICK = 1.0          # seconds of a quiet link between two clock ticks


class _Blocks:
    """Where dumpcap's pcapng stream stands: between two blocks, or inside
    one (how many octets of it are still to come)."""

    def __init__(self, first: bytes):
        # the Section Header's byte-order magic (octets 8-11) sets the order
        self.endian = "<" if first[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        self.head = b""
        self.left = 0

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            if self.left:
                take = min(self.left, n - i)
                self.left -= take
                i += take
                continue
            take = min(8 - len(self.head), n - i)
            self.head += data[i:i + take]
            i += take
            if len(self.head) == 8:
                length = struct.unpack(self.endian + "I", self.head[4:])[0]
                self.left, self.head = max(length - 8, 0), b""

    def tick(self) -> bytes | None:
        """An Interface Statistics Block of interface 0 (pcapng), when the
        stream stands between two blocks: the reader takes it as a tick of
        the wall clock (capture/pcapng.py)."""
        if self.left or self.head:
            return None
        return struct.pack(self.endian + "IIIIII", 5, 24, 0, 0, 0, 24)


class _Pump:
    """Copies dumpcap's output to the reader's pipe and the --save file,
    in a thread; while the link is quiet it sends the reader a clock tick
    every TICK seconds (never to the --save file), so that requests expire
    on the wall clock."""

    def __init__(self, source: int, sink: int, save, first: bytes):
        import threading
        self.source, self.sink, self.save, self.first = source, sink, save, first
        self.blocks = _Blocks(first)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        import select
        data = self.first
        try:
            while data:
                if self.save is not None:
                    self.save.write(data)
                    self.save.flush()
                os.write(self.sink, data)
                self.blocks.feed(data)
                while not select.select([self.source], [], [], TICK)[0]:
                    tick = self.blocks.tick()
                    if tick is not None:
                        os.write(self.sink, tick)
                data = os.read(self.source, CHUNK)
        except OSError:          # the reader went away: stop copying
            pass
        finally:
            os.close(self.sink)


def _first_output(proc, errors) -> bytes:
    """dumpcap's first octets (its pcapng header); InputError with its own
    words when it ends without writing any (no permission, bad filter)."""
    first = os.read(proc.stdout.fileno(), CHUNK)
    if first:
        return first
    proc.wait()
    errors.seek(0)
    lines = [line.strip() for line in errors.read().decode(
        "utf-8", "replace").splitlines() if line.strip()]
    said = next((line for line in reversed(lines)
                 if not line.startswith("Capturing on")), "no output")
    raise InputError(f"dumpcap could not capture: {one_line(said)}")


class live_capture:
    """`with live_capture(args) as names`: dumpcap runs on args.interface;
    args.captures becomes the pipe's path, and names maps it to the
    interface's name (the "file" of findings and handovers)."""

    def __init__(self, args):
        self.args = args
        self.parts = None

    def __enter__(self):
        self.parts = _start(self.args)
        return self.parts[0]

    def __exit__(self, *exc) -> bool:
        _stop(*self.parts[1:])
        return False


def _start(args):
    """dumpcap started and its output flowing: (names, then what _stop
    needs); on a failure dumpcap is stopped before the error goes up."""
    import subprocess
    import tempfile
    import threading
    dumpcap = _check(args)
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen([dumpcap, "-i", args.interface, "-q", "-w", "-"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=errors, start_new_session=True)
    save = timer = pump = read_end = None
    try:
        first = _first_output(proc, errors)
        if args.save is not None:
            try:
                save = open(args.save, "wb")
            except OSError as exc:
                raise InputError(f"--save {args.save}: "
                                 f"{exc.strerror or exc}") from None
        read_end, write_end = os.pipe()
        pump = _Pump(proc.stdout.fileno(), write_end, save, first)
        if args.duration is not None:
            timer = threading.Timer(args.duration, proc.terminate)
            timer.daemon = True
            timer.start()
        path = f"/dev/fd/{read_end}"
        args.captures = [path]
        return {path: args.interface}, proc, timer, pump, save, errors, \
            read_end
    except BaseException:
        _stop(proc, timer, pump, save, errors, read_end)
        raise


def _stop(proc, timer, pump, save, errors, read_end) -> None:
    """dumpcap (ours, by its id) ended, the pump joined, files closed."""
    if timer is not None:
        timer.cancel()
    import subprocess
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if read_end is not None:
        # what the reader left (it stopped early): drained, so that the
        # pump never blocks on a full pipe; it ends when dumpcap has
        while os.read(read_end, CHUNK):
            pass
        os.close(read_end)
    if pump is not None:
        pump.thread.join(STOP_WAIT)
    proc.stdout.close()
    if save is not None:
        save.close()
    errors.close()
