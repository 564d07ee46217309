"""The events the correlator emits, as the methods of a subscriber.

A subscriber overrides the events it wants; the others cost nothing (the
correlator calls only methods a subscriber defines itself).  Events about
one message come in this order: message, then the pair events (matched,
mismatch, orphan), then address; unanswered and handover_closed come when
expiry, a cap or the end of the capture reveal them (unanswered before the
handover it belongs to closes).  `obs` is the message's Observation
(correlate/state.py), `pair` a spec.constraints.Pair.
"""

from __future__ import annotations

EVENTS = ("message", "matched", "mismatch", "orphan", "unanswered",
          "address", "capped", "handover_opened", "handover_closed")


class Subscriber:
    message_keys = None    # the message keys message() wants; None: all
    # {message key: callable(obs)}: called for those keys instead of
    # message() (one call less per message than a dispatch inside it)
    message_handlers = None
    # {request key of a pair ("fbu", "hi", "rtsolpr"): callable(pair,
    # requests, obs)}: called for those pairs instead of matched(), and
    # nothing for the pairs it leaves out; None: matched() for every pair
    matched_handlers = None

    def message(self, obs) -> None:
        """Every FMIPv4 message the correlator could place (a message whose
        fixed header is cut is not placed)."""

    def matched(self, pair, requests, obs) -> None:
        """The reply obs answers these requests (one, or several copies of
        one request: an FBU and its forwarded copy, decisions D7, D8)."""

    def mismatch(self, pair, obs, request) -> None:
        """decision D11: the reply matches no request while `request` of its
        scope is outstanding."""

    def orphan(self, pair, obs) -> None:
        """decision D11: no request of the reply's scope seen."""

    def unanswered(self, pair, request, when: str) -> None:
        """A request left without a reply: expired ("within 60 s"), dropped
        by a cap, or still open at the end of the capture."""

    def address(self, node, kind: str, addr: str) -> None:
        """An address newly learnt for the node's MN: kind "nar_ip" (from
        PrRtAdv) or "ncoa" (PrRtAdv, HAck, FBAck)."""

    def capped(self, what: str) -> None:
        """A cap dropped or refused state for the first time."""

    def handover_opened(self, handover) -> None:
        """A handover began (decision D13)."""

    def handover_closed(self, handover) -> None:
        """A handover is over; no message joins it any more."""


def handlers(subscribers, event: str) -> tuple:
    """The bound methods of the subscribers that define this event."""
    base = getattr(Subscriber, event)
    return tuple(getattr(s, event) for s in subscribers
                 if getattr(type(s), event, base) is not base)
