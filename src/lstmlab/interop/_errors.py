"""The one error interop raises: a file that is not a model we can import, said in one line."""

from lstmlab.errors import UserError


class InteropError(UserError):
    """A model file we cannot import (wrong format, not an LSTM, unsafe pickle); the message is
    one line that names the file and what to do."""
