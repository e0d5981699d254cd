"""The command line: help texts, and one clear line with exit code 2 for bad inputs."""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cli_cases import assert_one_error_line
from lstmlab.cli import app
from lstmlab.introspection import trace

runner = CliRunner()


def test_help_says_what_each_command_does_and_writes():
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for command in ("tour", "inspect", "version"):
        assert command in top.output
    for command in ("tour", "inspect"):
        text = " ".join(runner.invoke(app, [command, "--help"]).output.split())
        assert "index.html" in text and "explorer.html" in text and "--out" in text


def test_version():
    from lstmlab import __version__

    run = runner.invoke(app, ["version"])
    assert run.exit_code == 0 and run.output.strip() == __version__


@pytest.fixture
def lstm_file(tmp_path):
    model = torch.nn.LSTM(5, 4)
    torch.save(model.state_dict(), tmp_path / "lstm.pt")
    return model, tmp_path / "lstm.pt"


def test_inspect_text_writes_the_report_with_the_measured_numbers(lstm_file, tmp_path):
    model, path = lstm_file
    out = tmp_path / "report"
    run = runner.invoke(app, ["inspect", str(path), "--text", "she saw her and she",
                              "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert (out / "index.html").is_file() and (out / "explorer.html").is_file()
    # 4 distinct tokens fit the input width 5: one-hot inputs, so we can recompute the trace.
    layer = trace(model, torch.eye(5)[[0, 1, 2, 3, 0], None, :])[0]
    flat = " ".join(run.output.split())
    assert f"Forget gates average {float(layer.forget.mean()):.3f}" in flat


def test_inspect_array_input(lstm_file, tmp_path):
    _, path = lstm_file
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(2, 6, 5)))
    run = runner.invoke(app, ["inspect", str(path), "--input", str(tmp_path / "x.npy"),
                              "--out", str(tmp_path / "r")])
    assert run.exit_code == 0, run.output
    assert "6 steps x 2 sequence(s)" in " ".join(run.output.split())


def _assert_one_line_error(run, *fragments):
    assert_one_error_line(run.stderr, run.output, run.exit_code, *fragments)


def test_bad_inputs_exit_2_with_one_clear_line(lstm_file, tmp_path):
    _, path = lstm_file
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    _assert_one_line_error(runner.invoke(app, ["inspect", str(tmp_path / "junk.pt"),
                                               "--text", "a b"]), "not a torch file")
    # a GRU is inspected now (tests/interop/test_public_models.py); a simple RNN is refused
    torch.save(torch.nn.RNN(5, 4).state_dict(), tmp_path / "rnn.pt")
    _assert_one_line_error(runner.invoke(app, ["inspect", str(tmp_path / "rnn.pt"),
                                               "--text", "a b"]), "a simple RNN")
    torch.save(torch.nn.LSTM(5, 4), tmp_path / "module.pt")
    _assert_one_line_error(runner.invoke(app, ["inspect", str(tmp_path / "module.pt"),
                                               "--text", "a b"]), "state_dict()")
    np.save(tmp_path / "wide.npy", np.zeros((3, 7)))
    _assert_one_line_error(runner.invoke(app, ["inspect", str(path), "--input",
                                               str(tmp_path / "wide.npy")]),
                           "reads 5 features", "has 7")
    _assert_one_line_error(runner.invoke(app, ["inspect", str(path)]), "exactly one of")


# Keras 3.15's variables call np.asarray(copy=False) on torch tensors: its own numpy-2 notice.
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_inspect_keras_files(tmp_path):
    keras = pytest.importorskip("keras")
    keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(5)]).save(tmp_path / "lstm.keras")
    run = runner.invoke(app, ["inspect", str(tmp_path / "lstm.keras"), "--text", "a b a",
                              "--out", str(tmp_path / "r")])
    assert run.exit_code == 0, run.output
    assert "input width 3, 5 units" in " ".join(run.output.split())
    keras.Sequential([keras.Input((4, 3)), keras.layers.GRU(5)]).save(tmp_path / "gru.keras")
    _assert_one_line_error(runner.invoke(app, ["inspect", str(tmp_path / "gru.keras"), "--text",
                                               "a b"]), "no Keras LSTM layer")
