"""Errors that end a command with one line on standard error and status 2."""


class InputError(Exception):
    """Bad input: not a capture, unreadable, nonexistent, bad option value.

    The message is one line, written for the user; the command exits 2.
    """
