"""The network of `fmipdissect gen --vantage`: four nodes and four links.

The same shape as `fmipdissect lab` (active/lab.py), with addresses from
RFC 2544's benchmarking range, 198.18.0.0/15:

    MN 198.18.1.10 --old link-- PAR 198.18.1.1
       (its PCoA)                   198.18.0.1/30 --PAR-NAR link-- NAR 198.18.0.2
                                    198.18.3.1 --CN link-- CN 198.18.3.10
    MN --new link-- NAR 198.18.2.1

Each node captures on all of its links (the MN on its old and its new link,
into one file).  A link has two ends; an end is a node with the link-layer
and IP address it has there.
"""

from __future__ import annotations

from dataclasses import dataclass

# Nodes, in the order their captures are listed (the MN first: it is the
# reference clock, decision D23).
NODES = ("mn", "par", "nar", "cn")

PCOA = "198.18.1.10"           # the MN's previous care-of address
PAR_ADDR = "198.18.1.1"        # PAR on the MN's old link
NAR_ADDR = "198.18.2.1"        # NAR on the MN's new link
PAR_TUNNEL = "198.18.0.1"      # PAR's end of the PAR-NAR link (/30)
NAR_TUNNEL = "198.18.0.2"      # NAR's end
PAR_CN_SIDE = "198.18.3.1"     # PAR on the CN's link
CN_ADDR = "198.18.3.10"
NCOA = "198.18.2.100"          # first address of NAR's NCoA pool
AP_MAC = "02:00:00:cc:00:02"   # the new access point (New AP LLA option)


@dataclass(frozen=True)
class End:
    node: str
    mac: str
    addr: str
    iface: str                 # the interface's name (the lab's)


@dataclass(frozen=True)
class Link:
    name: str
    a: End
    b: End

    def end(self, node: str) -> End:
        return self.a if node == self.a.node else self.b

    def peer(self, node: str) -> End:
        return self.b if node == self.a.node else self.a


# The MACs and interface names are the lab's (active/lab.py and its CN
# link).
LINKS = {link.name: link for link in (
    Link("mn-par", End("mn", "02:00:00:aa:00:01", PCOA, "fmip-old"),
         End("par", "02:00:00:bb:00:01", PAR_ADDR, "fmip-mn")),
    Link("mn-nar", End("mn", "02:00:00:aa:00:02", PCOA, "fmip-new"),
         End("nar", "02:00:00:bb:00:02", NAR_ADDR, "fmip-mn")),
    Link("par-nar", End("par", "02:00:00:bb:01:01", PAR_TUNNEL, "fmip-nar"),
         End("nar", "02:00:00:bb:01:02", NAR_TUNNEL, "fmip-par")),
    Link("par-cn", End("par", "02:00:00:bb:02:01", PAR_CN_SIDE, "fmip-cn"),
         End("cn", "02:00:00:dd:00:01", CN_ADDR, "fmip-par")),
)}


def pool_address(index: int) -> str:
    """The index-th (1-based) address of NAR's NCoA pool, NCOA up to .254
    and round again: the baseline's care-of address in handover `index` (a
    new one per visit, decision D25: a registration from the same care-of
    address is no move)."""
    prefix, first = NCOA.rsplit(".", 1)
    size = 255 - int(first)
    return f"{prefix}.{int(first) + (index - 1) % size}"


def links_of(node: str) -> tuple[str, ...]:
    return tuple(name for name, link in LINKS.items()
                 if node in (link.a.node, link.b.node))
