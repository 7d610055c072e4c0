"""The errors pinn raises for a user's mistake, apart from those of its own bugs.

Every check of user input raises a `BadValue` (a ValueError) or a `BadType` (a TypeError),
both `InputError`s: the command line reports those as one line and exit status 2, and shows
the traceback of anything else, a bug inside the library included.
"""


class InputError(Exception):
    """A mistake in what the user gave: a value, a type, a file, a setting."""


class BadValue(InputError, ValueError):
    """A value outside what is valid; the message names it and what is valid."""


class BadType(InputError, TypeError):
    """A value of the wrong type; the message names it and what is expected."""
