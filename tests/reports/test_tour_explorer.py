"""The tour's report carries what the reports package offers: the trained LSTM for typed
sentences, subject and pronoun marks, the gender units highlighted, and the smoke banner.

The end-to-end test trains the quick tour (about 25 s of CPU), so it is marked slow; the fast
tests check the two pieces of wiring on an untrained model and a generated corpus."""

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lstmlab.layers import LSTM
from lstmlab.tasks._pronouns import VOCAB, PronounConfig, generate
from lstmlab.tour import TourConfig, run_tour, write_tour_report
from lstmlab.tour._model import LanguageModel
from lstmlab.tour._report import example_marks, explorer_model


def _fake_result():
    data = generate(6, PronounConfig(sentences_per_example=2, max_clauses=2),
                    generator=torch.Generator().manual_seed(0))
    return SimpleNamespace(test=data, models={"LSTM": LanguageModel(LSTM, len(VOCAB), 5, 4)})


def test_marks_are_the_subjects_and_pronouns_of_the_example():
    result = _fake_result()
    data = result.test
    for n in range(data.tokens.shape[0]):
        words = data.words(n)
        marks = example_marks(result, n)
        assert len(marks["pronoun"]) == 2  # one pronoun per sentence
        assert [words[t] for t in marks["pronoun"]] == [
            ("his", "her")[int(g)] for g in data.query_gender[data.query_example == n]]
        assert all(t < p for t, p in zip(marks["subject"], marks["pronoun"], strict=True))


def test_explorer_model_is_the_lstm_and_its_embedding():
    result = _fake_result()
    model, lm = explorer_model(result), result.models["LSTM"]
    assert model.vocabulary == VOCAB
    np.testing.assert_array_equal(model.weight_ih, lm.recurrent.weight_ih_l0.detach().double())
    np.testing.assert_array_equal(model.embedding, lm.embedding.weight.detach().double())


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    result = run_tour(TourConfig.quick(0))
    out = tmp_path_factory.mktemp("tour")
    return result, write_tour_report(result, out)


@pytest.mark.slow
def test_tour_explorer_carries_the_trained_lstm_marks_and_units(quick_report):
    result, paths = quick_report
    text = paths["explorer"].read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>',
                                text, re.S).group(1))
    lstm = result.models["LSTM"]
    model = data["model"]
    assert model["vocabulary"] == list(VOCAB)
    np.testing.assert_array_equal(np.array(model["weight_hh"]),
                                  lstm.recurrent.weight_hh_l0.detach().double())
    np.testing.assert_array_equal(np.array(model["embedding"]),
                                  lstm.embedding.weight.detach().double())
    bias = (lstm.recurrent.bias_ih_l0.detach().double()
            + lstm.recurrent.bias_hh_l0.detach().double())
    np.testing.assert_array_equal(np.array(model["bias"]), bias)
    first = data["examples"][0]
    words = first["words"]
    assert {words[t] for t in first["marks"]["pronoun"]} <= {"his", "her"}
    assert first["marks"]["subject"] and first["marks"]["pronoun"]
    assert first["units"] == [int(u) for u in result.gates.gender_units]
    assert "Smoke run" in text
    assert "Smoke run" in paths["index"].read_text(encoding="utf-8")

