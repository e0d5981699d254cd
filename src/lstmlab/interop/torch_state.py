"""Import a ``torch.nn.LSTM`` from a file: a state dict, read with ``weights_only=True``.

The keys are torch's own (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
``weight_hr_l0``, ``*_reverse``), so the import is the identity: the sizes are read off the
shapes and the tensors load into ``lstmlab.layers.LSTM`` unchanged. A state dict of a larger
model (e.g. ``encoder.lstm.weight_ih_l0``) works too: the first LSTM's prefix is used.

Shapes: weight_ih_l{k} (4H, I or D*P), weight_hh_l{k} (4H, P), weight_hr_l{k} (P, H), where H
hidden, P projection (H without one), D directions; gate order i, f, g, o.

A whole pickled module (``torch.save(model)``) cannot be read with ``weights_only=True``, and
we never unpickle arbitrary code: it is refused with the advice to save ``model.state_dict()``.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from lstmlab.interop.errors import InteropError
from lstmlab.layers import LSTM

_FIRST = "weight_ih_l0"


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


def lstm_from_state_dict(state: Mapping[str, Tensor], source: str = "state dict") -> LSTM:
    """Build our LSTM (batch_first=True) with the sizes the keys and shapes say; load it."""
    prefixes = [k[: -len(_FIRST)] for k in state if k.endswith(_FIRST)]
    if not prefixes:
        raise InteropError(f"{source}: no LSTM weights (no key ending in {_FIRST}); "
                           f"found {', '.join(list(state)[:4]) or 'no keys'}")
    prefix = prefixes[0]
    own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    weight_ih, weight_hh = own[_FIRST], own.get("weight_hh_l0")
    if weight_hh is None or weight_ih.dim() != 2 or weight_hh.dim() != 2:
        raise InteropError(f"{source}: {prefix}{_FIRST} without a 2-d weight_hh_l0")
    proj = own.get("weight_hr_l0")
    hidden = proj.shape[1] if proj is not None else weight_hh.shape[1]
    if weight_ih.shape[0] != 4 * hidden:
        kind = {3 * hidden: "a GRU", hidden: "a simple RNN"}.get(weight_ih.shape[0], "not an LSTM")
        raise InteropError(f"{source}: {prefix}{_FIRST} has {weight_ih.shape[0]} rows for "
                           f"hidden size {hidden}, not 4 * {hidden}: {kind}, not an LSTM")
    num_layers = 1 + max(int(k.split("_l")[1].split("_")[0]) for k in own if "_l" in k)
    model = LSTM(weight_ih.shape[1], hidden, num_layers=num_layers, bias="bias_ih_l0" in own,
                 batch_first=True, bidirectional=f"{_FIRST}_reverse" in own,
                 proj_size=0 if proj is None else proj.shape[0], dtype=weight_ih.dtype)
    try:
        model.load_state_dict(own, strict=True)
    except RuntimeError as error:
        lines = str(error).splitlines()
        first_line = (lines[1] if len(lines) > 1 else lines[0]).strip()
        raise InteropError(f"{source}: the LSTM weights do not fit together ({first_line})") \
            from error
    return model.eval()


def load_torch_lstm(path: Path) -> LSTM:
    """A torch.nn.LSTM state dict file -> our LSTM (batch_first=True, eval mode)."""
    return lstm_from_state_dict(read_state_dict(path), source=str(path))
