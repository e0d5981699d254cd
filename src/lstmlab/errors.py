"""The one family of errors a user can fix: a wrong argument, file or input, said in one line.

The CLI prints the message of any ``UserError`` as one line on stderr and exits with code 2; a
traceback appears only with ``--debug``. Library code raises a subclass where the failure is the
caller's input, so Python users can catch it too. ``UserError`` inherits from ``ValueError`` so
existing ``except ValueError`` code keeps working.
"""

from __future__ import annotations


class UserError(ValueError):
    """A failure the user can fix; the message is one line that names the argument, file or
    input and what was expected."""
