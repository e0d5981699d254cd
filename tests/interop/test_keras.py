"""Keras LSTM files imported with h5py alone give Keras's own outputs (keras.predict)."""

import numpy as np
import pytest
import torch

from lstmlab.interop import InteropError, load_keras_lstm, load_lstm

keras = pytest.importorskip("keras")

# Keras 3.15's variables call np.asarray(copy=False) on torch tensors: its own numpy-2 notice.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def _random_weights(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                           for w in layer.get_weights()])


@pytest.fixture(scope="module")
def stacked(tmp_path_factory):
    """Two LSTM layers (4 units each), random weights and biases, and a Dense head."""
    folder = tmp_path_factory.mktemp("keras")
    model = keras.Sequential([keras.Input((6, 3)),
                              keras.layers.LSTM(4, return_sequences=True),
                              keras.layers.LSTM(4, return_sequences=True),
                              keras.layers.Dense(2)])
    _random_weights(model, 0)
    model.save(folder / "m.keras")
    model.save_weights(folder / "m.weights.h5")
    x = np.random.default_rng(1).normal(size=(5, 6, 3)).astype("float32")
    lstm_only = keras.Model(model.inputs, model.layers[1].output)
    return folder, x, np.asarray(lstm_only.predict(x, verbose=0))


@pytest.mark.parametrize("name", ["m.keras", "m.weights.h5"])
def test_import_matches_keras_predict(stacked, name):
    folder, x, expected = stacked
    lstm = load_lstm(folder / name)
    assert (lstm.input_size, lstm.hidden_size, lstm.num_layers) == (3, 4, 2)
    with torch.no_grad():
        output, _ = lstm(torch.from_numpy(x))
    torch.testing.assert_close(output, torch.from_numpy(expected), atol=1e-5, rtol=1e-5)


def test_gate_order_matters(stacked):
    """Swapping two gate blocks must break the match, so the test above can fail."""
    folder, x, expected = stacked
    lstm = load_keras_lstm(folder / "m.keras")
    with torch.no_grad():
        w = lstm.weight_ih_l1.view(4, 4, 4)
        w[[2, 3]] = w[[3, 2]].clone()
        output, _ = lstm(torch.from_numpy(x))
    assert (output - torch.from_numpy(expected)).abs().max() > 1e-2


def test_single_layer_without_bias(tmp_path):
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3, use_bias=False)])
    _random_weights(model, 2)
    model.save(tmp_path / "nobias.keras")
    x = np.random.default_rng(3).normal(size=(2, 4, 2)).astype("float32")
    with torch.no_grad():
        _, (h, _) = load_lstm(tmp_path / "nobias.keras")(torch.from_numpy(x))
    torch.testing.assert_close(h[-1], torch.from_numpy(np.asarray(model.predict(x, verbose=0))),
                               atol=1e-5, rtol=1e-5)


def test_non_lstm_and_unsupported_models_are_refused(tmp_path):
    gru = keras.Sequential([keras.Input((4, 2)), keras.layers.GRU(3)])
    gru.save(tmp_path / "gru.keras")
    with pytest.raises(InteropError, match="no Keras LSTM layer"):
        load_lstm(tmp_path / "gru.keras")
    relu = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3, activation="relu")])
    relu.save(tmp_path / "relu.keras")
    with pytest.raises(InteropError, match="activation"):
        load_lstm(tmp_path / "relu.keras")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(InteropError, match="neither"):
        load_lstm(tmp_path / "junk.h5")


def test_layer_order_when_config_names_differ_from_the_file(tmp_path):
    """A model built after another in one session: its config names are lstm_1, lstm_2 while
    the weights file says lstm, lstm_1; both layers are imported, in order."""
    keras.utils.clear_session()  # the name counters start again: the first LSTM is "lstm"
    keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(2)])
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(4, return_sequences=True),
                              keras.layers.LSTM(4, return_sequences=True)])
    _random_weights(model, 5)
    model.save(tmp_path / "late.keras")
    x = np.random.default_rng(6).normal(size=(2, 6, 3)).astype("float32")
    lstm = load_lstm(tmp_path / "late.keras")
    assert lstm.num_layers == 2
    with torch.no_grad():
        output, _ = lstm(torch.from_numpy(x))
    torch.testing.assert_close(output, torch.from_numpy(np.asarray(model.predict(x, verbose=0))),
                               atol=1e-5, rtol=1e-5)
