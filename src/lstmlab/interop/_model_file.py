"""A user's model file as ``inspect`` reads it: the recurrent stack and the embedding that feeds it.

``load_lstm(path)``: only the LSTM, by the file's suffix (Keras or a torch state dict).

``load_model(path)`` reads a torch state dict (``torch.load(weights_only=True)``) or a Keras file
(h5py) and returns the first recurrent stack as our ``LSTM`` or ``GRU`` (batch_first, eval mode)
plus, when the file holds one, the embedding table (V, E) whose width E is the stack's input
width:

- torch: a 2-d ``<module>.weight`` outside the stack's prefix with no ``<module>.bias`` beside it
  (an ``nn.Embedding`` has none; the ``nn.Linear`` decoder of a language model has one), of
  width E. Names that say so (``encoder``, ``embedding``, ``embed``, ``emb``, ``wte``) win over
  others; among equals, the first in the file (a state dict lists modules in definition order).
  PyTorch's word-language-model example: ``encoder.weight`` (ntoken, ninp), ``rnn.*``,
  ``decoder.weight``/``decoder.bias``.
- Keras: an ``Embedding`` layer (by class in a ``.keras`` config; by its default name
  ``embedding`` in a bare ``.weights.h5``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor, nn

from lstmlab.interop._keras import load_keras_lstm, read_keras
from lstmlab.interop._torch_state import (
    check_weights,
    load_torch_lstm,
    lstm_from_state_dict,
    read_state_dict,
    recurrent_from_state_dict,
)
from lstmlab.layers import LSTM

_NAMED = re.compile(r"(^|[._])(encoder|embedding|embeddings|embed|emb|wte|lookup)s?($|[._])")


@dataclass(frozen=True)
class Embedding:
    """The table that maps token ids to the stack's inputs: ``weight`` (V, E); ``name`` its key
    or Keras layer name."""

    name: str
    weight: Tensor

    @property
    def num_tokens(self) -> int:
        return self.weight.shape[0]


@dataclass(frozen=True)
class LoadedModel:
    """``recurrent``: our LSTM or GRU (batch_first=True, eval); ``kind``: "LSTM" or "GRU";
    ``prefix``: the stack's key prefix in the file; ``embedding`` or None; ``state``: the whole
    torch state dict (None for Keras), for loading the user's own class."""

    recurrent: nn.Module
    kind: str
    prefix: str
    embedding: Embedding | None
    state: dict[str, Tensor] | None


def find_embedding(state: dict[str, Tensor], prefix: str, width: int) -> Embedding | None:
    """The embedding table in a torch state dict (module docstring), or None."""
    candidates = []
    for key, tensor in state.items():
        module = key[: -len("weight")]
        if not key.endswith("weight") or (module and not module.endswith(".")):
            continue
        if (prefix and key.startswith(prefix)) or f"{module}bias" in state:
            continue
        if tensor.dim() == 2 and tensor.shape[1] == width and tensor.shape[0] > 0:
            candidates.append(key)
    if not candidates:
        return None
    named = [key for key in candidates if _NAMED.search(key[: -len("weight")].lower())]
    key = (named or candidates)[0]
    return Embedding(key, state[key])


def load_model(path: str | Path) -> LoadedModel:
    """The recurrent stack and its embedding from ``path`` (module docstring)."""
    path = Path(path)
    source = str(path)
    if path.suffix in (".keras", ".h5", ".hdf5"):
        lstm_state, table, name = read_keras(path)
        model = lstm_from_state_dict(lstm_state, source=source)
        embedding = None if table is None else Embedding(name, table)
        if embedding is not None:
            check_weights({name: table}, source)
        return LoadedModel(model, "LSTM", "", embedding, None)
    state = read_state_dict(path)
    model, prefix = recurrent_from_state_dict(state, source=source)
    embedding = find_embedding(state, prefix, model.input_size)
    if embedding is not None:
        check_weights({embedding.name: embedding.weight}, source)
        if embedding.weight.dtype != model.weight_ih_l0.dtype:
            embedding = Embedding(embedding.name,
                                  embedding.weight.to(model.weight_ih_l0.dtype))
    kind = "LSTM" if model.mode == "LSTM" else "GRU"
    return LoadedModel(model, kind, prefix, embedding, state)


def load_lstm(path: str | Path) -> LSTM:
    """Our LSTM (batch_first=True, eval mode) from a Keras file or a torch state dict."""
    path = Path(path)
    if path.suffix in (".keras", ".h5", ".hdf5"):
        return load_keras_lstm(path)
    return load_torch_lstm(path)
