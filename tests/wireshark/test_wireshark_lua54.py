"""lua/fmip.lua under a real Lua 5.4 interpreter (what Wireshark 4.4 embeds).

No Wireshark 4.4 is installed here, so a small stand-in of the Wireshark Lua
API (below, in Lua) loads the generated dissector into Debian's lua5.4 and
runs it over every message of the samples and of the violations capture.
The stand-in hands numbers over as floats (the worst case for Lua 5.3+
text conversion).  Each message's Info column and expert rule ids must be
exactly what the real tshark 4.0 (Lua 5.2) shows for the same frame, and no
Lua error may occur.  This proves the Lua 5.4 semantics of the file (integer
vs float, removed functions); the API stand-in is not Wireshark, so the
field values themselves are proven in the tshark tests.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.utils import rdpcap
from wireshark_common import T, require_tool

ROOT = Path(__file__).resolve().parents[2]
LUA = ROOT / "lua" / "fmip.lua"

HARNESS = r'''
-- A minimal stand-in for Wireshark's Lua API: enough to load lua/fmip.lua
-- and run its dissectors on raw messages.
local function float(n) return n + 0.0 end   -- worst case: floats everywhere
base = {DEC = 1, HEX = 2, NONE = 3, ASCII = 4, UNIT_STRING = 0x1000, COLON = 5}
expert = {severity = {ERROR = 1, WARN = 2, NOTE = 3},
          group = {MALFORMED = 1, CHECKSUM = 2, SEQUENCE = 3, PROTOCOL = 4}}
local function field(kind) return function(abbr) return {abbr = abbr, kind = kind} end end
ProtoField = setmetatable({}, {__index = function(_, k) return field(k) end})
ProtoExpert = {new = function(abbr, text) return {abbr = abbr, text = text} end}
-- the key preference (decision D5) from the environment: FMIP_KEYS
Pref = {uint = function(_, default) return default end,
        string = function(label, default)
          if label == "MN-PAR keys" then return os.getenv("FMIP_KEYS") or default end
          return default
        end}
local protos = {}
function Proto(name, desc)
  local p = {name = name, prefs = {}, register_heuristic = function() end}
  protos[name] = p
  return p
end
DissectorTable = {get = function() return {add = function() end, remove = function() end} end}
Dissector = {get = function() return {call = function() return 0 end} end}
-- the TTL of the message's IPv4 header (before it: offset -1)
local ttl_fieldinfo = nil
Field = {new = function(name)
  return function()
    if name == "ip.ttl" then return ttl_fieldinfo end
  end
end}
function register_stat_cmd_arg() end
function gui_enabled() return false end
Listener = {new = function() return {} end}
NSTime = {new = function(s, ns) return {s = s, ns = ns} end}

local Tvb, Range = {}, {}
Tvb.__index, Range.__index = Tvb, Range
local function new_tvb(s) return setmetatable({s = s}, Tvb) end
function Tvb:len() return float(#self.s) end
function Tvb:reported_len() return float(#self.s) end
function Tvb:offset() return float(0) end
function Tvb:raw(off, len) return self.s:sub(off + 1, off + len) end
function Tvb:range(off, len)
  if len == nil then len = #self.s - off end
  if off < 0 or len < 0 or off + len > #self.s then error("Range is out of bounds") end
  return setmetatable({t = self, off = off, n = len}, Range)
end
function Range:len() return float(self.n) end
function Range:offset() return float(self.off) end
function Range:tvb() return new_tvb(self.t.s:sub(self.off + 1, self.off + self.n)) end
function Range:uint()
  local v = 0
  for i = 1, self.n do v = v * 256 + self.t.s:byte(self.off + i) end
  return float(v)
end
function Range:uint64()
  local hex = ""
  for i = 1, self.n do hex = hex .. string.format("%02X", self.t.s:byte(self.off + i)) end
  return {tohex = function() return hex end}
end
function Range:ipv4()
  local b = {self.t.s:byte(self.off + 1, self.off + 4)}
  return setmetatable({}, {__tostring = function() return table.concat(b, ".") end})
end
function Range:bytes()
  local s = self.t.s:sub(self.off + 1, self.off + self.n)
  return setmetatable({}, {__tostring = function()
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end})
end

local experts
local Item = {}
Item.__index = Item
local function new_item(len) return setmetatable({len = len}, Item) end
-- "lite": Wireshark fakes the items nobody refers to (the parent comes back)
local faked = arg[4] == "lite"
function Item:add(_, range)
  if faked then return new_item(0) end
  return new_item(type(range) == "table" and range.n or 0)
end
function Item:append_text() end
function Item:set_text() end
function Item:set_generated() end
function Item:set_hidden() end
function Item:add_proto_expert_info(_, text) experts[#experts + 1] = text end

local info
-- pinfo.cols: the Columns object; a column is set by assigning its text
local pinfo_cols = setmetatable({}, {__newindex = function(_, name, text)
  if name == "info" then info = text end
end})
local function addr(s) return setmetatable({}, {__tostring = function() return s end}) end

dofile(arg[1])

local lines = {}
for line in io.lines(arg[2]) do lines[#lines + 1] = line end
local revisit = arg[3] == "revisit"   -- GUI clicks: visited, last frame first
if revisit then
  local reversed = {}
  for i = #lines, 1, -1 do reversed[#reversed + 1] = lines[i] end
  lines = reversed
end
for _, line in ipairs(lines) do
  local frame, kind, src, dst, rel, ttl, sport, hex = line:match("^(%d+) (%a+) (%S+) (%S+) (%S+) (%d+) (%d+) (%x*)$")
  ttl_fieldinfo = {offset = -1, value = float(tonumber(ttl))}
  local s = (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
  experts, info = {}, ""
  -- the dissector serves ip.proto 1 and the UDP port: pinfo.match_uint says which
  local pinfo = {number = float(tonumber(frame)), rel_ts = tonumber(rel), visited = revisit,
                 in_error_pkt = false, match_uint = float(kind == "udp" and 434 or 1),
                 src_port = float(tonumber(sport)),
                 src = addr(src), dst = addr(dst), cols = pinfo_cols}
  local tvb = new_tvb(s)
  local ok, err = pcall(function() protos.fmip.dissector(tvb, pinfo, new_item()) end)
  if not ok then experts[#experts + 1] = "LUA ERROR " .. tostring(err) end
  io.write(frame, "\t", info, "\t", table.concat(experts, "|"), "\n")
end
'''


def _messages(path: Path) -> list[str]:
    lines = []
    start = None
    for number, pkt in enumerate(rdpcap(str(path)), start=1):
        start = float(pkt.time) if start is None else start
        if IP not in pkt:
            continue
        ip = pkt[IP]
        sport = 0
        if UDP in pkt and pkt[UDP].dport == 434:
            kind, body = "udp", bytes(pkt[UDP].payload)
            sport = pkt[UDP].sport
        elif ip.proto == 1:
            kind, body = "icmp", bytes(ip.payload)
        else:
            continue
        lines.append(f"{number} {kind} {ip.src} {ip.dst} "
                     f"{float(pkt.time) - start:.6f} {ip.ttl} {sport} "
                     f"{body.hex()}")
    return lines


@pytest.mark.parametrize("tree", ["full", "lite"])
@pytest.mark.parametrize("sample", ["predictive", "reactive", "ncoa",
                                    "rejected", "violations"])
def test_same_info_and_experts_as_tshark_40(tmp_path, sample, tree):
    """tree "lite": the field items come back faked (Wireshark's behaviour
    when nobody refers to them), which the dissector detects and skips."""
    lua = require_tool("lua5.4")
    require_tool("tshark")
    path = ROOT / "samples" / f"{sample}.pcap"
    assert path.is_file(), f"{path} missing: run `make samples`"
    harness = tmp_path / "harness.lua"
    harness.write_text(HARNESS)
    messages = tmp_path / "messages.txt"
    lines = _messages(path)
    messages.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([lua, str(harness), str(LUA), str(messages),
                           "inorder", tree],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(lines) > 0
    got = {}
    for line in proc.stdout.splitlines():
        frame, info, experts = line.split("\t")
        assert "LUA ERROR" not in experts, f"frame {frame}: {experts}"
        got[int(frame)] = (info, sorted(re.findall(r"\b(FM\d{3}) ", experts)))
    rows = T.fields(path, ["frame.number", "_ws.col.Info",
                           "_ws.expert.message"])
    for row in rows:
        frame = int(row["frame.number"][0])
        if frame not in got or got[frame] == ("", []):
            continue   # not an FMIPv4 message (e.g. ICMP type 41 subtype 5)
        want_info = "|".join(row["_ws.col.Info"])
        want_rules = sorted(m.split()[0] for m in row["_ws.expert.message"]
                            if re.match(r"FM\d{3} ", m))
        assert got[frame] == (want_info, want_rules), f"frame {frame}"


@pytest.mark.parametrize("tree", ["full", "lite"])
def test_authenticators_verified_under_lua54(tmp_path, tree):
    """The HMACs (plain arithmetic, numbers as floats) under Lua 5.4 give
    the FM501/FM502 verdicts tshark 4.0 gives with the same keys."""
    lua = require_tool("lua5.4")
    require_tool("tshark")
    import os
    path = ROOT / "samples" / "violations.pcap"
    harness = tmp_path / "harness.lua"
    harness.write_text(HARNESS)
    messages = tmp_path / "messages.txt"
    messages.write_text("\n".join(_messages(path)) + "\n")
    keys = [line.split("#")[0].strip() for line in
            (ROOT / "samples" / "keys.txt").read_text().splitlines()]
    inline = "; ".join(k for k in keys if k)
    proc = subprocess.run([lua, str(harness), str(LUA), str(messages),
                           "inorder", tree], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, FMIP_KEYS=inline))
    assert proc.returncode == 0, proc.stderr
    got = set()
    for line in proc.stdout.splitlines():
        frame, _, experts = line.split("\t")
        got |= {(int(frame), m) for m in re.findall(r"\b(FM50[12]) ", experts)}
    rows = T.fields(path, ["frame.number", "_ws.expert.message"],
                    two_pass=True, prefs={"fmip.keys": inline})
    want = {(int(r["frame.number"][0]), m.split()[0]) for r in rows
            for m in r["_ws.expert.message"] if re.match(r"FM50[12] ", m)}
    assert got == want and len(want) == 2


def test_out_of_order_dissection_records_no_link(tmp_path):
    """A GUI click dissects one frame, visited, in any order: that must not
    record a request or a response (it would invent "no request seen")."""
    lua = require_tool("lua5.4")
    harness = tmp_path / "harness.lua"
    harness.write_text(HARNESS)
    messages = tmp_path / "messages.txt"
    messages.write_text("\n".join(_messages(ROOT / "samples" /
                                               "predictive.pcap")) + "\n")
    proc = subprocess.run([lua, str(harness), str(LUA), str(messages),
                           "revisit"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 7
    for line in lines:
        frame, info, experts = line.split("\t")
        assert info and not re.search(r"FM4\d\d", experts), line
