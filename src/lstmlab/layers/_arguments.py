"""torch's argument checks for ``LSTM``, ``GRU`` and ``RNN``: same order, types and messages.

A drop-in must fail where ``torch.nn.LSTM/GRU/RNN`` fails and with an exception that the same
``except`` catches. Where torch raises ``TypeError`` (a flag that is not a bool, a size that is
not an int) we raise ``LayerTypeError``; where it raises ``RuntimeError`` (a wrong ``hx`` shape,
a wrong input width, an empty sequence) ``LayerInputError``; where it raises ``ValueError`` (a
size below one, a bad dropout, the input's dtype) a plain ``UserError``. The first two also
derive from ``lstmlab.errors.UserError`` (a ``ValueError``), so code written for torch
(``except RuntimeError``, ``except TypeError``) and code written for lstmlab
(``except ValueError``, ``except UserError``) both catch them, and the CLI prints them as one
line. The messages begin with torch's own words (tests match torch's regular expressions) and
name the argument and what was expected. ``tests/layers/test_torch_conformance.py`` runs the
ported PyTorch tests against both ``torch.nn`` and ``lstmlab.layers``.

Shapes: L ``num_layers``, D directions, B batch, H hidden, P the size of h (``proj_size`` or H).
"""

from __future__ import annotations

import numbers
import warnings

from torch import Tensor

from lstmlab.errors import UserError


class LayerTypeError(UserError, TypeError):
    """An argument of the wrong type (torch raises ``TypeError``)."""


class LayerInputError(UserError, RuntimeError):
    """Input or ``hx`` that does not fit the layer (torch raises ``RuntimeError``)."""


def check_bool(name: str, value: object) -> None:
    """``LayerTypeError`` unless ``value`` is a bool: ``"False"`` and ``0`` are not flags."""
    if not isinstance(value, bool):
        raise LayerTypeError(f"{name} should be of type bool, got: {type(value).__name__}")


def check_count(name: str, value: object, *, minimum: int = 1) -> None:
    """``LayerTypeError`` unless ``value`` is an int (a bool is not a size), ``UserError`` if it
    is below ``minimum`` (1: "greater than zero"; 0: "zero or more")."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayerTypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value < minimum:
        bound = "greater than zero" if minimum == 1 else f"at least {minimum}"
        raise UserError(f"{name} must be {bound}, got {value}")


def check_constructor(
    input_size: object, hidden_size: object, num_layers: object, bias: object,
    batch_first: object, dropout: object, bidirectional: object, proj_size: object = 0,
) -> None:
    """torch's ``RNNBase.__init__`` checks, in its order, plus the ones torch lacks
    (``num_layers`` and ``proj_size`` types, ``bidirectional`` a bool)."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
            or not 0 <= dropout <= 1:
        raise UserError("dropout should be a number in range [0, 1] representing the "
                        f"probability of an element being zeroed, got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        # stacklevel 4: check_constructor <- RecurrentStack.__init__ <- LSTM.__init__ <- caller
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", UserWarning,
                      stacklevel=4)
    check_bool("bias", bias)
    check_bool("batch_first", batch_first)
    check_count("input_size", input_size)
    check_count("hidden_size", hidden_size)
    check_count("num_layers", num_layers)
    check_bool("bidirectional", bidirectional)
    if isinstance(proj_size, bool) or not isinstance(proj_size, int):
        raise LayerTypeError(f"proj_size should be of type int, got: {type(proj_size).__name__}")
    if proj_size < 0:
        raise UserError("proj_size should be a positive integer or zero to disable "
                        f"projections, got {proj_size}")
    if proj_size >= hidden_size:  # type: ignore[operator]
        raise UserError(f"proj_size has to be smaller than hidden_size ({hidden_size}), "
                        f"got {proj_size}")


def check_no_projection(proj_size: object) -> None:
    """GRU and RNN take no ``proj_size`` (torch refuses the keyword whatever its value)."""
    if proj_size is not None:
        raise UserError("proj_size argument is only supported for LSTM, not RNN or GRU")


def check_hx_ranks(kind: str, hx: tuple[Tensor, ...], batched: bool) -> None:
    """``hx`` must have the input's rank: 3-D for a batched input, 2-D for an unbatched one."""
    rank = 3 if batched else 2
    if all(t.dim() == rank for t in hx):
        return
    what = "batched 3-D" if batched else "unbatched 2-D"
    if kind == "LSTM":
        ranks = ", ".join(f"{t.dim()}-D" for t in hx)
        raise LayerInputError(f"For {what} input, hx and cx should also be {rank}-D but got "
                              f"({ranks}) tensors")
    raise LayerInputError(f"For {what} input, hx should also be {rank}-D but got "
                          f"{hx[0].dim()}-D tensor")
