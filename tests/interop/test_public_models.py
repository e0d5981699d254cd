"""Public model definitions re-created in the test, saved as users save them, read back and
traced: every layer and direction equals an independent numpy implementation (numpy_rnn.py),
and ``lstmlab inspect`` reports on each through the model's own inputs (--vocab / --ids).

Models: PyTorch examples' word-language-model ``RNNModel`` (encoder nn.Embedding, rnn nn.LSTM,
decoder nn.Linear), a Keras Sequential Embedding -> LSTM -> Dense (.keras and .weights.h5), a
2-layer bidirectional batch_first LSTM with proj_size, and a GRU behind an embedding.
"""

import inspect as pyinspect
import json

import numpy as np
import pytest
import torch
from numpy_rnn import RNNModel, corpus_dictionary, numpy_gru, numpy_lstm, numpy_weights
from typer.testing import CliRunner

from lstmlab.cli import app
from lstmlab.interop import load_model
from lstmlab.introspection import trace, trace_gru, trace_module

runner = CliRunner()
CORPUS = ["the cat sat on the mat", "a dog sat on a log", "the dog saw the cat"]
TEXT = "the cat saw a dog on the mat"
TOL = {"atol": 2e-6, "rtol": 1e-5}


def _close(actual, expected):
    torch.testing.assert_close(actual.double(), torch.from_numpy(np.asarray(expected)), **TOL)


def _flat(run):
    return " ".join(run.output.split())


def _check_lstm(traced, reference):
    for (layer, direction), values in reference.items():
        got = traced.layers[layer][direction]
        for name, field in zip("ifgoch", ("input", "forget", "candidate", "output", "cell",
                                          "hidden"), strict=True):
            _close(getattr(got, field), values[name])


def _check_gru(traced, reference):
    for (layer, direction), values in reference.items():
        got = traced.layers[layer][direction]
        for name, field in zip("rznh", ("reset", "update", "candidate", "hidden"), strict=True):
            _close(getattr(got, field), values[name])


def _averages(reference, gate):
    return {key: float(values[gate].mean()) for key, values in reference.items()}


def _assert_averages(run, reference, gate, word):
    assert run.exit_code == 0, run.output
    text = _flat(run)
    for (layer, direction), mean in _averages(reference, gate).items():
        label = f"layer {layer} · {('forward', 'reverse')[direction]}"
        assert f"{label}: {word} average {mean:.3f}" in text, (label, mean, text)


@pytest.fixture(scope="module")
def word_model(tmp_path_factory):
    """RNNModel (LSTM, 2 layers) with the corpus's dictionary size, saved as a state dict."""
    folder = tmp_path_factory.mktemp("wlm")
    (folder / "train.txt").write_text("\n".join(CORPUS) + "\n")
    vocabulary = corpus_dictionary(CORPUS)
    torch.manual_seed(1)
    model = RNNModel("LSTM", len(vocabulary), 6, 5, 2, dropout=0.2).eval()
    torch.save(model.state_dict(), folder / "model.pt")
    (folder / "wlm_model.py").write_text(
        "import torch\nfrom torch import nn\n\n\n" + pyinspect.getsource(RNNModel))
    ids = np.array([vocabulary[w] for w in TEXT.split()])
    emb = model.encoder.weight.detach().double().numpy()[ids][:, None]  # (T, 1, E)
    reference = numpy_lstm(numpy_weights(model, "rnn."), emb)
    return folder, model, vocabulary, ids, reference


def test_word_language_model_traced_by_its_own_forward(word_model):
    _, model, _, ids, reference = word_model
    x = torch.from_numpy(ids)[:, None]
    result = trace_module(model, x, model.init_hidden(1))
    assert [call.name for call in result.calls] == ["rnn"]
    _check_lstm(result["rnn"], reference)
    # the state dict file alone: the stack and the embedding found beside it
    loaded = load_model(word_model[0] / "model.pt")
    assert loaded.embedding.name == "encoder.weight" and loaded.prefix == "rnn."
    _check_lstm(trace(loaded.recurrent, loaded.embedding.weight[x.T]), reference)


def test_inspect_word_language_model_with_corpus_vocab_and_class(word_model, tmp_path,
                                                                    monkeypatch):
    folder, _, vocabulary, ids, reference = word_model
    model = str(folder / "model.pt")
    run = runner.invoke(app, ["inspect", model, "--text", TEXT, "--vocab",
                              str(folder / "train.txt"), "--out", str(tmp_path / "a")])
    _assert_averages(run, reference, "f", "Forget gates")
    assert f"own embedding encoder.weight ({len(vocabulary)} tokens x 6)" in _flat(run)
    assert "read as corpus" in _flat(run)
    assert "2 layer(s) x 1 direction(s)" in _flat(run)
    monkeypatch.chdir(folder)
    run = runner.invoke(app, ["inspect", model, "--model-class", "wlm_model:RNNModel",
                              "--model-args", json.dumps(["LSTM", len(vocabulary), 6, 5, 2]),
                              "--text", TEXT, "--vocab", "train.txt",
                              "--out", str(tmp_path / "c")])
    _assert_averages(run, reference, "f", "Forget gates")
    assert "RNNModel built from wlm_model:RNNModel" in _flat(run)
    page = (tmp_path / "c" / "index.html").read_text()
    assert "<h2>rnn · layer 1 · forward</h2>" in page


# Keras 3.15's variables call np.asarray(copy=False) on torch tensors: its own numpy-2 notice.
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
@pytest.mark.parametrize("name", ["m.keras", "m.weights.h5"])
def test_keras_embedding_lstm_dense(tmp_path, name):
    keras = pytest.importorskip("keras")
    tokens = ["<pad>", "the", "cat", "saw", "a", "dog", "on", "mat"]
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              keras.layers.Embedding(len(tokens), 4),
                              keras.layers.LSTM(5, return_sequences=True),
                              keras.layers.Dense(len(tokens))])
    rng = np.random.default_rng(0)
    for layer in model.layers:
        layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                           for w in layer.get_weights()])
    model.save(tmp_path / "m.keras") if name == "m.keras" else model.save_weights(
        tmp_path / name)
    table = model.layers[0].get_weights()[0]
    kernel, recurrent, bias = model.layers[1].get_weights()
    weights = {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent.T, "bias_ih_l0": bias,
               "bias_hh_l0": np.zeros_like(bias)}
    ids = np.array([tokens.index(w) for w in TEXT.split()])
    reference = numpy_lstm(weights, table.astype(np.float64)[ids][:, None])
    loaded = load_model(tmp_path / name)
    torch.testing.assert_close(loaded.embedding.weight, torch.from_numpy(table))
    _check_lstm(trace(loaded.recurrent, loaded.embedding.weight[torch.from_numpy(ids)][None]),
                reference)
    # Keras's own numbers for the LSTM's output
    lstm_out = keras.Model(model.inputs, model.layers[1].output).predict(ids[None], verbose=0)
    _close(torch.from_numpy(np.asarray(lstm_out))[0], reference[0, 0]["h"][:, 0])
    (tmp_path / "vocab.txt").write_text("\n".join(tokens) + "\n")
    run = runner.invoke(app, ["inspect", str(tmp_path / name), "--text", TEXT, "--vocab",
                              str(tmp_path / "vocab.txt"), "--out", str(tmp_path / "r")])
    _assert_averages(run, reference, "f", "Forget gates")
    assert "read as tokens" in _flat(run) and "embedding embedding" in _flat(run)
    run = runner.invoke(app, ["inspect", str(tmp_path / name), "--ids", ",".join(map(str, ids)),
                              "--out", str(tmp_path / "r2")])
    _assert_averages(run, reference, "f", "Forget gates")


# torch's own notice that oneDNN has no projections (it falls back to its plain kernel)
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")
def test_bidirectional_projected_batch_first_lstm(tmp_path):
    torch.manual_seed(2)
    lstm = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True,
                         proj_size=3).eval()
    table = torch.randn(9, 4)
    torch.save({"embed.weight": table,
                **{f"encoder.lstm.{k}": v for k, v in lstm.state_dict().items()}},
               tmp_path / "bi.pt")
    x = np.random.default_rng(3).normal(size=(2, 7, 4)).astype(np.float32)
    reference = numpy_lstm(numpy_weights(lstm), x.astype(np.float64).transpose(1, 0, 2))
    loaded = load_model(tmp_path / "bi.pt")
    assert (loaded.recurrent.proj_size, loaded.prefix, loaded.embedding.name) == (
        3, "encoder.lstm.", "embed.weight")
    _check_lstm(trace(loaded.recurrent, torch.from_numpy(x)), reference)
    ids = np.array([3, 1, 4, 1, 5, 8, 2, 6])
    reference = numpy_lstm(numpy_weights(lstm), table.double().numpy()[ids][:, None])
    run = runner.invoke(app, ["inspect", str(tmp_path / "bi.pt"), "--ids",
                              " ".join(map(str, ids)), "--out", str(tmp_path / "r")])
    _assert_averages(run, reference, "f", "Forget gates")
    text = _flat(run)
    assert "(h has 3 columns: proj_size 3), 2 layer(s) x 2 direction(s) (bidirectional)" in text
    assert "8 steps x 1 sequence(s)" in text and "embedding embed.weight (9 tokens x 4)" in text
    page = (tmp_path / "r" / "index.html").read_text()
    for label in ("layer 0 · forward", "layer 0 · reverse", "layer 1 · forward",
                  "layer 1 · reverse"):
        assert f"<h2>{label}</h2>" in page
    assert "o * tanh(c)" in (tmp_path / "r" / "explorer.html").read_text()  # h row: per cell


def test_gru_behind_an_embedding(tmp_path):
    torch.manual_seed(4)
    model = torch.nn.ModuleDict({"embedding": torch.nn.Embedding(9, 3),
                                 "gru": torch.nn.GRU(3, 5, num_layers=2, bidirectional=True),
                                 "head": torch.nn.Linear(10, 9)})
    torch.save(model.state_dict(), tmp_path / "gru.pt")
    ids = np.array([1, 4, 4, 2, 8, 0, 3])
    emb = model["embedding"].weight.detach().double().numpy()[ids][:, None]
    reference = numpy_gru(numpy_weights(model["gru"]), emb)
    _check_gru(trace_gru(model["gru"], model["embedding"].weight[torch.from_numpy(ids)][:, None]),
               reference)
    loaded = load_model(tmp_path / "gru.pt")
    assert loaded.kind == "GRU" and loaded.embedding.name == "embedding.weight"
    run = runner.invoke(app, ["inspect", str(tmp_path / "gru.pt"), "--ids",
                              " ".join(map(str, ids)), "--out", str(tmp_path / "r")])
    _assert_averages(run, reference, "z", "Update gates z (the keep share)")
    assert "7 token ids (--ids) through the model's own embedding embedding.weight" in _flat(run)
    index = (tmp_path / "r" / "index.html").read_text()
    assert "h_t = (1 - z_t) * n_t + z_t * h_{t-1}" in index
    assert "c_t = f_t * c_{t-1}" not in index
    explorer = (tmp_path / "r" / "explorer.html").read_text()
    assert "update z (keep)" in explorer and "layer 1 \\u00b7 reverse" in explorer
