"""What ``lstmlab inspect`` feeds the model: the model's own token ids, or feature vectors.

Three input paths; the report names the one it used.

1. **The model's own embedding** (a torch state dict with an ``nn.Embedding`` weight beside the
   stack, a Keras ``Embedding`` layer, or a ``--model-class`` holding an ``nn.Embedding``):
   ``--ids "5 17 3"`` gives the token ids directly; ``--text`` is mapped to ids with a
   vocabulary ``--vocab FILE`` in one of three formats (``--vocab-format``, ``auto`` by default):

   - ``json``: ``{"token": id, ...}`` or a list of tokens (id = position);
   - ``tokens``: one token per line, id = line number (blank lines skipped);
   - ``corpus``: the text the model was trained on, read as the ``data.Corpus`` of PyTorch's
     word-language-model example builds its dictionary: each line split on whitespace plus
     ``<eos>`` at its end, ids in order of first appearance.

   ``auto``: ``.json`` files are json; a file whose non-blank lines each hold one distinct
   token is ``tokens``; anything else is ``corpus``. A token not in the vocabulary is refused
   (named), unless the vocabulary has ``<unk>`` (the word-language-model corpora do): then it
   reads as ``<unk>`` and the report says how many did.
2. **Feature vectors from a file**: ``--input`` an array (T, I) or (B, T, I) (.npy without
   pickles, or .pt with ``weights_only``).
3. **Made-up vectors for text** (a model without an embedding): whitespace tokens; if the input
   width I is at least the number of distinct tokens, token k (in order of first appearance) is
   the one-hot e_k, else a fixed random vector N(0, 1/I) from ``seed``. The model never saw
   these: they show the gates' mechanics, not what the model learnt, and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lstmlab.errors import UserError
from lstmlab.interop.model_file import Embedding

VOCAB_FORMATS = ("auto", "json", "tokens", "corpus")
UNKNOWN = "<unk>"
MAX_SEED = 2**63 - 1


class InspectError(UserError):
    """An input that does not fit the model, said in one line."""


@dataclass(frozen=True)
class Vocabulary:
    """``ids``: token -> id; ``tokens``: id -> token; ``format`` the one it was read as."""

    ids: dict[str, int]
    tokens: dict[int, str]
    format: str
    path: Path


@dataclass(frozen=True)
class ModelInput:
    """``ids`` (B, T) long for the embedding path (``embedding`` the table they index), else
    ``features`` (B, T, I); ``words``: one label per position (of the first sequence);
    ``description``: the input path used, one sentence for the report."""

    ids: Tensor | None
    features: Tensor | None
    words: list[str]
    description: str
    embedding: Embedding | None = None

    @property
    def batch(self) -> int:
        return (self.ids if self.ids is not None else self.features).shape[0]


def check_text(text: str, option: str = "--text") -> str:
    """``text`` unless it holds bytes that are not UTF-8 (lone surrogates from the shell)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InspectError(f"{option}: not valid UTF-8 (byte {ord(text[error.start]) & 0xFF:#04x}"
                           f" at character {error.start}); give UTF-8 text") from None
    return text


def check_seed(seed: int) -> int:
    if not 0 <= seed <= MAX_SEED:
        raise InspectError(f"--seed: expected an integer in 0..2**63-1, got {seed}")
    return seed


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise InspectError(f"--vocab {path}: no such file")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InspectError(f"--vocab {path}: not UTF-8 text ({error.reason} at byte "
                           f"{error.start})") from None


def _from_json(path: Path, lines: list[str]) -> dict[str, int]:
    try:
        data = json.loads("\n".join(lines))
    except json.JSONDecodeError as error:
        raise InspectError(f"--vocab {path}: not valid JSON ({error.msg}, line {error.lineno})"
                           ) from None
    if isinstance(data, list) and all(isinstance(t, str) for t in data):
        data = {token: k for k, token in enumerate(data)}
    if not isinstance(data, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in data.values()):
        raise InspectError(f"--vocab {path}: expected a JSON object token -> id (ids integers "
                           ">= 0) or a list of tokens")
    return data


def _from_tokens(path: Path, lines: list[str]) -> dict[str, int]:
    tokens = [line.strip() for line in lines if line.strip()]
    ids: dict[str, int] = {}
    for token in tokens:
        if len(token.split()) != 1:
            raise InspectError(f"--vocab {path}: line {token!r} holds more than one token; "
                               "use --vocab-format corpus for a training text")
        if token in ids:
            raise InspectError(f"--vocab {path}: token {token!r} appears twice")
        ids[token] = len(ids)
    return ids


def _from_corpus(lines: list[str]) -> dict[str, int]:
    """PyTorch's word_language_model ``data.Corpus`` dictionary: words plus <eos> per line."""
    ids: dict[str, int] = {}
    for line in lines:
        for word in line.split() + ["<eos>"]:
            ids.setdefault(word, len(ids))
    return ids


def read_vocabulary(path: Path, format: str = "auto") -> Vocabulary:
    """The vocabulary in ``path`` (module docstring); InspectError for a file that is none."""
    path = Path(path)
    if format not in VOCAB_FORMATS:
        raise InspectError(f"--vocab-format: expected one of {', '.join(VOCAB_FORMATS)}, got "
                           f"{format!r}")
    lines = _read_lines(path)
    if format == "auto":
        words = [line.split() for line in lines if line.strip()]
        single = all(len(w) == 1 for w in words)
        if path.suffix == ".json":
            format = "json"
        elif single and len({w[0] for w in words}) == len(words):
            format = "tokens"
        else:
            format = "corpus"
    ids = {"json": _from_json, "tokens": _from_tokens}.get(
        format, lambda _, text: _from_corpus(text))(path, lines)
    if not ids:
        raise InspectError(f"--vocab {path}: no tokens in it")
    return Vocabulary(ids, {v: k for k, v in ids.items()}, format, path)


def encode_text(text: str, vocabulary: Vocabulary, num_tokens: int, table: str
                ) -> tuple[Tensor, list[str], int]:
    """Whitespace tokens -> ids (1, T), the tokens, and how many read as <unk>."""
    words = check_text(text).split()
    if not words:
        raise InspectError("--text: expected at least one token, got an empty text")
    unknown = [(k, w) for k, w in enumerate(words) if w not in vocabulary.ids]
    if unknown and UNKNOWN not in vocabulary.ids:
        shown = ", ".join(f"'{w}' (token {k})" for k, w in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise InspectError(f"--text: {shown}{more} not in the vocabulary {vocabulary.path} "
                           f"({len(vocabulary.ids)} tokens, read as {vocabulary.format})")
    ids = [vocabulary.ids.get(w, vocabulary.ids.get(UNKNOWN, 0)) for w in words]
    _check_range(ids, num_tokens, table, vocabulary)
    return torch.tensor(ids)[None], words, len(unknown)


def _check_range(ids: list[int], num_tokens: int, table: str,
                 vocabulary: Vocabulary | None) -> None:
    bad = [i for i in ids if not 0 <= i < num_tokens]
    if not bad:
        return
    if vocabulary is not None:
        token = vocabulary.tokens.get(bad[0], "?")
        raise InspectError(f"--vocab {vocabulary.path}: token '{token}' has id {bad[0]}, but "
                           f"the embedding {table} has {num_tokens} rows: not this model's "
                           "vocabulary")
    raise InspectError(f"--ids: id {bad[0]} is outside the embedding {table} (ids 0.."
                       f"{num_tokens - 1})")


def parse_ids(text: str, num_tokens: int, table: str,
              vocabulary: Vocabulary | None) -> tuple[Tensor, list[str]]:
    """``"5 17 3"`` or ``"5,17,3"`` -> ids (1, T) and their labels (the vocabulary's tokens
    when one is given, else ``#5``)."""
    parts = check_text(text, "--ids").replace(",", " ").split()
    if not parts:
        raise InspectError("--ids: expected token ids such as '5 17 3', got nothing")
    try:
        ids = [int(p) for p in parts]
    except ValueError:
        wrong = next(p for p in parts if not p.lstrip("-").isdigit())
        raise InspectError(f"--ids: expected integers separated by spaces or commas, got "
                           f"'{wrong}'") from None
    _check_range(ids, num_tokens, table, None)
    tokens = vocabulary.tokens if vocabulary is not None else {}
    return torch.tensor(ids)[None], [tokens.get(i, f"#{i}") for i in ids]


def text_features(text: str, input_size: int, seed: int) -> tuple[Tensor, list[str], bool]:
    """Whitespace tokens -> x (1, T, I), one-hot or fixed random (module docstring, path 3),
    the tokens, and whether the vectors are one-hot."""
    words = check_text(text).split()
    if not words:
        raise InspectError("--text: expected at least one token, got an empty text")
    index_of: dict[str, int] = {}
    index = torch.tensor([index_of.setdefault(w, len(index_of)) for w in words])
    if input_size >= len(index_of):
        table = torch.eye(input_size)[: len(index_of)]
    else:
        generator = torch.Generator().manual_seed(check_seed(seed))
        table = torch.randn(len(index_of), input_size, generator=generator) / input_size**0.5
    return table[index][None], words, input_size >= len(index_of)


def check_finite(tensor: Tensor, what: str) -> None:
    """InspectError naming ``what`` and how many values are NaN or Inf."""
    bad = int((~torch.isfinite(tensor)).sum())
    if bad:
        nans = int(torch.isnan(tensor).sum())
        raise InspectError(f"{what}: {bad} of {tensor.numel()} values are not finite ({nans} "
                           f"NaN, {bad - nans} Inf); refusing to report on them")


def load_array(path: Path) -> Tensor:
    """An array from .npy (no pickles) or .pt (weights_only), any shape."""
    path = Path(path)
    if not path.is_file():
        raise InspectError(f"--input {path}: no such file")
    try:
        if path.suffix == ".npy":
            array = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            array = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # numpy/torch raise many kinds for a file that is not theirs
        raise InspectError(f"--input {path}: cannot read an array ({type(error).__name__})") \
            from error
    if not isinstance(array, Tensor):
        raise InspectError(f"--input {path}: expected an array, got {type(array).__name__}")
    if array.is_complex():
        raise InspectError(f"--input {path}: a {array.dtype} array; expected real numbers")
    return array


def file_features(array: Tensor, path: Path, input_size: int) -> Tensor:
    """(T, I) or (B, T, I) real array -> (B, T, I) float32, checked."""
    if array.dim() not in (2, 3):
        raise InspectError(f"--input {path}: expected an array (T, I) or (B, T, I), got shape "
                           f"{tuple(array.shape)}")
    array = array[None] if array.dim() == 2 else array
    if array.shape[-1] != input_size:
        raise InspectError(f"--input {path}: the model reads {input_size} features per step, "
                           f"the array has {array.shape[-1]} (shape {tuple(array.shape)})")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InspectError(f"--input {path}: shape {tuple(array.shape)} has no "
                           f"{'sequences' if array.shape[0] == 0 else 'steps'}")
    if array.dtype == torch.bool or not (array.is_floating_point() or array.dtype in (
            torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise InspectError(f"--input {path}: dtype {array.dtype}; expected real numbers")
    array = array.double() if array.dtype == torch.float64 else array.float()
    check_finite(array, f"--input {path}")
    return array


def file_ids(array: Tensor, path: Path, num_tokens: int, table: str) -> Tensor:
    """An integer array (T,) or (B, T) of token ids -> (B, T) long, checked."""
    if array.dim() not in (1, 2) or array.numel() == 0:
        raise InspectError(f"--input {path}: token ids must be (T,) or (B, T) and non-empty, "
                           f"got shape {tuple(array.shape)}")
    ids = array.long().reshape(-1, array.shape[-1])
    _check_range(ids.flatten().tolist(), num_tokens, table, None)
    return ids


def _table(embedding: Embedding) -> str:
    rows, width = embedding.weight.shape
    return f"the model's own embedding {embedding.name} ({rows} tokens x {width})"


def choose_input(*, text: str | None, ids: str | None, input_path: Path | None,
                 vocab: Path | None, vocab_format: str, embedding: Embedding | None,
                 input_size: int, seed: int, takes_ids: bool) -> ModelInput:
    """The model's input from exactly one of ``text``, ``ids`` and ``input_path`` (module
    docstring). ``takes_ids``: the model's forward reads ids (a user class with an
    embedding), so feature arrays are refused."""
    given = [name for name, value in (("--text", text), ("--ids", ids),
                                      ("--input", input_path)) if value is not None]
    if len(given) != 1:
        raise InspectError("give exactly one of --text, --ids and --input"
                           + (f" (got {' and '.join(given)})" if given else ""))
    vocabulary = None if vocab is None else read_vocabulary(vocab, vocab_format)
    if embedding is None and (ids is not None or vocabulary is not None):
        option = "--ids" if ids is not None else "--vocab"
        raise InspectError(f"{option}: the model has no embedding (no nn.Embedding weight "
                           "beside the recurrent stack, no Keras Embedding layer), so it reads "
                           "feature vectors, not token ids; give --text or --input")
    if ids is not None:
        tensor, words = parse_ids(ids, embedding.num_tokens, embedding.name, vocabulary)
        return ModelInput(tensor, None, words, f"Input: {len(words)} token ids (--ids) through "
                          f"{_table(embedding)}.", embedding)
    if text is not None:
        if embedding is None:
            x, words, one_hot = text_features(text, input_size, seed)
            kind = "a one-hot vector" if one_hot else f"a fixed random vector (seed {seed})"
            return ModelInput(None, x, words, f"Input: the model has no embedding, so each "
                              f"distinct token became {kind} of width {input_size}: made-up "
                              "inputs that show the gates' mechanics, not what the model "
                              "learnt.")
        if vocabulary is None:
            raise InspectError(f"--text: the model reads token ids through its own embedding "
                               f"{embedding.name} ({embedding.num_tokens} tokens); give --vocab "
                               "FILE (one token per line, JSON token -> id, or the training "
                               "corpus) or --ids")
        tensor, words, unknown = encode_text(text, vocabulary, embedding.num_tokens,
                                             embedding.name)
        note = f"; {unknown} token(s) not in it read as {UNKNOWN}" if unknown else ""
        return ModelInput(tensor, None, words, f"Input: the text through {_table(embedding)}, "
                          f"mapped to ids with the vocabulary {vocabulary.path.name} (read as "
                          f"{vocabulary.format}, {len(vocabulary.ids)} tokens){note}.",
                          embedding)
    array = load_array(input_path)
    if embedding is not None and not array.is_floating_point() and array.dtype != torch.bool:
        tensor = file_ids(array, input_path, embedding.num_tokens, embedding.name)
        tokens = vocabulary.tokens if vocabulary is not None else {}
        words = [tokens.get(i, f"#{i}") for i in tensor[0].tolist()]
        return ModelInput(tensor, None, words, f"Input: token ids from {input_path.name} "
                          f"({tensor.shape[0]} x {tensor.shape[1]}) through "
                          f"{_table(embedding)}.", embedding)
    if takes_ids:
        raise InspectError(f"--input {input_path}: the model's forward reads token ids (it has "
                           f"the embedding {embedding.name}); give an integer array of ids, "
                           "--ids, or --text with --vocab")
    features = file_features(array, input_path, input_size)
    bypass = f", fed to the recurrent stack directly (the file's embedding {embedding.name} " \
        "is not used)" if embedding is not None else ""
    return ModelInput(None, features, [f"t{t}" for t in range(features.shape[1])],
                      f"Input: the arrays in {input_path.name} ({features.shape[0]} x "
                      f"{features.shape[1]} x {features.shape[2]}){bypass}.")
