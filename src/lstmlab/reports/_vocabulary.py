"""The vocabularies ``lstmlab inspect --vocab`` reads, and token ids from text or ``--ids``.

Formats (``--vocab-format``, ``auto`` by default):

- ``json``: ``{"token": id, ...}`` or a list of tokens (id = position);
- ``tokens``: one token per line, id = line number (blank lines skipped);
- ``corpus``: the text the model was trained on, read as the ``data.Corpus`` of PyTorch's
  word-language-model example builds its dictionary: each line split on whitespace plus
  ``<eos>`` at its end, ids in order of first appearance.

``auto``: ``.json`` files are json; a file whose non-blank lines each hold one distinct token is
``tokens``; anything else is ``corpus``. A token not in the vocabulary is refused (named),
unless the vocabulary has ``<unk>``: then it reads as ``<unk>`` and the caller says how many did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from lstmlab.errors import UserError

VOCAB_FORMATS = ("auto", "json", "tokens", "corpus")
UNKNOWN = "<unk>"


class InspectError(UserError):
    """An input that does not fit the model, said in one line."""


@dataclass(frozen=True)
class Vocabulary:
    """``ids``: token -> id; ``tokens``: id -> token; ``format`` the one it was read as."""

    ids: dict[str, int]
    tokens: dict[int, str]
    format: str
    path: Path


def check_text(text: str, option: str = "--text") -> str:
    """``text`` unless it holds bytes that are not UTF-8 (lone surrogates from the shell)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InspectError(f"{option}: not valid UTF-8 (byte {ord(text[error.start]) & 0xFF:#04x}"
                           f" at character {error.start}); give UTF-8 text") from None
    return text


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
    check_range(ids, num_tokens, table, vocabulary)
    return torch.tensor(ids)[None], words, len(unknown)


def check_range(ids: list[int], num_tokens: int, table: str,
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
    check_range(ids, num_tokens, table, None)
    tokens = vocabulary.tokens if vocabulary is not None else {}
    return torch.tensor(ids)[None], [tokens.get(i, f"#{i}") for i in ids]
