"""" (did you mean --select?)": the nearest known word to a mistyped one."""

from __future__ import annotations


def did_you_mean(word: str, known) -> str:
    """A suggestion to append to an error, or "" when nothing is close."""
    import difflib                      # only on a mistake (start-up)
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unrecognized(message: str, parser) -> str:
    """argparse's "unrecognized arguments: --selct x" with a suggestion
    for each mistyped option, from the parser's own option strings."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    options = [o for a in parser._actions for o in a.option_strings]
    hints = [did_you_mean(w.split("=", 1)[0], options)
             for w in message[len(prefix):].split() if w.startswith("--")]
    return message + "".join(h for h in hints if h)
