"""The tour's built-in corpus: a possessive pronoun must agree with the current subject.

The seeds' example ("She came out and played with her dog"): to predict *her* rather than *his*,
a language model must carry the subject's gender from the subject to the pronoun, across
intervening words, past nouns of the other gender, and must replace it when the next sentence
brings a new subject. Nothing is downloaded: the sentences come from a small grammar.

Grammar (one sentence; ``|`` = choice, ``*`` = repetition, drawn uniformly unless stated):

    SENTENCE = SUBJECT CLAUSE ("and" CLAUSE)^k "and" FINAL PRONOUN OBJECT "."
    SUBJECT  = "he" | "she"                        (probability ``pronoun_subject_prob``)
             | "the" NOUN                           (otherwise; NOUN of the subject's gender)
    CLAUSE   = a verb phrase, some with a person slot: "met the X", "talked to the X", ...
    X        = NOUN                                 (probability ``distractor_prob``; the
                                                     noun's gender drawn anew, independent of
                                                     the subject's: when it is the other one,
                                                     the noun is an *attractor*)
               [ "who" FINAL POSSESSIVE OBJECT ]    (probability ``relative_prob``; the
                                                     possessive agrees with X, not the subject)
             | a gender-neutral person              (otherwise: "teacher", "child", ...)
    FINAL    = "played with" | "looked for" | "fed" | "washed" | "lost" | "found"
    PRONOUN  = "his" if the subject is male else "her"
    OBJECT   = "dog" | "cat" | "ball" | ...

with k uniform in ``min_clauses``..``max_clauses`` and the subject's gender drawn anew for
every sentence (a subject change across a sentence boundary half of the time). One example is
``sentences_per_example`` sentences in a row; examples are padded with ``<pad>`` (id 0).

Attractors are the agreement-attraction setting of Linzen, Dupoux & Goldberg (2016, "Assessing
the ability of LSTMs to learn syntax-sensitive dependencies", TACL 4): a noun of the other
class between the controller and the agreeing word. Because a noun in between has either
gender at random, the only way to the right pronoun is to carry the subject's gender across
the whole sentence: nothing nearer gives it away (``PronounData.attracted`` flags the
pronouns with an attractor in between).

Every draw uses the ``torch.Generator`` passed in: same seed, same corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

MALE_NOUNS = ("boy", "man", "king", "father", "brother", "uncle", "prince", "son")
FEMALE_NOUNS = ("girl", "woman", "queen", "mother", "sister", "aunt", "princess", "daughter")
NEUTRAL_PEOPLE = ("teacher", "child", "doctor", "farmer", "friend", "baker")
OBJECTS = ("dog", "cat", "ball", "book", "bike", "kite", "hat", "horse")
FINALS = (("played", "with"), ("looked", "for"), ("fed",), ("washed",), ("lost",), ("found",))
# A clause is a tuple of words; "X" marks the person slot.
CLAUSES = (
    ("came", "out"),
    ("went", "to", "the", "park"),
    ("met", "the", "X"),
    ("talked", "to", "the", "X"),
    ("ran", "home"),
    ("saw", "the", "X", "near", "the", "river"),
    ("walked", "past", "the", "X"),
    ("sat", "in", "the", "garden"),
    ("waited", "for", "the", "X"),
    ("sang", "a", "song"),
)
PAD = "<pad>"
MALE, FEMALE = 0, 1
PRONOUNS = ("his", "her")  # indexed by gender
SUBJECT_PRONOUNS = ("he", "she")


def _vocabulary() -> tuple[str, ...]:
    words = [PAD, ".", "and", "the", "who", *SUBJECT_PRONOUNS, *PRONOUNS, *MALE_NOUNS,
             *FEMALE_NOUNS, *NEUTRAL_PEOPLE, *OBJECTS]
    for phrase in (*FINALS, *CLAUSES):
        words.extend(w for w in phrase if w != "X")
    return tuple(dict.fromkeys(words))


VOCAB: tuple[str, ...] = _vocabulary()
WORD_TO_ID: dict[str, int] = {w: k for k, w in enumerate(VOCAB)}
# indexed by the subject's gender: the ids of the nouns of the other gender
ATTRACTOR_IDS = (torch.tensor([WORD_TO_ID[w] for w in FEMALE_NOUNS]),
                 torch.tensor([WORD_TO_ID[w] for w in MALE_NOUNS]))


@dataclass(frozen=True)
class PronounConfig:
    """How the sentences are drawn (see the module docstring for the grammar)."""

    sentences_per_example: int = 3
    max_clauses: int = 4
    min_clauses: int = 0
    distractor_prob: float = 0.5
    pronoun_subject_prob: float = 0.3
    relative_prob: float = 0.0

    def __post_init__(self) -> None:
        if self.sentences_per_example < 1:
            raise ValueError(
                f"sentences_per_example must be >= 1, got {self.sentences_per_example}"
            )
        if self.max_clauses < 0:
            raise ValueError(f"max_clauses must be >= 0, got {self.max_clauses}")
        if not 0 <= self.min_clauses <= self.max_clauses:
            raise ValueError(f"min_clauses must lie in 0..max_clauses={self.max_clauses}, got "
                             f"{self.min_clauses}")
        for name in ("distractor_prob", "pronoun_subject_prob", "relative_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")


@dataclass(frozen=True)
class PronounData:
    """A batch of examples and, for every pronoun, where its subject is.

    ``tokens``: (N, T) long, word ids, ``<pad>`` (0) after ``lengths[n]``. ``subject_gender``:
    (N, T) long, the gender of the subject in force at each step (0 male, 1 female, from the
    subject's word on; -1 before the first subject and at padding): the per-step label for unit
    finding. One row per pronoun (Q in all): ``query_example``, ``query_subject`` (position of
    the gendered subject word), ``query_pronoun`` (position of his/her), ``query_gender``, each
    (Q,) long. A model predicts the pronoun at step ``query_pronoun - 1``.
    """

    tokens: Tensor
    lengths: Tensor
    subject_gender: Tensor
    query_example: Tensor
    query_subject: Tensor
    query_pronoun: Tensor
    query_gender: Tensor

    @property
    def distance(self) -> Tensor:
        """(Q,) tokens from the subject word to its pronoun."""
        return self.query_pronoun - self.query_subject

    @property
    def attracted(self) -> Tensor:
        """(Q,) bool: a noun of the other gender (an attractor) lies between the subject and
        its pronoun."""
        flags = []
        for n, s, p, g in zip(self.query_example.tolist(), self.query_subject.tolist(),
                              self.query_pronoun.tolist(), self.query_gender.tolist(),
                              strict=True):
            other = ATTRACTOR_IDS[g]
            flags.append(bool(torch.isin(self.tokens[n, s + 1 : p], other).any()))
        return torch.tensor(flags, dtype=torch.bool)

    def words(self, example: int) -> list[str]:
        """The words of one example, without padding."""
        return [VOCAB[k] for k in self.tokens[example, : int(self.lengths[example])].tolist()]


def _pick(options: tuple, generator: torch.Generator):
    return options[int(torch.randint(len(options), (1,), generator=generator))]


def _coin(prob: float, generator: torch.Generator) -> bool:
    return bool(torch.rand((), generator=generator) < prob)


def _sentence(config: PronounConfig, generator: torch.Generator) -> tuple[list[str], int, int, int]:
    """One sentence: its words, the subject word's index, the pronoun's index, the gender."""
    gender = int(torch.randint(2, (1,), generator=generator))
    own = MALE_NOUNS if gender == MALE else FEMALE_NOUNS
    if _coin(config.pronoun_subject_prob, generator):
        words, subject = [SUBJECT_PRONOUNS[gender]], 0
    else:
        words, subject = ["the", _pick(own, generator)], 1
    num_clauses = 1 + config.min_clauses + int(torch.randint(
        config.max_clauses - config.min_clauses + 1, (1,), generator=generator))
    for k in range(num_clauses):
        if k > 0:
            words.append("and")
        for word in _pick(CLAUSES, generator):
            if word == "X":
                if _coin(config.distractor_prob, generator):
                    # a gendered noun of either gender: its gender tells nothing about the
                    # subject's, and when it is the other one it is an attractor
                    noun_gender = int(torch.randint(2, (1,), generator=generator))
                    word = _pick((MALE_NOUNS, FEMALE_NOUNS)[noun_gender], generator)
                    if _coin(config.relative_prob, generator):
                        # the noun's own possessive, agreeing with the noun
                        words.extend([word, "who", *_pick(FINALS, generator),
                                      PRONOUNS[noun_gender]])
                        word = _pick(OBJECTS, generator)
                else:
                    word = _pick(NEUTRAL_PEOPLE, generator)
            words.append(word)
    words.append("and")
    words.extend(_pick(FINALS, generator))
    pronoun = len(words)
    words.extend([PRONOUNS[gender], _pick(OBJECTS, generator), "."])
    return words, subject, pronoun, gender


def generate(
    num_examples: int, config: PronounConfig = PronounConfig(), *, generator: torch.Generator
) -> PronounData:
    """Draw ``num_examples`` examples of ``config.sentences_per_example`` sentences each."""
    if num_examples < 1:
        raise ValueError(f"num_examples must be >= 1, got {num_examples}")
    rows, labels, queries = [], [], []
    for n in range(num_examples):
        words: list[str] = []
        label: list[int] = []
        for _ in range(config.sentences_per_example):
            sentence, subject, pronoun, gender = _sentence(config, generator)
            offset = len(words)
            # The label switches at the subject word; words before it keep the previous subject.
            previous = label[-1] if label else -1
            label.extend([previous] * subject + [gender] * (len(sentence) - subject))
            words.extend(sentence)
            queries.append((n, offset + subject, offset + pronoun, gender))
        rows.append([WORD_TO_ID[w] for w in words])
        labels.append(label)
    length = max(len(r) for r in rows)
    tokens = torch.zeros(num_examples, length, dtype=torch.long)
    subject_gender = torch.full((num_examples, length), -1, dtype=torch.long)
    for n, (row, label) in enumerate(zip(rows, labels, strict=True)):
        tokens[n, : len(row)] = torch.tensor(row)
        subject_gender[n, : len(label)] = torch.tensor(label)
    q = torch.tensor(queries, dtype=torch.long)
    return PronounData(
        tokens=tokens,
        lengths=torch.tensor([len(r) for r in rows]),
        subject_gender=subject_gender,
        query_example=q[:, 0],
        query_subject=q[:, 1],
        query_pronoun=q[:, 2],
        query_gender=q[:, 3],
    )
