"""inspect's inputs: the vocabulary formats (PyTorch word-language model's data.Corpus among
them), ids, and the retention window against the full retention matrix."""

import json

import pytest
import torch

from lstmlab.interop import load_model
from lstmlab.interop._model_file import find_embedding
from lstmlab.introspection import LayerTrace, retention_matrix, trace
from lstmlab.reports import InspectError
from lstmlab.reports._inspect_input import text_features
from lstmlab.reports._inspect_views import centred_window, window_retention
from lstmlab.reports._vocabulary import encode_text, parse_ids, read_vocabulary


def test_corpus_dictionary_as_data_corpus_builds_it(tmp_path):
    (tmp_path / "train.txt").write_text("the cat sat\n\nthe  dog sat down\n")
    vocab = read_vocabulary(tmp_path / "train.txt")
    # data.Corpus: words + <eos> per line (an empty line adds only <eos>), first appearance
    assert vocab.format == "corpus"
    assert vocab.ids == {"the": 0, "cat": 1, "sat": 2, "<eos>": 3, "dog": 4, "down": 5}


def test_token_list_json_and_explicit_formats(tmp_path):
    (tmp_path / "v.txt").write_text("<pad>\nhello\n\nworld\n")
    assert read_vocabulary(tmp_path / "v.txt").ids == {"<pad>": 0, "hello": 1, "world": 2}
    assert read_vocabulary(tmp_path / "v.txt", "corpus").ids == {
        "<pad>": 0, "<eos>": 1, "hello": 2, "world": 3}
    (tmp_path / "v.json").write_text(json.dumps({"a": 3, "b": 1}))
    assert read_vocabulary(tmp_path / "v.json").tokens == {3: "a", 1: "b"}
    (tmp_path / "list.json").write_text(json.dumps(["x", "y"]))
    assert read_vocabulary(tmp_path / "list.json").ids == {"x": 0, "y": 1}
    (tmp_path / "dup.txt").write_text("a\na\n")
    with pytest.raises(InspectError, match="appears twice"):
        read_vocabulary(tmp_path / "dup.txt", "tokens")
    with pytest.raises(InspectError, match="--vocab-format"):
        read_vocabulary(tmp_path / "v.txt", "yaml")


def test_unknown_tokens_read_as_unk_when_the_vocabulary_has_it(tmp_path):
    (tmp_path / "v.txt").write_text("<unk>\na\nb\n")
    ids, words, unknown = encode_text("a zebra b", read_vocabulary(tmp_path / "v.txt"), 3, "e")
    assert ids.tolist() == [[1, 0, 2]] and words == ["a", "zebra", "b"] and unknown == 1


def test_ids_and_their_labels(tmp_path):
    (tmp_path / "v.txt").write_text("a\nb\nc\n")
    ids, words = parse_ids("2, 0 1", 3, "e", read_vocabulary(tmp_path / "v.txt"))
    assert ids.tolist() == [[2, 0, 1]] and words == ["c", "a", "b"]
    assert parse_ids("1", 3, "e", None)[1] == ["#1"]


def test_text_features_scale_to_many_distinct_tokens():
    words = [f"w{k}" for k in range(3000)] * 3
    x, tokens, one_hot = text_features(" ".join(words), 8, seed=1)
    assert x.shape == (1, 9000, 8) and not one_hot
    torch.testing.assert_close(x[0, 0], x[0, 3000])
    x, _, one_hot = text_features("b a b", 3, seed=0)
    assert one_hot and x[0].tolist() == [[1, 0, 0], [0, 1, 0], [1, 0, 0]]


def test_embedding_found_under_any_prefix_and_never_a_linear_layer():
    lstm = {f"rnn.{k}": v for k, v in torch.nn.LSTM(3, 4).state_dict().items()}
    for name in ("encoder", "embedding", "embed", "model.tok_embed", "wte"):
        state = {"decoder.weight": torch.zeros(9, 3), "decoder.bias": torch.zeros(9),
                 "other.weight": torch.zeros(5, 3), f"{name}.weight": torch.zeros(7, 3),
                 **lstm}
        assert find_embedding(state, "rnn.", 3).name == f"{name}.weight"
    assert find_embedding({"decoder.weight": torch.zeros(9, 3), "decoder.bias": torch.zeros(9),
                           **lstm}, "rnn.", 3) is None


def test_extra_keys_containing_l_are_not_layers(tmp_path):
    state = {**torch.nn.LSTM(3, 4).state_dict(), "head_layer.weight": torch.zeros(2, 4),
             "head_layer.bias": torch.zeros(2), "label_lookup": torch.zeros(3)}
    torch.save(state, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.recurrent.num_layers == 1 and loaded.prefix == ""


@pytest.mark.parametrize("reverse", [False, True])
def test_window_retention_equals_the_full_matrix_inside_the_window(reverse):
    torch.manual_seed(0)
    forget = torch.rand(12, 1, 3, dtype=torch.float64)
    zeros = torch.zeros(12, 1, 3, dtype=torch.float64)
    layer = LayerTrace(zeros, forget, zeros, zeros, zeros, zeros, zeros[0], zeros[0],
                       reverse=reverse)
    full = retention_matrix(layer, 0)
    window = window_retention(forget[:, 0], 3, 9, reverse)
    torch.testing.assert_close(window, full[3:9, 3:9])
    assert centred_window(12, 11, 6) == (6, 12) and centred_window(12, 0, 6) == (0, 6)
    assert centred_window(4, 2, 6) == (0, 4)


def test_trace_is_not_quadratic_in_the_report():
    """The per-pair view is built for the window only: W x W x H, whatever T is."""
    model = torch.nn.LSTM(2, 3)
    layer = trace(model, torch.randn(5000, 1, 2))[0]
    assert window_retention(layer.forget[:, 0], 100, 160, False).shape == (60, 60, 3)
