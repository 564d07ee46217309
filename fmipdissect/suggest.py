"""" (did you mean --select?)": the nearest known word to a mistyped one."""

from __future__ import annotations


def did_you_mean(word: str, known) -> str:
    """A suggestion to append to an error, or "" when nothing is close."""
    import difflib                      # only on a mistake (start-up)
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def suggestion(message: str, parser) -> str:
    """argparse's error message with a suggestion added: for each mistyped
    option of "unrecognized arguments: --selct x" (from the parser's own
    option strings), or for a mistyped subcommand ("invalid choice")."""
    prefix = "unrecognized arguments: "
    if "invalid choice: " in message:
        import re
        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)",
                          message)
        if found:
            choices = [c.strip(" '") for c in found[2].split(",")]
            return message + did_you_mean(found[1], choices)
        return message
    if not message.startswith(prefix):
        return message
    options = list(_option_strings(parser))
    hints = [did_you_mean(w.split("=", 1)[0], options)
             for w in message[len(prefix):].split() if w.startswith("--")]
    return message + "".join(h for h in hints if h)


def _option_strings(parser):
    """Every option string of the parser and of its subcommands' parsers
    (argparse reports a subcommand's unknown options from the top)."""
    for action in parser._actions:
        yield from action.option_strings
        for sub in (getattr(action, "choices", None) or {}).values() \
                if hasattr(getattr(action, "choices", None), "values") else ():
            yield from _option_strings(sub)
