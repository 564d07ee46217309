"""The layers' one setting: the link-layer address length of the LLA option
(decision D3: not on the wire).  The LLA field reads it here at each use;
fmipdissect.layers shows it as LLA_LENGTH and changes it with
set_lla_length(n)."""

from __future__ import annotations

from ..spec import constraints as K
from ..spec import protocol as P

LLA_LENGTH = P.DEFAULT_LLA_LENGTH


def set_lla_length(n: int) -> None:
    """Set the link-layer address length used to dissect LLA options."""
    global LLA_LENGTH
    problem = K.lla_length_problem(n)
    if problem:
        raise ValueError(problem)
    LLA_LENGTH = n
