"""fmipdissect: packet analysis for Mobile IPv4 Fast Handovers (RFC 4988).

The Python API (docs/api.md):

    fmipdissect.check(source, *, keys=None, select=None, ignore=None,
                      lla_length=6)      -> the findings of fmip-lint
    fmipdissect.handovers(source, *, keys=None, lla_length=6)
                                         -> the handover records (decision D13)
    fmipdissect.merged_handovers(captures, *, clocks=None, keys=None,
                                 lla_length=6)
                                         -> (records, summary) of several
                                            vantage points
    fmipdissect.InputError               what a bad capture or option raises

`source` is a path, a binary file object, the bytes of a capture or Scapy
packets.  Importing the package loads nothing else: each name is imported
when first used (PEP 562), so `import fmipdissect` stays cheap and pulls in
neither Scapy nor jinja2.
"""

import sys

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "check": "fmipdissect.api",
    "handovers": "fmipdissect.api",
    "merged_handovers": "fmipdissect.api",
    "Finding": "fmipdissect.records",
    "InputError": "fmipdissect.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fmipdissect' has no attribute {name!r}")


class _Package(type(sys)):
    """The type of this module.  `handovers` names both the API function and
    the subpackage fmipdissect.handovers; importing a subpackage sets the
    parent's attribute to the submodule, after the subpackage has run, so
    the attribute is kept here: a module assigned to `handovers` is not
    stored, and the name stays the function fmipdissect.api.handovers
    (imported on first use by __getattr__, as before).  The subpackage is
    in sys.modules, so `import fmipdissect.handovers.records` and `from
    fmipdissect.handovers.records import HandoverRecord` work."""

    def __setattr__(self, name: str, value) -> None:
        if name == "handovers" and isinstance(value, type(sys)):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

