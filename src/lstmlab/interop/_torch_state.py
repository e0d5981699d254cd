"""Import a ``torch.nn.LSTM`` or ``torch.nn.GRU`` from a file: a state dict, read with
``weights_only=True``.

The keys are torch's own (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
``weight_hr_l0``, ``*_reverse``), so the import is the identity: the sizes are read off the
shapes and the tensors load into ``lstmlab.layers.LSTM`` / ``GRU`` unchanged. A state dict of a
larger model (e.g. ``rnn.weight_ih_l0`` beside ``encoder.weight`` and ``decoder.weight``) works
too: the first recurrent stack's prefix is used and only its own keys
(``<prefix>{weight,bias}_{ih,hh,hr}_l<k>[_reverse]``) are read, so ``head_layer.weight`` is never
taken for a layer.

Shapes: weight_ih_l{k} (G*H, I or D*P), weight_hh_l{k} (G*H, P), weight_hr_l{k} (P, H), where
G gate blocks (4 for an LSTM, 3 for a GRU, 1 for a simple RNN), H hidden, P projection (H
without one), D directions; LSTM gate order i, f, g, o, GRU r, z, n.

Refused with one line (``InteropError``): a whole pickled module (``torch.save(model)``: we
never unpickle code; save ``model.state_dict()``), weights that are not floating point, that
hold NaN or Inf (named, with the count), or whose shapes do not make a stack.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from lstmlab.interop._errors import InteropError
from lstmlab.layers import GRU, LSTM

_FIRST = "weight_ih_l0"
# one parameter of a torch recurrent stack: name, layer, reverse
_OWN_KEY = re.compile(r"^(weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)_l(\d+)(_reverse)?$")
_BLOCKS = {"LSTM": 4, "GRU": 3}


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """The tensors in ``path`` (torch.load, weights_only=True, on CPU), or an InteropError."""
    path = Path(path)
    if not path.is_file():
        raise InteropError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Unsupported global" not in str(error):  # garbage, not a pickled object
            raise InteropError(f"{path}: not a torch file (unpickling failed)") from error
        raise InteropError(
            f"{path}: torch.load(weights_only=True) refused it, which happens for a whole "
            "pickled module (torch.save(model)); lstmlab never unpickles code: save "
            "model.state_dict() instead") from error
    except Exception as error:  # torch raises RuntimeError, EOFError, zip errors, ...
        raise InteropError(f"{path}: not a torch file ({type(error).__name__})") from error
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(
            state["state_dict"], Mapping):
        state = state["state_dict"]  # a checkpoint dict holding the state dict
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()):
        raise InteropError(f"{path}: expected a state dict (names -> tensors), got "
                           f"{type(state).__name__}")
    return dict(state)


def check_weights(tensors: Mapping[str, Tensor], source: str) -> None:
    """InteropError unless every tensor is real floating point and finite (names the first bad
    tensor and how many values are NaN or Inf)."""
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            raise InteropError(f"{source}: {name} has dtype {tensor.dtype}; expected "
                               "floating-point weights (float16/32/64, bfloat16)")
        bad = int((~torch.isfinite(tensor)).sum())
        if bad:
            nans = int(torch.isnan(tensor).sum())
            raise InteropError(f"{source}: {name} has {bad} non-finite value(s) ({nans} NaN, "
                               f"{bad - nans} Inf) of {tensor.numel()}; refusing to report on "
                               "weights that are not numbers")


def stack_prefix(state: Mapping[str, Tensor]) -> str | None:
    """The prefix of the first recurrent stack in ``state`` (``""`` for a bare one), or None."""
    prefixes = [k[: -len(_FIRST)] for k in state
                if k.endswith(_FIRST) and (k == _FIRST or k[-len(_FIRST) - 1] == ".")]
    return prefixes[0] if prefixes else None


def own_keys(state: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The stack's own parameters under ``prefix``, with the prefix removed."""
    return {k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix) and _OWN_KEY.match(k[len(prefix):])}


def _shape(tensor: Tensor | None) -> str:
    return "missing" if tensor is None else str(tuple(tensor.shape))


def _sizes(own: Mapping[str, Tensor], source: str, prefix: str) -> dict:
    """The constructor arguments the shapes say, and the kind: ``LSTM`` or ``GRU``."""
    weight_ih, weight_hh = own[_FIRST], own.get("weight_hh_l0")
    name = f"{prefix}{_FIRST}"
    if weight_ih.dim() != 2 or weight_hh is None or weight_hh.dim() != 2:
        raise InteropError(f"{source}: {name} {_shape(weight_ih)} needs a 2-d "
                           f"{prefix}weight_hh_l0 beside it (found {_shape(weight_hh)})")
    rows = weight_ih.shape[0]
    if weight_hh.shape[0] != rows:
        raise InteropError(f"{source}: {prefix}weight_hh_l0 has {weight_hh.shape[0]} rows, "
                           f"{name} has {rows}; both hold the same gate blocks (G*H rows)")
    proj = own.get("weight_hr_l0")
    width = weight_hh.shape[1]  # P: the width of h
    hidden = proj.shape[1] if proj is not None else width
    if hidden == 0 or rows == 0:
        raise InteropError(f"{source}: {name} has shape {tuple(weight_ih.shape)}: zero hidden "
                           "units, nothing to inspect")
    kind = {4 * hidden: "LSTM", 3 * hidden: "GRU"}.get(rows)
    if kind is None:
        hint = "a simple RNN" if rows == hidden else f"{rows} is not 4 or 3 times {hidden}"
        raise InteropError(
            f"{source}: {name} has {rows} rows and {prefix}weight_hh_l0 {width} columns: "
            f"{hint}; an LSTM needs 4*H rows, a GRU 3*H (H = the hidden size)")
    if proj is not None and (kind != "LSTM" or tuple(proj.shape) != (width, hidden)):
        raise InteropError(f"{source}: {prefix}weight_hr_l0 has shape {tuple(proj.shape)}; "
                           f"a projection of an LSTM with {hidden} units to {width} needs "
                           f"({width}, {hidden})")
    layers = 1 + max(int(_OWN_KEY.match(k).group(2)) for k in own)
    return {"kind": kind, "input_size": weight_ih.shape[1], "hidden_size": hidden,
            "num_layers": layers, "bias": "bias_ih_l0" in own,
            "bidirectional": f"{_FIRST}_reverse" in own,
            "proj_size": 0 if proj is None else width, "dtype": weight_ih.dtype}


def recurrent_from_state_dict(state: Mapping[str, Tensor], source: str = "state dict"
                              ) -> tuple[nn.Module, str]:
    """Our LSTM or GRU (batch_first=True, eval mode) with the sizes the keys and shapes say,
    loaded with the weights; and the key prefix it came from."""
    prefix = stack_prefix(state)
    if prefix is None:
        raise InteropError(f"{source}: no LSTM or GRU weights (no key ending in {_FIRST}); "
                           f"found {', '.join(list(state)[:4]) or 'no keys'}")
    own = own_keys(state, prefix)
    check_weights({prefix + k: v for k, v in own.items()}, source)
    sizes = _sizes(own, source, prefix)
    kind = sizes.pop("kind")
    if kind == "GRU":
        sizes.pop("proj_size")
    try:
        model = (LSTM if kind == "LSTM" else GRU)(batch_first=True, **sizes)
        model.load_state_dict(own, strict=True)
    except (RuntimeError, ValueError) as error:
        lines = str(error).splitlines()
        first_line = (lines[1] if len(lines) > 1 else lines[0]).strip()
        raise InteropError(f"{source}: the {kind} weights under '{prefix}' do not fit "
                           f"together ({first_line})") from error
    return model.eval(), prefix


def lstm_from_state_dict(state: Mapping[str, Tensor], source: str = "state dict") -> LSTM:
    """Build our LSTM (batch_first=True) with the sizes the keys and shapes say; load it."""
    model, prefix = recurrent_from_state_dict(state, source)
    if not isinstance(model, LSTM):
        raise InteropError(f"{source}: {prefix}{_FIRST} has {model.weight_ih_l0.shape[0]} rows "
                           f"for hidden size {model.hidden_size} (3 * {model.hidden_size}): "
                           "a GRU, not an LSTM")
    return model


def load_torch_lstm(path: Path) -> LSTM:
    """A torch.nn.LSTM state dict file -> our LSTM (batch_first=True, eval mode)."""
    return lstm_from_state_dict(read_state_dict(path), source=str(path))
