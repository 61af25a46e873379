"""What a refused request is, whoever asked (the CLI, the HTTP API, a web page).

Domain code raises one of these with a sentence for the person or program that asked; it
never picks an HTTP status. The web's one error middleware (acd/web/errors.py) maps each type
to its status, and the CLI prints the sentence on one line.
"""

from __future__ import annotations


class Refused(Exception):
    """A request the engine will not carry out; the message says why."""


class Invalid(Refused):
    """The input is wrong: a field, a value, a reason that is not in the list."""


class Forbidden(Refused):
    """The one asking may not do this (its role, or the object is not its own)."""


class NotFound(Refused):
    """What the request names does not exist (in this center)."""


class Conflict(Refused):
    """Not now: the object's state does not allow it (a second order for a call, a seat that
    is not in wrap-up)."""


class Unavailable(Refused):
    """A part the request needs (an Asterisk node, Redis) is not connected or did not answer."""
