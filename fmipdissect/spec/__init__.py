"""The rulebook: the protocol description (protocol.py) and the rule registry
(rules.py).  Every decoder, the checker and the Lua generator derive from it."""
