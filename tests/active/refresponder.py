"""A reference PAR and NAR of the tests' own, with switchable bugs.

Written from RFC 4988 with plain sockets and struct, sharing no code with
fmipdissect (not its layers, decoder or emulators), so that the prober is
judged against an implementation it did not shape.  One process serves
many instances; each instance is a PAR address and a NAR address (each with
an alias address on its link, for the wrong-source bugs) and a set of bugs.

    python refresponder.py CONFIG.json     (inside a network namespace)

CONFIG: {"key": HEX, "spi": N, "instances": [{"par": A, "par_alias": A2,
"nar": B, "nar_alias": B2, "ap": MAC, "peer_nar": ADDR, "ncoa": ADDR,
"bugs": [NAME, ...]}]}.  It prints "ready" once its sockets are bound.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import select
import socket
import struct
import sys
import time

ICMP_FMIP, RTSOLPR, PRRTADV, HI, HACK = 41, 6, 7, 8, 9
FBU, FBACK, AUTH_EXT, MN_PAR = 20, 21, 36, 4
HACK_WAIT = 0.3           # s PAR waits for a HAck before refusing
NAR_MAC = bytes.fromhex("0200000000aa")
MN_MAC = bytes.fromhex("0200000000bb")


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp(code, subtype, flags, ident, options, bad_sum=False) -> bytes:
    """RFC 4988 5.3-5.6; the checksum with Reserved zeroed (HI: S and U
    stay)."""
    body = struct.pack("!BBHBBH", ICMP_FMIP, code, 0, subtype, flags,
                       ident) + options
    zeroed = body[:5] + bytes([flags & 0xC0 if subtype == HI else 0]) \
        + body[6:]
    c = csum(zeroed) ^ (0x0F0F if bad_sum else 0)
    return body[:2] + struct.pack("!H", c) + body[4:]


def lla(code, mac: bytes, pad1=False) -> bytes:
    """RFC 4988 6.1: 6-octet LLA, padded to 16 with PadN (Pad1 if pad1)."""
    pad = b"\0" * 7 if pad1 else b"\x01\x05" + b"\0" * 5
    return bytes([20, 2, code]) + mac + pad


def addr_opt(code, addr: str) -> bytes:
    return bytes([21, 1, code, 0]) + socket.inet_aton(addr)


def prefix_opt(plen=24) -> bytes:
    return bytes([22, 1, 0, plen, 0, 0, 0, 0])


def options(data: bytes):
    """(type, option-code, value) of each ICMP option."""
    out, i = [], 0
    while i + 2 <= len(data) and data[i + 1]:
        t, n = data[i], data[i + 1] * 8
        o = data[i:i + n]
        if t == 20:
            out.append((t, o[2], o[3:9]))
        elif t == 21 and len(o) >= 8:
            out.append((t, o[2], socket.inet_ntoa(o[4:8])))
        i += n
    return out


def mac_of(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


class Instance:
    def __init__(self, cfg, key, spi):
        self.__dict__.update(cfg)
        self.bugs = set(cfg.get("bugs", ()))
        self.key, self.spi = key, spi
        self.hi_id = 100
        self.pending = {}         # (nar, hi id) -> FBU state
        self.seen = set()         # (home, ident): replay protection
        self.pool, self.ncoas = 0, {}
        self.forwarded = {}       # (home, ident) -> (mn, port)

    def has(self, bug):
        return bug in self.bugs


class Responder:
    def __init__(self, config):
        key = bytes.fromhex(config["key"])
        self.insts = [Instance(c, key, config["spi"])
                      for c in config["instances"]]
        self.by_addr = {}
        self.raw = {}
        self.udp = {}
        self.icmp_in = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                     socket.IPPROTO_ICMP)
        for inst in self.insts:
            for role in ("par", "nar"):
                for name in (role, role + "_alias"):
                    a = getattr(inst, name)
                    self.by_addr[a] = (inst, role)
                    r = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                      socket.IPPROTO_ICMP)
                    r.bind((a, 0))
                    self.raw[a] = r
                a = getattr(inst, role)
                for port in (434, 0):     # 0: an ephemeral port
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.bind((a, port))
                    self.udp[(a, port)] = u

    # sending -------------------------------------------------------------
    def send_icmp(self, src, dst, msg):
        try:
            self.raw[src].sendto(msg, (dst, 0))
        except OSError:           # no route (a CoA that is no NAR)
            pass

    def send_udp(self, src, dst, dport, data, ephemeral=False):
        try:
            self.udp[(src, 0 if ephemeral else 434)].sendto(data,
                                                            (dst, dport))
        except OSError:
            pass

    # PAR -----------------------------------------------------------------
    def rtsolpr(self, i, src, code_, ident, opts, bad):
        if bad and not i.has("par-no-checksum-check"):
            return
        aps = [v for t, c, v in opts if t == 20 and c in (0, 1)]
        wildcard = any(c == 0 for t, c, v in opts if t == 20)
        known = {mac_of(i.ap): i.peer_nar}
        parts, unknown = [], []
        for ap in (list(known) if wildcard else aps):
            if ap in known:
                t = lla(1, ap, i.has("prrtadv-pad1")) + lla(3, NAR_MAC)
                if not i.has("prrtadv-no-nar-ip"):
                    t += addr_opt(3, known[ap])
                if not i.has("prrtadv-no-prefix"):
                    t += prefix_opt()
                parts.append(t)
            else:
                unknown.append(lla(7 if i.has("reason-7") else 6, ap))
        if parts and unknown:
            code = 0 if i.has("prrtadv-no-code3") else 3
            if i.has("prrtadv-no-code3"):
                unknown = []
        elif parts:
            code = 0
        else:
            code = 0 if i.has("prrtadv-unknown-code0") else 2
            if i.has("prrtadv-unknown-code0"):
                unknown = []
        ident = 0 if i.has("prrtadv-id-zero") else ident
        msg = icmp(code, PRRTADV, 0, ident, b"".join(parts + unknown),
                   i.has("prrtadv-bad-checksum"))
        self.send_icmp(i.par_alias if i.has("prrtadv-wrong-src") else i.par,
                       src, msg)

    def auth_ok(self, i, data):
        off = 24
        while off + 2 <= len(data):
            if data[off] == AUTH_EXT:
                length, spi = struct.unpack_from("!HI", data, off + 2)
                given = data[off + 8:off + 4 + length]
                mac = hmac.new(i.key, data[:off + 8], hashlib.md5).digest()
                return spi == i.spi and hmac.compare_digest(mac, given)
            off += 2 + data[off + 1]
        return False

    def fbu(self, i, src, sport, data):
        if len(data) < 24 or data[0] != FBU:
            return
        _, _, life, home, ha, coa, ident = struct.unpack_from(
            "!BBH4s4s4sQ", data)
        home, coa = socket.inet_ntoa(home), socket.inet_ntoa(coa)
        if not i.has("par-no-auth-check") and not self.auth_ok(i, data):
            return
        if (home, ident) in i.seen and not i.has("par-no-replay-check"):
            return                # RFC 3344 replay protection
        i.seen.add((home, ident))
        granted = life if i.has("lifetime-unclamped") else min(life, 10)
        if i.has("short-lifetime"):
            granted = min(granted, 2)
        st = dict(src=src, sport=sport, home=home, coa=coa, ident=ident,
                  life=granted, predictive=src == home,
                  deadline=time.monotonic() + HACK_WAIT)
        if i.has("policy-129"):
            return self.fback(i, st, 129)
        if coa != i.peer_nar:
            return self.fback(i, st, 0 if i.has("any-coa") else 128)
        i.hi_id += 1
        i.pending[(coa, i.hi_id)] = st
        if i.has("fback-before-hack"):
            self.fback(i, st, 0)
        if i.has("ipsec"):
            return                # the HI would go in ESP: none in clear
        code = 0 if st["predictive"] or i.has("hi-code0-forwarded") else 1
        flags = 0xC0 if code == 0 else 0
        if not st["predictive"] and i.has("hi-s-forwarded"):
            flags = 0x80
        if not st["predictive"] and i.has("hi-u-forwarded"):
            flags = 0x40
        opts = lla(2, MN_MAC)
        if not i.has("hi-no-pcoa"):
            opts += addr_opt(1, home)
        self.send_icmp(i.par_alias if i.has("hi-wrong-src") else i.par, coa,
                       icmp(code, HI, flags, i.hi_id, opts))

    def hack(self, i, src, code, ident, opts):
        st = i.pending.pop((src, ident), None)
        if st is None or st.get("done"):
            return
        if code >= 128 and not i.has("ignore-hack-code"):
            return self.fback(i, st, code)
        ncoa = next((v for t, c, v in opts if t == 21 and c == 2), None)
        if i.has("invent-ncoa") and ncoa is None:
            ncoa = "198.18.99.99"
        if i.has("fback-drops-ncoa"):
            ncoa = None
        self.fback(i, st, 1 if ncoa else 0, ncoa)

    def fback(self, i, st, code, ncoa=None):
        if st.get("done"):
            return
        st["done"] = True
        ident = st["ident"] ^ (1 if i.has("fback-wrong-ident") else 0)
        ha = "0.0.0.0" if i.has("fback-ha-zero") else i.par
        life = st["life"] if code < 128 else 0
        msg = struct.pack("!BBH4s4sQ", FBACK, code, life,
                          socket.inet_aton(st["home"]), socket.inet_aton(ha),
                          ident)
        if ncoa:
            msg += addr_opt(2, ncoa)     # before the authenticator (D4)
        if not i.has("fback-no-auth"):
            msg += struct.pack("!BBHI", AUTH_EXT, MN_PAR, 20, i.spi)
            msg += hmac.new(i.key, msg, hashlib.md5).digest()
        port = 434 if i.has("fback-to-434") else st["sport"]
        eph = i.has("ephemeral")
        self.send_udp(i.par, st["src"], port, msg, eph)
        if st["predictive"] and code < 128 and not i.has("no-fback-copy"):
            self.send_udp(i.par, st["coa"], 434, msg, eph)

    def tick(self):
        now = time.monotonic()
        for i in self.insts:
            for k, st in list(i.pending.items()):
                if st["deadline"] < now:
                    del i.pending[k]
                    self.fback(i, st, 0 if i.has("accept-without-hack")
                               else 128)

    # NAR -----------------------------------------------------------------
    def hi(self, i, src, code, flags, ident, opts, bad):
        if i.has("ipsec") or (bad and not i.has("nar-no-checksum-check")):
            return
        pcoa = next((v for t, c, v in opts if t == 21 and c == 1), None)
        s_set = bool(flags & 0x80)
        out, hcode = b"", 0
        if s_set and pcoa:
            if pcoa not in i.ncoas:
                i.pool += 1
                base = i.ncoa.rsplit(".", 1)
                i.ncoas[pcoa] = f"{base[0]}.{int(base[1]) + i.pool}"
            ncoa = i.ncoas[pcoa]
            if i.has("same-ncoa"):
                ncoa = i.ncoa
            if i.has("ncoa-is-pcoa"):
                ncoa = pcoa
            hcode = 3
            if not i.has("hack-no-ncoa"):
                out = addr_opt(2, ncoa)
        if (not s_set and code == 0 and i.has("reject-no-s")) or \
                (code == 1 and i.has("reject-reactive")):
            hcode, out = 128, b""
        if i.has("hack-code-5"):
            hcode = 5
        ident = ident ^ (2 if i.has("hack-wrong-id") else 0)
        self.send_icmp(i.nar_alias if i.has("hack-wrong-src") else i.nar,
                       src, icmp(hcode, HACK, 0, ident, out,
                                 i.has("hack-bad-checksum")))

    def nar_udp(self, i, src, sport, data):
        if len(data) < 20:
            return
        if data[0] == FBU and len(data) >= 24:
            home, ha, coa = (socket.inet_ntoa(data[k:k + 4])
                             for k in (4, 8, 12))
            ident = struct.unpack_from("!Q", data, 16)[0]
            if src != home or coa != i.nar or i.has("no-forward"):
                return
            i.forwarded[(home, ident)] = (src, sport)
            out = data
            if i.has("forward-changed"):
                out = data[:2] + b"\0\x03" + data[4:]
            self.send_udp(i.nar, ha, 434, out, i.has("ephemeral"))
        elif data[0] == FBACK:
            home = socket.inet_ntoa(data[4:8])
            ident = struct.unpack_from("!Q", data, 12)[0]
            mn = i.forwarded.pop((home, ident), None)
            if mn is None or i.has("fback-not-passed"):
                return
            port = 434 if i.has("fback-passed-to-434") else mn[1]
            self.send_udp(i.nar, mn[0], port, data, i.has("ephemeral"))

    # loop ----------------------------------------------------------------
    def on_icmp(self, packet):
        ihl = (packet[0] & 0x0F) * 4
        src = socket.inet_ntoa(packet[12:16])
        dst = socket.inet_ntoa(packet[16:20])
        m = packet[ihl:]
        if len(m) < 8 or m[0] != ICMP_FMIP or dst not in self.by_addr:
            return
        inst, role = self.by_addr[dst]
        if dst != getattr(inst, role):
            return                # the alias answers nothing
        code, given, sub, flags, ident = struct.unpack_from("!BHBBH", m, 1)
        zeroed = m[:2] + b"\0\0" + m[4:5] + bytes(
            [flags & 0xC0 if sub == HI else 0]) + m[6:]
        bad = csum(zeroed) != given
        opts = options(m[8:])
        if role == "par" and sub == RTSOLPR:
            self.rtsolpr(inst, src, code, ident, opts, bad)
        elif role == "par" and sub == HACK and not bad:
            self.hack(inst, src, code, ident, opts)
        elif role == "nar" and sub == HI:
            self.hi(inst, src, code, flags, ident, opts, bad)

    def run(self):
        socks = [self.icmp_in] + list(self.udp.values())
        names = {s: k for k, s in self.udp.items()}
        print("ready", flush=True)
        while True:
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                if s is self.icmp_in:
                    self.on_icmp(s.recv(65535))
                    continue
                data, (src, sport) = s.recvfrom(65535)
                inst, role = self.by_addr[names[s][0]]
                if role == "par":
                    self.fbu(inst, src, sport, data)
                else:
                    self.nar_udp(inst, src, sport, data)
            self.tick()


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        Responder(json.load(f)).run()
