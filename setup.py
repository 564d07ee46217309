"""Builds the optional C accelerators of the capture readers:
fmipdissect/capture/_skip.c (the fast path of the FMIPv4 reader) and
fmipdissect/capture/_sieve.c (the merge's reader of every IPv4 datagram).
Everything else is in pyproject.toml.  `optional=True`: without a C
compiler the build goes on and fmipdissect runs its pure-Python paths
(capture/accel.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(f"fmipdissect.capture.{name}",
                             [f"fmipdissect/capture/{name}.c"],
                             extra_compile_args=["-O2"], optional=True)
                   for name in ("_skip", "_sieve")])
