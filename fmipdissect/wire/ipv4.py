"""IPv4 addresses as text: inet_ntoa, taken from the C module _socket when
there is one (the socket module around it costs a few milliseconds of
start-up, mostly its enums)."""

try:
    from _socket import inet_ntoa
except ImportError:                    # another Python implementation
    from socket import inet_ntoa

__all__ = ["inet_ntoa"]
