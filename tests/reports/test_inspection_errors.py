"""Every bad input to ``lstmlab inspect``: exit code 2, one message naming the argument or file
and what was expected, no traceback, and no report written."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lstmlab.cli import app

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def _refused(tmp_path, args, *fragments):
    out = tmp_path / "never"
    run = runner.invoke(app, ["inspect", *map(str, args), "--out", str(out)])
    assert run.exit_code == 2, run.output
    assert "Traceback" not in run.output and run.exception is None or \
        isinstance(run.exception, SystemExit), run.output
    text = " ".join(run.output.split())
    assert text.startswith("error:") and text.count("error:") == 1, text
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    assert not out.exists(), "a report was written for a refused input"
    return text


@pytest.fixture
def lstm_file(tmp_path):
    torch.save(torch.nn.LSTM(5, 4).state_dict(), tmp_path / "lstm.pt")
    return tmp_path / "lstm.pt"


@pytest.fixture
def word_file(tmp_path):
    """An embedding (7 tokens) beside an LSTM, as PyTorch's word-language model saves it."""
    state = {"encoder.weight": torch.randn(7, 3),
             **{f"rnn.{k}": v for k, v in torch.nn.LSTM(3, 4).state_dict().items()},
             "decoder.weight": torch.randn(7, 4), "decoder.bias": torch.zeros(7)}
    torch.save(state, tmp_path / "wlm.pt")
    (tmp_path / "vocab.txt").write_text("a\nb\nc\nd\ne\nf\ng\n")
    return tmp_path / "wlm.pt"


def _save(tmp_path, name, state):
    torch.save(state, tmp_path / name)
    return tmp_path / name


# --- model files -------------------------------------------------------------------------

def test_integer_weights(tmp_path):
    state = {k: (v * 10).long() for k, v in torch.nn.LSTM(5, 4).state_dict().items()}
    _refused(tmp_path, [_save(tmp_path, "int.pt", state), "--text", "a"],
             "weight_ih_l0 has dtype torch.int64", "floating-point")


def test_zero_hidden_units(tmp_path):
    state = {"weight_ih_l0": torch.zeros(0, 5), "weight_hh_l0": torch.zeros(0, 0)}
    _refused(tmp_path, [_save(tmp_path, "zero.pt", state), "--text", "a"], "zero hidden units")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_named_with_count(tmp_path, value):
    state = torch.nn.LSTM(5, 4).state_dict()
    state["weight_hh_l0"][[0, 3], 1] = value
    text = _refused(tmp_path, [_save(tmp_path, "nan.pt", state), "--text", "a"],
                    "weight_hh_l0 has 2 non-finite value(s)")
    assert ("2 NaN" in text) == (value != value)


def test_wrong_weight_hh_shape_says_what_it_should_be(tmp_path):
    state = torch.nn.LSTM(5, 4).state_dict()
    state["weight_hh_l0"] = torch.zeros(16, 7)
    text = _refused(tmp_path, [_save(tmp_path, "bad.pt", state), "--text", "a"],
                    "weight_hh_l0", "4*H rows")
    assert "not an LSTM, not an LSTM" not in text


def test_hh_rows_differ_from_ih_rows(tmp_path):
    state = torch.nn.LSTM(5, 4).state_dict()
    state["weight_hh_l0"] = torch.zeros(12, 4)
    _refused(tmp_path, [_save(tmp_path, "bad.pt", state), "--text", "a"],
             "weight_hh_l0 has 12 rows", "has 16")


def test_simple_rnn_is_not_taken_for_an_lstm(tmp_path):
    _refused(tmp_path, [_save(tmp_path, "rnn.pt", torch.nn.RNN(5, 4).state_dict()),
                        "--text", "a"], "a simple RNN")


def test_torch_garbage_and_pickled_module(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage")
    _refused(tmp_path, [tmp_path / "junk.pt", "--text", "a"], "not a torch file")
    _refused(tmp_path, [_save(tmp_path, "m.pt", torch.nn.LSTM(2, 3)), "--text", "a"],
             "state_dict()")
    _refused(tmp_path, [tmp_path / "missing.pt", "--text", "a"], "no such file")


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    keras = pytest.importorskip("keras")
    folder = tmp_path_factory.mktemp("kerasbad")
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(5)])
    model.save(folder / "good.keras")
    return folder / "good.keras"


def _rezip(source, target, replace):
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(replace)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_keras_bad_crc(tmp_path, keras_file):
    data = bytearray(keras_file.read_bytes())
    with zipfile.ZipFile(keras_file) as archive:
        info = archive.getinfo("model.weights.h5")
    # a byte inside the stored member's data: its CRC-32 no longer matches
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    data[offset] ^= 0xFF
    (tmp_path / "crc.keras").write_bytes(bytes(data))
    _refused(tmp_path, [tmp_path / "crc.keras", "--text", "a"], "crc.keras", "damaged")


def test_keras_garbage_weights_and_bad_config(tmp_path, keras_file):
    garbage = _rezip(keras_file, tmp_path / "garbage.keras", {"model.weights.h5": b"junk"})
    _refused(tmp_path, [garbage, "--text", "a"], "model.weights.h5", "not an HDF5 file")
    config = _rezip(keras_file, tmp_path / "config.keras", {"config.json": b"{not json"})
    _refused(tmp_path, [config, "--text", "a"], "config.json is not valid JSON")
    listed = _rezip(keras_file, tmp_path / "list.keras", {"config.json": b"[1, 2]"})
    _refused(tmp_path, [listed, "--text", "a"], "config.json holds a list")


def _h5(path, build):
    import h5py

    with h5py.File(path, "w") as handle:
        build(handle)
    return path


def test_h5_with_odd_variable_names_or_a_dataset_for_a_group(tmp_path):
    def named(handle):
        handle["layers/lstm/cell/vars/kernel"] = np.zeros((3, 20), np.float32)
        handle["layers/lstm/cell/vars/recurrent"] = np.zeros((5, 20), np.float32)

    _refused(tmp_path, [_h5(tmp_path / "named.weights.h5", named), "--text", "a"],
             "layers/lstm/cell/vars has variables named", "0, 1, 2")

    def dataset(handle):
        handle["layers/lstm"] = np.zeros(3)

    _refused(tmp_path, [_h5(tmp_path / "ds.weights.h5", dataset), "--text", "a"],
             "layers/lstm is an array where Keras stores a group")

    def nan(handle):
        handle["layers/lstm/cell/vars/0"] = np.full((3, 20), np.nan, np.float32)
        handle["layers/lstm/cell/vars/1"] = np.zeros((5, 20), np.float32)
        handle["layers/lstm/cell/vars/2"] = np.zeros(20, np.float32)

    _refused(tmp_path, [_h5(tmp_path / "nan.weights.h5", nan), "--text", "a"],
             "weight_ih_l0 has 60 non-finite value(s) (60 NaN")


# --- inputs ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,what", [((1, 0, 5), "no steps"), ((0, 3, 5), "no sequences")])
def test_empty_arrays(tmp_path, lstm_file, shape, what):
    np.save(tmp_path / "x.npy", np.zeros(shape, np.float32))
    _refused(tmp_path, [lstm_file, "--input", tmp_path / "x.npy"], what)


def test_non_finite_and_complex_inputs(tmp_path, lstm_file):
    x = np.zeros((2, 6, 5), np.float32)
    x[0, 1, :3] = np.nan
    x[1, 2, 0] = np.inf
    np.save(tmp_path / "nan.npy", x)
    _refused(tmp_path, [lstm_file, "--input", tmp_path / "nan.npy"],
             "nan.npy: 4 of 60 values are not finite (3 NaN, 1 Inf)")
    np.save(tmp_path / "complex.npy", np.zeros((3, 5), np.complex64))
    _refused(tmp_path, [lstm_file, "--input", tmp_path / "complex.npy"], "complex64",
             "real numbers")
    np.save(tmp_path / "wide.npy", np.zeros((3, 7), np.float32))
    _refused(tmp_path, [lstm_file, "--input", tmp_path / "wide.npy"], "reads 5 features",
             "has 7")
    torch.save({"x": torch.zeros(3)}, tmp_path / "dict.pt")
    _refused(tmp_path, [lstm_file, "--input", tmp_path / "dict.pt"], "expected an array")


def test_text_that_is_not_utf8_and_seeds_out_of_range(tmp_path, lstm_file):
    _refused(tmp_path, [lstm_file, "--text", "caf\udcc3\udca9 \udcff"], "--text: not valid UTF-8",
             "0xc3")
    _refused(tmp_path, [lstm_file, "--text", "a b", "--seed", str(2**64)], "--seed",
             "0..2**63-1")
    _refused(tmp_path, [lstm_file, "--text", "a b", "--seed", "-1"], "--seed")


def test_exactly_one_input(tmp_path, lstm_file):
    _refused(tmp_path, [lstm_file], "exactly one of --text, --ids and --input")
    _refused(tmp_path, [lstm_file, "--text", "a", "--ids", "1"], "got --text and --ids")


# --- vocabularies and ids ----------------------------------------------------------------

def test_ids_without_an_embedding(tmp_path, lstm_file):
    _refused(tmp_path, [lstm_file, "--ids", "1 2"], "--ids: the model has no embedding")
    (tmp_path / "v.txt").write_text("a\nb\n")
    _refused(tmp_path, [lstm_file, "--text", "a b", "--vocab", tmp_path / "v.txt"],
             "--vocab: the model has no embedding")


def test_text_into_an_embedding_needs_a_vocabulary(tmp_path, word_file):
    _refused(tmp_path, [word_file, "--text", "a b"], "own embedding encoder.weight (7 tokens)",
             "--vocab")


def test_unknown_tokens_are_named(tmp_path, word_file):
    text = _refused(tmp_path, [word_file, "--text", "a zebra b yak", "--vocab",
                               tmp_path / "vocab.txt"], "'zebra' (token 1), 'yak' (token 3)",
                    "not in the vocabulary", "7 tokens, read as tokens")
    assert "Traceback" not in text


def test_a_vocabulary_too_large_for_the_embedding(tmp_path, word_file):
    (tmp_path / "big.json").write_text(json.dumps({"a": 0, "b": 9}))
    _refused(tmp_path, [word_file, "--text", "a b", "--vocab", tmp_path / "big.json"],
             "token 'b' has id 9", "encoder.weight has 7 rows", "not this model's vocabulary")


@pytest.mark.parametrize("content,fragment", [
    (b"{not json", "not valid JSON"), (b'{"a": "x"}', "token -> id"),
    (b"\xff\xfe\x00bad", "not UTF-8 text"), (b"\n\n", "no tokens")])
def test_broken_vocabulary_files(tmp_path, word_file, content, fragment):
    name = "v.json" if content.startswith(b"{") else "v.txt"
    (tmp_path / name).write_bytes(content)
    _refused(tmp_path, [word_file, "--text", "a", "--vocab", tmp_path / name], fragment)
    _refused(tmp_path, [word_file, "--text", "a", "--vocab", tmp_path / "nope.txt"],
             "no such file")


@pytest.mark.parametrize("ids,fragment", [("1 x 2", "got 'x'"), ("1 7", "id 7 is outside"),
                                          ("-1", "id -1 is outside"), (" ", "got nothing")])
def test_bad_ids(tmp_path, word_file, ids, fragment):
    _refused(tmp_path, [word_file, "--ids", ids], "--ids", fragment)


# --- --model-class -----------------------------------------------------------------------

MODULE = '''
import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self, vocab, width=3, hidden=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, hidden, batch_first=True)

    def forward(self, ids):
        return self.lstm(self.embed(ids))[0]


class NeedsTwo(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4)

    def forward(self, x, lengths, mask):
        return self.lstm(x)
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "user_models.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    import sys

    monkeypatch.setattr(sys, "path", list(sys.path))
    from torch import nn

    model = nn.Module()
    model.embed, model.lstm = nn.Embedding(7, 3), nn.LSTM(3, 4, batch_first=True)
    torch.save(model.state_dict(), tmp_path / "tagger.pt")
    return tmp_path / "tagger.pt"


@pytest.mark.parametrize("spec,args,fragment", [
    ("user_models", "[7]", "expected package.module:Class"),
    ("no_such_module:X", "[7]", "cannot import no_such_module"),
    ("user_models:Missing", "[7]", "has no nn.Module class Missing"),
    ("user_models:Tagger", "{bad", "--model-args: not valid JSON"),
    ("user_models:Tagger", '"7"', "expected a JSON object"),
    ("user_models:Tagger", '{"size": 7}', "Tagger(...) raised TypeError"),
    ("user_models:Tagger", "[9]", "does not fit Tagger"),
    ("user_models:NeedsTwo", "[]", "does not fit NeedsTwo"),
])
def test_model_class_errors(tmp_path, user_module, spec, args, fragment):
    _refused(tmp_path, [user_module, "--model-class", spec, "--model-args", args, "--ids",
                        "1 2"], fragment)


def test_model_class_forward_errors(tmp_path, user_module):
    _refused(tmp_path, [user_module, "--model-class", "user_models:Tagger", "--model-args",
                        "[7]", "--input", _array(tmp_path)], "forward reads token ids")


def _array(tmp_path):
    np.save(tmp_path / "f.npy", np.zeros((4, 3), np.float32))
    return tmp_path / "f.npy"


def test_model_class_forward_that_needs_more_arguments(tmp_path, monkeypatch):
    (tmp_path / "user_models.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    torch.save({f"lstm.{k}": v for k, v in torch.nn.LSTM(3, 4).state_dict().items()},
               tmp_path / "two.pt")
    _refused(tmp_path, [tmp_path / "two.pt", "--model-class", "user_models:NeedsTwo",
                        "--input", _array(tmp_path)], "forward needs (lengths, mask)")


def test_io_of_keras_zip_without_weights(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", "{}")
    (tmp_path / "empty.keras").write_bytes(buffer.getvalue())
    _refused(tmp_path, [tmp_path / "empty.keras", "--text", "a"], "without model.weights.h5")


def test_out_that_cannot_be_a_folder_in_the_library(tmp_path, lstm_file):
    """The CLI checks --out when parsing (tests/test_cli_errors.py); inspect_model checks it
    too, before any work, for Python callers."""
    from lstmlab.errors import UserError
    from lstmlab.reports.inspection import inspect_model

    (tmp_path / "file").write_text("x")
    for out, fragment in ((tmp_path / "file", "out: expected a folder to write into, but .* is "
                                              "a file"),
                          (tmp_path / "file" / "below", "lies below .*, which is a file"),
                          (Path("/dev/null"), "is a device")):
        with pytest.raises(UserError, match=fragment):
            inspect_model(lstm_file, text="a", out=out)
