"""Wireshark integration: the generated Lua dissector and the tshark bridge.

luagen.py renders lua/fmip.lua from protocol.py and the rule registry;
tshark.py runs tshark (directly or through pyshark) with that dissector.
"""
