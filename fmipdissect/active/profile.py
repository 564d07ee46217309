"""What the router under test chose where RFC 4988 lets it choose
(`fmipdissect probe --profile FILE`, TOML).

    # every key is optional; these are the defaults
    ipsec_hi_hack = false      # HI/HAck only under IPsec ESP (RFC 4988 7)
    fback_copy_to_nar = true   # PAR copies the predictive FBAck to NAR (Figure 1)
    policy_rejections = false  # Code 129/130 is a legitimate answer (5.2, 5.6)
    mn_ephemeral_port = true   # FBUs from a source port other than 434 (5.1)

A case that depends on a choice names it (cases.py `needs`); when the
profile chose otherwise, the case is `skip`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import InputError

POLICY_CODES = (129, 130)     # administratively prohibited, resources


@dataclass(frozen=True)
class Profile:
    ipsec_hi_hack: bool = False
    fback_copy_to_nar: bool = True
    policy_rejections: bool = False
    mn_ephemeral_port: bool = True

    def allows(self, need: str) -> bool:
        """need: a profile key, or "!key" for its negation."""
        if need.startswith("!"):
            return not getattr(self, need[1:])
        return getattr(self, need)


WHY_SKIPPED = {
    "!ipsec_hi_hack": "the profile says HI and HAck travel only under IPsec "
                      "ESP (RFC 4988 7), which the prober does not speak",
    "fback_copy_to_nar": "the profile says PAR sends no FBAck copy to NAR",
    "mn_ephemeral_port": "the profile says MNs send FBUs from port 434 only",
}


def load_profile(path: str | None) -> Profile:
    """The profile of a TOML file (None: the defaults); InputError (one
    line) for a file that is not TOML or names an unknown key."""
    if path is None:
        return Profile()
    try:
        import tomllib
    except ImportError:                    # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise InputError("--profile needs Python 3.11 (tomllib) or the "
                             "tomli package") from None
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") \
            from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not TOML: {exc}") from None
    data = data.get("profile", data)
    known = {f.name for f in fields(Profile)}
    for key, value in data.items():
        if key not in known:
            raise InputError(f"{path}: unknown profile key {key!r} (known: "
                             f"{', '.join(sorted(known))})")
        if not isinstance(value, bool):
            raise InputError(f"{path}: {key} must be true or false")
    return Profile(**data)
