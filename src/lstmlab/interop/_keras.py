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
import zlib
from pathlib import Path

import numpy as np
import torch

from lstmlab.interop._errors import InteropError
from lstmlab.interop._torch_state import lstm_from_state_dict
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


def _check_config(path: Path, config: dict) -> list[tuple[str, str]]:
    """(name, class) of the LSTM and Embedding layers in model order; InteropError for LSTM
    layers we cannot reproduce."""
    names = []
    for class_name, layer in _walk_layers(config):
        if class_name == "Embedding":
            names.append((str(layer.get("name", "?")), class_name))
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
        names.append((str(name), class_name))
    return names


def _read_archive(path: Path) -> tuple[bytes, dict]:
    """(model.weights.h5 bytes, parsed config.json or {}) of a .keras zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if "model.weights.h5" not in members:
                raise InteropError(f"{path}: a zip without model.weights.h5, not a .keras file")
            raw = archive.read("config.json") if "config.json" in members else b"{}"
            weights = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise InteropError(f"{path}: a damaged .keras archive ({error})") from error
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InteropError(f"{path}: config.json is not valid JSON ({error})") from error
    if not isinstance(config, dict):
        raise InteropError(f"{path}: config.json holds a {type(config).__name__}, expected a "
                           "Keras model config (an object)")
    return weights, config


def _open(path: Path):
    """(h5py.File, layer classes by name from the config or None)."""
    import h5py

    if not path.is_file():
        raise InteropError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        weights, config = _read_archive(path)
        classes = _check_config(path, config)
        try:
            return h5py.File(io.BytesIO(weights), "r"), classes
        except OSError as error:
            raise InteropError(f"{path}: model.weights.h5 inside the archive is not an HDF5 "
                               "file") from error
    try:
        return h5py.File(path, "r"), None
    except OSError as error:
        raise InteropError(f"{path}: neither a .keras zip nor an HDF5 weights file") from error


def _variables(path: Path, group, name: str) -> list[np.ndarray] | None:
    """The arrays under ``group`` (``vars/0``, ``vars/1``, ...) in order, or None if absent."""
    import h5py

    if not isinstance(group, h5py.Group):
        return None
    keys = list(group)
    if not all(k.isdigit() for k in keys):
        raise InteropError(f"{path}: {name} has variables named {keys}; a Keras weights file "
                           "numbers them 0, 1, 2, ...")
    arrays = []
    for key in sorted(keys, key=int):
        item = group[key]
        if not isinstance(item, h5py.Dataset):
            raise InteropError(f"{path}: {name}/{key} is a group where Keras stores an array")
        array = np.asarray(item)
        if not np.issubdtype(array.dtype, np.floating):
            raise InteropError(f"{path}: {name}/{key} has dtype {array.dtype}; expected "
                               "floating-point weights")
        arrays.append(array)
    return arrays


def _layer_arrays(path: Path, handle) -> dict[str, tuple[str, list[np.ndarray]]]:
    """Every layer of the weights file: name -> ("cell" for a recurrent layer's cell variables
    or "vars", its arrays)."""
    import h5py

    layers = handle.get("layers")
    if layers is None:
        return {}
    if not isinstance(layers, h5py.Group):
        raise InteropError(f"{path}: 'layers' is an array where Keras stores a group")
    found = {}
    for name in layers:
        layer = layers[name]
        if not isinstance(layer, h5py.Group):
            raise InteropError(f"{path}: layers/{name} is an array where Keras stores a group")
        cell = _variables(path, layer.get("cell/vars"), f"layers/{name}/cell/vars")
        if cell:
            found[name] = ("cell", cell)
        else:
            found[name] = ("vars", _variables(path, layer.get("vars"),
                                              f"layers/{name}/vars") or [])
    return found


def _suffix(name: str) -> int:
    match = re.search(r"_(\d+)$", name)
    return int(match.group(1)) if match else 0


def read_keras_lstm(path: Path) -> dict[str, torch.Tensor]:
    """The LSTM layers of a Keras file as a torch.nn.LSTM state dict (float32 tensors)."""
    return read_keras(path)[0]


def read_keras(path: Path) -> tuple[dict[str, torch.Tensor], torch.Tensor | None, str | None]:
    """(the LSTM layers as a torch.nn.LSTM state dict, the ``Embedding`` layer's table (V, E)
    when one feeds the first LSTM, its layer name)."""
    path = Path(path)
    handle, classes = _open(path)
    with handle:
        layers = _layer_arrays(path, handle)
    found = {name: arrays for name, (where, arrays) in layers.items()
             if where == "cell" and len(arrays) in (2, 3) and arrays[0].ndim == 2
             and arrays[1].ndim == 2 and arrays[0].shape[1] == 4 * arrays[1].shape[0]
             and arrays[1].shape[0] > 0}
    others = [name for name in layers if name not in found]
    if not found:
        raise InteropError(f"{path}: no Keras LSTM layer (layers: {', '.join(others) or 'none'})")
    config_names = None if classes is None else [n for n, c in classes if c == "LSTM"]
    # The weights file names a model's layers by class and occurrence (lstm, lstm_1, ...),
    # which are the config's names only in a fresh session (later models get lstm_3, ...):
    # use the config's order only when its names are the file's.
    if config_names is not None and set(config_names) == set(found):
        order = config_names
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
    table, table_name = _embedding(layers, classes, state["weight_ih_l0"].shape[1])
    return state, table, table_name


def _embedding(layers: dict, classes: list[tuple[str, str]] | None, width: int
               ) -> tuple[torch.Tensor | None, str | None]:
    """The ``Embedding`` layer's table (V, width): by class in a .keras config where its names
    are the file's, else by the weights file's name (``embedding``, ``embedding_1``, ...)."""
    names = [n for n, c in classes or () if c == "Embedding" and n in layers]
    names += sorted((n for n in layers if re.fullmatch(r"embedding(_\d+)?", n)), key=_suffix)
    for name in names:
        where, arrays = layers.get(name, ("", []))
        if where == "vars" and len(arrays) == 1 and arrays[0].ndim == 2 \
                and arrays[0].shape[1] == width:
            return torch.from_numpy(arrays[0].astype(np.float32).copy()), name
    return None, None


def load_keras_lstm(path: Path) -> LSTM:
    """A Keras LSTM file -> our LSTM (batch_first=True, eval mode), same outputs as Keras."""
    return lstm_from_state_dict(read_keras_lstm(path), source=str(path))
