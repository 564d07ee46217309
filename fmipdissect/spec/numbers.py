"""IP protocol numbers (the IPv4 Protocol / IPv6 Next Header octet).

The one place the project defines them: the capture reader, the decoder,
the checker, the generator and the emulators import them from here.  The C
accelerator (capture/_skip.c) repeats ICMP and UDP as literals and names
this module.  Values from the IANA "Assigned Internet Protocol Numbers"
registry.
"""

from __future__ import annotations

IPPROTO_ICMP = 1        # RFC 792; FMIPv4 RtSolPr, PrRtAdv, HI, HAck (RFC 4988 5.3-5.6)
IPPROTO_IPIP = 4        # IPv4 in IPv4 (RFC 2003)
IPPROTO_TCP = 6         # RFC 9293
IPPROTO_UDP = 17        # RFC 768; FMIPv4 FBU, FBAck (RFC 4988 5.1, 5.2)
IPPROTO_IPV6 = 41       # IPv6 in IPv4 (RFC 4213)
IPPROTO_GRE = 47        # RFC 2784
IPPROTO_ESP = 50        # IPsec ESP (RFC 4303); RFC 4988 7 asks it for HI/HAck

# IPv6 extension headers the link-layer walk steps over (RFC 8200 4)
IPPROTO_HOPOPTS = 0     # hop-by-hop options
IPPROTO_ROUTING = 43    # routing header
IPPROTO_DSTOPTS = 60    # destination options
