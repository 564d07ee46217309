"""fmipdissect: packet analysis for Mobile IPv4 Fast Handovers (RFC 4988).

The Python API (docs/api.md):

    fmipdissect.check(source, *, keys=None, select=None, ignore=None,
                      lla_length=6)      -> the findings of fmip-lint
    fmipdissect.handovers(source, *, keys=None, lla_length=6)
                                         -> the handover records (decision D13)
    fmipdissect.InputError               what a bad capture or option raises

`source` is a path, a binary file object, the bytes of a capture or Scapy
packets.  Importing the package loads nothing else: each name is imported
when first used (PEP 562), so `import fmipdissect` stays cheap and pulls in
neither Scapy nor jinja2.
"""

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "check": "fmipdissect.api",
    # the subpackage itself: a callable module (fmipdissect.handovers(source))
    "handovers": "fmipdissect.handovers",
    "Finding": "fmipdissect.records",
    "InputError": "fmipdissect.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(_LAZY[name])
        value = module if module.__name__ == f"{__name__}.{name}" else \
            getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fmipdissect' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

