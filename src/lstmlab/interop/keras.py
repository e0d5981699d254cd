"""Import Keras 3 LSTM layers from a ``.keras`` file or a ``.weights.h5`` file, with h5py alone.

Keras stores each LSTM layer as ``layers/<name>/cell/vars/{0,1,2}``: ``kernel`` (I, 4H),
``recurrent_kernel`` (H, 4H) and one ``bias`` (4H,), gate order i, f, c, o (c is torch's g).
Keras computes

    z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias,    i, f, c, o = split(z_t, 4)

and torch ``z_t = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh`` with the same
block order, so the map is ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``,
``bias_ih = bias``, ``bias_hh = 0``. Consecutive LSTM layers become one multi-layer LSTM.

A ``.keras`` file also carries ``config.json``: layers whose activations are not tanh/sigmoid,
that run backwards or are wrapped in ``Bidirectional`` are refused (our LSTM would compute
something else). A bare ``.weights.h5`` has no config: the standard activations are assumed.
Other layers (Dense, Embedding, ...) are not imported; the report covers the LSTM stack. A torch
LSTM has one hidden size for all layers, so the stack ends before the first LSTM layer whose
size differs (logged).
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from lstmlab.interop.errors import InteropError
from lstmlab.interop.torch_state import lstm_from_state_dict
from lstmlab.layers import LSTM

logger = logging.getLogger(__name__)

def _walk_layers(config: object):
    """Every (class_name, config) in a Keras model config, depth first, in model order."""
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict):
            yield config["class_name"], config["config"]
        for value in config.values():
            yield from _walk_layers(value)
    elif isinstance(config, list):
        for item in config:
            yield from _walk_layers(item)


def _check_config(path: Path, config: dict) -> list[str]:
    """Names of the LSTM layers in model order; InteropError for ones we cannot reproduce."""
    names = []
    for class_name, layer in _walk_layers(config):
        if class_name == "Bidirectional":
            raise InteropError(f"{path}: a Bidirectional Keras layer is not supported; "
                               "import the forward LSTM alone")
        if class_name != "LSTM":
            continue
        name = layer.get("name", "?")
        wrong = {k: layer.get(k) for k, want in (("activation", "tanh"),
                                                 ("recurrent_activation", "sigmoid"),
                                                 ("go_backwards", False))
                 if layer.get(k, want) != want}
        if wrong:
            raise InteropError(f"{path}: LSTM layer {name} has {wrong}; only the standard "
                               "tanh/sigmoid forward LSTM is supported")
        names.append(name)
    return names


def _open(path: Path):
    """(h5py.File, LSTM layer names from the config or None)."""
    import h5py

    if not path.is_file():
        raise InteropError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if "model.weights.h5" not in members:
                raise InteropError(f"{path}: a zip without model.weights.h5, not a .keras file")
            config = json.loads(archive.read("config.json")) if "config.json" in members else {}
            weights = archive.read("model.weights.h5")
        return h5py.File(io.BytesIO(weights), "r"), _check_config(path, config)
    try:
        return h5py.File(path, "r"), None
    except OSError as error:
        raise InteropError(f"{path}: neither a .keras zip nor an HDF5 weights file") from error


def _suffix(name: str) -> int:
    match = re.search(r"_(\d+)$", name)
    return int(match.group(1)) if match else 0


def read_keras_lstm(path: Path) -> dict[str, torch.Tensor]:
    """The LSTM layers of a Keras file as a torch.nn.LSTM state dict (float32 tensors)."""
    path = Path(path)
    handle, config_names = _open(path)
    with handle:
        layers = handle.get("layers")
        found, others = {}, []
        for name in (layers.keys() if layers is not None else []):
            cell = layers[name].get("cell/vars")
            arrays = [np.asarray(cell[k]) for k in sorted(cell, key=int)] if cell else []
            if (len(arrays) in (2, 3) and arrays[0].ndim == 2 and arrays[1].ndim == 2
                    and arrays[0].shape[1] == 4 * arrays[1].shape[0]):
                found[name] = arrays
            else:
                others.append(name)
    if not found:
        raise InteropError(f"{path}: no Keras LSTM layer (layers: {', '.join(others) or 'none'})")
    if config_names is not None:
        order = [n for n in config_names if n in found] or sorted(found, key=_suffix)
    else:
        order = sorted(found, key=_suffix)
    state: dict[str, torch.Tensor] = {}
    previous = None
    for k, name in enumerate(order):
        kernel, recurrent, *rest = found[name]
        hidden = recurrent.shape[0]
        if previous is not None and hidden != state["weight_hh_l0"].shape[1]:
            logger.warning("%s: importing the first %d LSTM layers; %s has hidden size %d, "
                           "not %d", path, k, name, hidden, state["weight_hh_l0"].shape[1])
            break
        if previous is not None and kernel.shape[0] != previous:
            raise InteropError(f"{path}: LSTM layer {name} reads {kernel.shape[0]} inputs but "
                               f"the LSTM before it gives {previous}: not a plain stack")
        bias = rest[0] if rest else np.zeros(4 * hidden, dtype=kernel.dtype)
        state[f"weight_ih_l{k}"] = torch.from_numpy(kernel.T.astype(np.float32).copy())
        state[f"weight_hh_l{k}"] = torch.from_numpy(recurrent.T.astype(np.float32).copy())
        state[f"bias_ih_l{k}"] = torch.from_numpy(bias.astype(np.float32).copy())
        state[f"bias_hh_l{k}"] = torch.zeros(4 * hidden)
        previous = hidden
    return state


def load_keras_lstm(path: Path) -> LSTM:
    """A Keras LSTM file -> our LSTM (batch_first=True, eval mode), same outputs as Keras."""
    return lstm_from_state_dict(read_keras_lstm(path), source=str(path))
