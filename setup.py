"""Builds the optional C accelerator of the capture fast path
(fmipdissect/capture/_skip.c).  Everything else is in
pyproject.toml.  `optional=True`: without a C compiler the build goes on
and fmipdissect runs on its pure-Python path (capture/accel.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("fmipdissect.capture._skip",
                             ["fmipdissect/capture/_skip.c"],
                             extra_compile_args=["-O2"], optional=True)])
