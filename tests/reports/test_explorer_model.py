"""Type your own sentence: the LSTM the explorer runs in the page equals torch's nn.LSTM."""

import json
import re

import numpy as np
import pytest
import torch

from lstmlab.errors import UserError
from lstmlab.reports import ExplorerExample, ExplorerModel, write_explorer
from lstmlab.reports._explorer import ROWS
from lstmlab.reports._explorer_model import tokenize

VOCABULARY = ("<unk>", ".", ",", "she", "he", "came", "out", "and", "played", "with", "her",
              "his", "dog")


def test_tokenize_lower_cases_and_splits_punctuation():
    assert tokenize("She came out, and\tplayed with HER dog.") == [
        "she", "came", "out", ",", "and", "played", "with", "her", "dog", "."]
    assert tokenize("  ...  ") == [".", ".", "."]
    assert tokenize("") == []
    assert tokenize("She ran.  Fast,\nnow", "whitespace") == ["She", "ran.", "Fast,", "now"]
    with pytest.raises(UserError, match="tokenizer"):
        tokenize("a", "bpe")


SENTENCES = ("She came OUT, and\tplayed.", "  ..,, x", "Ünïcode İs ΣΑΣ\u2028kept\u00a0too",
             "a\r\nb\fc\vd", "")


@pytest.mark.browser
def test_the_page_tokenizes_like_python(tmp_path, page):
    lstm = _torch_lstm(len(VOCABULARY), 2, seed=4)
    model = ExplorerModel.from_lstm(lstm, VOCABULARY)
    page.goto(write_explorer([_example(["she"], 2)], tmp_path / "e.html", model=model).as_uri())
    for rule in ("words", "whitespace"):
        for sentence in SENTENCES:
            got = page.evaluate("([s, r]) => lstmlabExplorer.tokenize(s, r)", [sentence, rule])
            assert got == tokenize(sentence, rule), (rule, sentence)


def _torch_lstm(input_size, hidden_size, seed):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(input_size, hidden_size, batch_first=True).double()
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.uniform_(-1.5, 1.5)  # large weights: saturating gates are tested too
    return lstm


def _torch_gates(lstm, inputs):
    """States from nn.LSTM run one step at a time; gates from its weights and its h_{t-1}."""
    hidden = lstm.hidden_size
    h = torch.zeros(1, 1, hidden, dtype=torch.float64)
    c = torch.zeros_like(h)
    rows = {row: [] for row in ROWS}
    bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
    with torch.no_grad():
        for x in inputs:
            pre = lstm.weight_ih_l0 @ x + lstm.weight_hh_l0 @ h[0, 0] + bias
            i, f, g, o = pre.split(hidden)
            rows["i"].append(torch.sigmoid(i))
            rows["f"].append(torch.sigmoid(f))
            rows["g"].append(torch.tanh(g))
            rows["o"].append(torch.sigmoid(o))
            _, (h, c) = lstm(x[None, None], (h, c))
            rows["c"].append(c[0, 0].clone())
            rows["h"].append(h[0, 0].clone())
    return {row: torch.stack(values) for row, values in rows.items()}


def _example(words, hidden):
    values = {row: np.full((len(words), hidden), 0.5) for row in ROWS}
    return ExplorerExample(tuple(words), values, units=(1,))


def _embedded_model(path):
    text = path.read_text()
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))["model"]


def test_weights_travel_exactly(tmp_path):
    lstm = _torch_lstm(4, 3, seed=1)
    embedding = torch.randn(len(VOCABULARY), 4, dtype=torch.float64) / 3
    model = ExplorerModel.from_lstm(lstm, VOCABULARY, embedding)
    path = write_explorer([_example(["she"], 3)], tmp_path / "e.html", model=model)
    data = _embedded_model(path)
    np.testing.assert_array_equal(np.array(data["weight_ih"]), lstm.weight_ih_l0.detach())
    np.testing.assert_array_equal(np.array(data["weight_hh"]), lstm.weight_hh_l0.detach())
    np.testing.assert_array_equal(np.array(data["bias"]),
                                  (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach())
    np.testing.assert_array_equal(np.array(data["embedding"]), embedding)
    assert data["vocabulary"] == list(VOCABULARY)


def test_bad_models_are_refused_with_the_argument_named():
    lstm = _torch_lstm(4, 3, seed=1)
    with pytest.raises(UserError, match="embedding: expected shape"):
        ExplorerModel.from_lstm(lstm, VOCABULARY, torch.zeros(len(VOCABULARY) - 1, 4))
    with pytest.raises(UserError, match="weight_ih: .* the embedding's width"):
        ExplorerModel.from_lstm(lstm, VOCABULARY, torch.zeros(len(VOCABULARY), 5))
    with pytest.raises(UserError, match="weight_ih: expected shape"):
        ExplorerModel.from_lstm(lstm, VOCABULARY)  # one-hot needs I = V
    with pytest.raises(UserError, match="unknown"):
        ExplorerModel.from_lstm(lstm, VOCABULARY, torch.zeros(len(VOCABULARY), 4),
                                unknown="<oov>")
    with pytest.raises(UserError, match="non-finite"):
        ExplorerModel(("a",), None, np.full((4, 1), np.nan), np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(UserError, match="distinct"):
        ExplorerModel(("a", "a"), None, np.zeros((4, 2)), np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(UserError, match="hidden size per view"):
        write_explorer([_example(["she"], 2)], "unused.html",
                       model=ExplorerModel.from_lstm(lstm, VOCABULARY,
                                                     torch.zeros(len(VOCABULARY), 4)))


def _type(page, sentence):
    page.fill("#typed", sentence)
    page.click("#run")


@pytest.mark.browser
@pytest.mark.parametrize("one_hot", [False, True])
def test_typed_sentence_equals_torch(tmp_path, page, one_hot):
    width = len(VOCABULARY) if one_hot else 5
    lstm = _torch_lstm(width, 6, seed=2)
    embedding = None if one_hot else torch.randn(len(VOCABULARY), width, dtype=torch.float64)
    model = ExplorerModel.from_lstm(lstm, VOCABULARY, embedding, unknown="<unk>")
    path = write_explorer([_example(["she", "came"], 6)], tmp_path / "explorer.html",
                          model=model)
    page.goto(path.as_uri())
    np.testing.assert_array_equal(  # the page's own weights, parsed by the browser
        np.array(page.evaluate("lstmlabExplorer.data.model.weight_hh")), lstm.weight_hh_l0.detach())
    sentence = "She came OUT, and played with her cat.  he"
    page.select_option("#unit", "1")  # the chosen unit stays chosen for the typed sentence
    _type(page, sentence)
    typed = page.evaluate("lstmlabExplorer.typed")
    words = tokenize(sentence)
    assert typed["words"] == words
    ids = [VOCABULARY.index(w) if w in VOCABULARY else 0 for w in words]  # 'cat' -> <unk>
    assert typed["ids"] == ids
    table = torch.eye(width, dtype=torch.float64) if one_hot else embedding
    expected = _torch_gates(lstm, table[ids])
    for row in ROWS:
        torch.testing.assert_close(torch.tensor(typed[row], dtype=torch.float64), expected[row],
                                   rtol=0, atol=1e-5)
        # Float64 in the page: far closer than the required 1e-5.
        torch.testing.assert_close(torch.tensor(typed[row], dtype=torch.float64), expected[row],
                                   rtol=0, atol=1e-12)
    # The typed sentence is drawn like a built-in example; its label hover shows its values.
    assert page.text_content("#status") == f"input 1, unit 1, {len(words)} tokens"
    assert page.locator('rect.cell[data-row="f"]').count() == len(words)
    page.hover('g.token[data-t="2"]')
    f = expected["f"][2, 1].item()
    assert f"f={f:.4f}" in page.text_content("#tip")
    assert "unknown, read as '<unk>': cat" in page.text_content("#typed-status")
    assert page.errors == [] and page.csp_violations() == []


@pytest.mark.browser
def test_unknown_words_without_an_unknown_row_are_named(tmp_path, page):
    lstm = _torch_lstm(len(VOCABULARY), 3, seed=3)
    model = ExplorerModel.from_lstm(lstm, VOCABULARY)
    page.goto(write_explorer([_example(["she"], 3)], tmp_path / "e.html", model=model).as_uri())
    _type(page, "she saw a zebra")
    message = page.text_content("#typed-status")
    assert "'saw', 'a', 'zebra'" in message and "vocabulary" in message
    assert page.get_attribute("#typed-status", "class") == "error"
    assert page.is_visible("#vocabulary")  # the list the message points to is opened
    assert page.evaluate("lstmlabExplorer.typed") is None
    assert page.text_content("#status") == "input 0, unit 0, 1 tokens"
    _type(page, "   ")
    assert page.text_content("#typed-status") == "Type at least one word."
    assert page.errors == [] and page.csp_violations() == []
