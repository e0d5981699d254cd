"""Experiment 1 of [H97]: the embedded Reber grammar (Hochreiter & Schmidhuber 1997, §5.1).

The grammar (Smith & Zipser 1989; Cleeremans et al. 1989; Fahlman 1991). [H97] shows it only
as Figures 3-4; the graph below is the standard one those papers use. The inner Reber grammar,
states 1-6, each edge taken with probability 0.5 where there is a choice (§5.1):

    B -> 1;  1: T -> 2 | P -> 3;  2: S -> 2 | X -> 4;  3: T -> 3 | V -> 5;
             4: X -> 3 | S -> 6;  5: P -> 4 | V -> 6;  6: E -> end

The embedded grammar wraps it: ``B, c, <inner Reber string>, c, E`` with ``c`` = T or P
(probability 0.5). "To correctly predict the symbol before last, the net has to remember the
second symbol." The shortest strings have 9 symbols, [H97] Table 10's p = 9.

Coding (§5.1): local, 7 input and 7 output units in the order ``SYMBOLS`` = B, T, P, S, X, V, E
(the order is our choice; the paper does not give one). The net reads symbols 0..L-2 and is
trained at every step on the next symbol (``targets`` one-hot, ``mask`` every real step);
``choices`` holds every symbol the grammar allows next. ``targets="allowed"`` trains on
``choices`` instead (1 for every symbol the grammar allows next, 0 for the rest): the reading
``1:allowed-targets`` of :mod:`lstmlab.reproduce._readings`, since the paper's success criterion
speaks of "the output unit(s) corresponding to the possible next symbol(s)" and does not say
what the targets were.

Data (§5.1, Table 11 "t1"): 256 training strings drawn at random (duplicates allowed: the paper
says only "generated randomly"; ``unique_train`` makes them distinct) and 256 test strings
"generated randomly, too, but sequences already used in the training set are not used for
testing" (test strings may repeat among themselves; the paper does not forbid it); training
exemplars are picked at random from the training set. Three random
training/test pairs x 10 weight initialisations = 30 trials per row of Table 1: ``data_seed``
selects the pair.

Success (§5.1): "all string symbols of all sequences in both test set and training set are
predicted correctly -- that is, if the output unit(s) corresponding to the possible next
symbol(s) is(are) always the most active ones": at every step, every allowed unit is strictly
above every other unit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from lstmlab.cells import G2, H1
from lstmlab.tasks._batch import Batch, check_outputs, valid_step_mask
from lstmlab.tasks._published import PublishedRow
from lstmlab.tasks._setup import BiasedUnits, Connectivity, Setup1997
from lstmlab.tasks._stopping import TestSetRule
from lstmlab.tasks._words import MAX_RANGE, WordStream

SYMBOLS = ("B", "T", "P", "S", "X", "V", "E")
INDEX = {s: k for k, s in enumerate(SYMBOLS)}
#: The inner Reber grammar: state -> ((symbol, next state), ...); None = the string's end.
REBER: dict[int, tuple[tuple[str, int | None], ...]] = {
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
    6: (("E", None),),
}


class Coins:
    """Fair coin flips from ``generator``, drawn in chunks (a string needs a few dozen)."""

    def __init__(self, generator: torch.Generator, chunk: int = 4096) -> None:
        self.generator, self.chunk, self.bits, self.used = generator, chunk, [], 0

    def __call__(self) -> int:
        if self.used == len(self.bits):
            self.bits = torch.randint(2, (self.chunk,), generator=self.generator).tolist()
            self.used = 0
        self.used += 1
        return self.bits[self.used - 1]


def embedded_reber(flip: Callable[[], int]) -> tuple[str, list[frozenset[str]]]:
    """One embedded Reber string and, for each symbol, the set of symbols allowed next
    (empty after the final E)."""
    branch = ("T", "P")[flip()]
    symbols, allowed = ["B", branch, "B"], [frozenset("TP"), frozenset("B"), frozenset("TP")]
    state: int | None = 1
    while state is not None:
        edges = REBER[state]
        symbol, state = edges[flip()] if len(edges) == 2 else edges[0]
        symbols.append(symbol)
        allowed.append(frozenset(e[0] for e in REBER[state]) if state else frozenset(branch))
    symbols += [branch, "E"]
    allowed += [frozenset("E"), frozenset()]
    return "".join(symbols), allowed


def allowed_next(string: str) -> list[frozenset[str]]:
    """The allowed-next sets of an embedded Reber string (it is determined by the string)."""
    flips = iter(_replay(string))
    return embedded_reber(lambda: next(flips))[1]


def _replay(string: str) -> list[int]:
    """The coin flips that generate ``string`` (the grammar is deterministic given them)."""
    flips, state = [("T", "P").index(string[1])], 1
    for symbol in string[3:-2]:
        edges = REBER[state]
        choice = [e[0] for e in edges].index(symbol)
        if len(edges) == 2:
            flips.append(choice)
        state = edges[choice][1]
    return flips


#: What an ``EmbeddedReber`` trains on: the next symbol (one-hot) or every allowed next symbol.
TARGETS = ("next", "allowed")
#: How its training strings are presented: picked at random (§5.1), or swept through in the
#: set's order, epoch after epoch (the JKU simulator; the reading ``1:sweep``).
ORDERS = ("random", "sweep")


def encode(strings: list[str], targets: str = "next") -> Batch:
    """Strings -> next-symbol batch: inputs symbols 0..L-2, targets symbols 1..L-1 (one-hot),
    or with ``targets="allowed"`` every symbol the grammar allows at 1..L-1 (``choices``)."""
    if targets not in TARGETS:
        raise ValueError(f"targets: expected one of {', '.join(TARGETS)}, received {targets!r}")
    lengths = torch.tensor([len(s) - 1 for s in strings])
    steps = int(lengths.max())
    inputs = torch.zeros(steps, len(strings), len(SYMBOLS))
    target = torch.zeros_like(inputs)
    choices = torch.zeros_like(inputs, dtype=torch.bool)
    for b, string in enumerate(strings):
        allowed = allowed_next(string)
        for t in range(len(string) - 1):
            inputs[t, b, INDEX[string[t]]] = 1.0
            target[t, b, INDEX[string[t + 1]]] = 1.0
            for symbol in allowed[t]:
                choices[t, b, INDEX[symbol]] = True
    if targets == "allowed":
        target = choices.to(target.dtype)
    return Batch(inputs, target, valid_step_mask(lengths, steps), lengths, choices=choices)


def _chunks(strings: list[str], batch_size: int, targets: str = "next") -> Iterator[Batch]:
    for start in range(0, len(strings), batch_size):
        yield encode(strings[start:start + batch_size], targets)


def most_active_correct(outputs: Tensor, batch: Batch) -> Tensor:
    """(B,) True where at every masked step every allowed unit beats every other unit."""
    check_outputs(outputs, batch)
    return most_active_steps(outputs, batch.choices, batch.mask).all(dim=0)


def most_active_steps(outputs: Tensor, choices: Tensor, mask: Tensor) -> Tensor:
    """:func:`most_active_correct` step by step, on bare tensors with any batch dimensions:
    ``outputs`` and ``choices`` (T, ..., O), ``mask`` (T, ...) -> (T, ...), True where every
    allowed unit beats every other unit or the step is masked out."""
    low = torch.where(choices, outputs, torch.inf).amin(dim=-1)
    high = torch.where(choices, -torch.inf, outputs).amax(dim=-1)
    return (low > high) | ~mask


def _setup(name: str, blocks: int, size: int, weights: int, lr: float) -> Setup1997:
    return Setup1997(
        experiment=name, blocks=blocks, block_size=size, input_size=7, output_size=7,
        weights=weights, connectivity=Connectivity.F, biased=BiasedUnits.GATES,
        output_gate=True, output_gate_bias=tuple(-float(k + 1) for k in range(blocks)),
        input_gate_bias=None, h=H1, g=G2, learning_rate=lr, init_range=0.2, trials=30,
        test_size=256, source="[H97] §5.1, Tables 1, 10, 11")


#: [H97] Table 10 rows 1-1 ... 1-5 (output-gate biases -1, -2, -3(, -4); input-gate bias "r",
#: random in [-0.1, 0.1], narrower than the [-0.2, 0.2] of the other weights: see _setup.py).
SETUPS = {
    "1-1": _setup("1-1", 4, 1, 264, 0.1),
    "1-2": _setup("1-2", 3, 2, 276, 0.1),
    "1-3": _setup("1-3", 3, 2, 276, 0.2),
    "1-4": _setup("1-4", 4, 1, 264, 0.5),
    "1-5": _setup("1-5", 3, 2, 276, 0.5),
}
SETUP = SETUPS["1-5"]
_ALL_RIGHT = "all training and test strings right"
PUBLISHED = (
    # 12 hidden first: the tables pair a measured row with a method's first published row,
    # and `--method rtrl` runs this net (competitors.methods.paper_settings).
    PublishedRow("rtrl", "12 hidden, lr=0.1", None, None, 25_000,
                 '"some fraction" successful; ~494 weights', "[H97] Table 1"),
    PublishedRow("rtrl", "3 hidden, lr=0.05", None, None, 173_000,
                 '"some fraction" successful; ~170 weights', "[H97] Table 1"),
    PublishedRow("elman", "15 hidden", None, 0.0, None, "no success in >200,000; ~435 weights",
                 "[H97] Table 1"),
    PublishedRow("rcc", "7-9 hidden", None, 0.5, 182_000, "~119-198 weights", "[H97] Table 1"),
    PublishedRow("lstm1997", "1-1", 30, 1.00, 39_740, _ALL_RIGHT, "[H97] Table 1"),
    PublishedRow("lstm1997", "1-2", 30, 1.00, 21_730, _ALL_RIGHT, "[H97] Table 1"),
    PublishedRow("lstm1997", "1-3", 30, 0.97, 14_060, _ALL_RIGHT, "[H97] Table 1"),
    PublishedRow("lstm1997", "1-4", 30, 0.97, 9_500, _ALL_RIGHT, "[H97] Table 1"),
    PublishedRow("lstm1997", "1-5", 30, 1.00, 8_440,
                 _ALL_RIGHT + "; range 3,800-24,100", "[H97] Table 1 and caption"),
)


#: Encoded training sets by (strings, targets): ``EmbeddedReber._training_table``.
_TABLES: dict[tuple, tuple[np.ndarray, list[int]]] = {}
#: A task's own table, in its ``_cache``.
_TABLE = ("table",)
#: Bytes per step of a string in a table: 2 x 7 float32, 7 + 1 bool (64: a float32 field's
#: strides are whole floats, so NumPy and torch view it in place).
_STEP_BYTES = 64
#: The population's tables joined, by the tables' ids (each entry holds its tables: the ids
#: cannot be reused while it lives): ``_joined``.
_JOINED: dict[tuple[int, ...], tuple[tuple, np.ndarray, list[int], dict[int, int]]] = {}
#: Where each member's table starts in the joined tables, by the members' tables' ids in
#: order (an entry holds its tables too): ``_places``.
_PLACES: dict[tuple[int, ...], tuple[tuple, np.ndarray, list[int], list[int], list[int]]] = {}


def _joined(tables: Sequence[tuple[np.ndarray, list[int]]]
            ) -> tuple[np.ndarray, list[int], dict[int, int]]:
    """The distinct ``tables`` side by side: their steps (T, N, 64) padded with zeros to the
    longest, their lengths (N), and each table's first column by its id; built once per set
    of tables (Exp. 1's population: three training sets)."""
    distinct = tuple({id(table): table for table in tables}.values())
    key = tuple(id(table) for table in distinct)
    found = _JOINED.get(key)
    if found is None:
        longest = max(table[0].shape[0] for table in distinct)
        steps = np.zeros((longest, sum(len(t[1]) for t in distinct), _STEP_BYTES), np.uint8)
        offsets, start = {}, 0
        for table in distinct:
            offsets[id(table)] = start
            steps[:table[0].shape[0], start:start + len(table[1])] = table[0]
            start += len(table[1])
        lengths = [n for table in distinct for n in table[1]]
        if len(_JOINED) >= 64:
            _JOINED.clear()
        found = _JOINED[key] = (distinct, steps, lengths, offsets)
    return found[1], found[2], found[3]


def _places(tables: tuple[tuple[np.ndarray, list[int]], ...]
            ) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """``_joined(tables)``'s steps and lengths, and per member its table's first column and
    its number of strings; looked up by the members' tables in order (one dictionary look-up
    per step while the population stays)."""
    key = tuple(map(id, tables))
    found = _PLACES.get(key)
    if found is None:
        steps, lengths, offsets = _joined(tables)
        if len(_PLACES) >= 256:
            _PLACES.clear()
        found = _PLACES[key] = (tables, steps, lengths, [offsets[id(t)] for t in tables],
                                [len(t[1]) for t in tables])
    return found[1], found[2], found[3], found[4]


class EmbeddedReber:
    """Experiment 1: one training/test pair of [H97] §5.1 (``data_seed`` picks the pair);
    ``targets``: train on the next symbol (``"next"``) or on every allowed one (``"allowed"``)."""

    input_size = len(SYMBOLS)
    output_size = len(SYMBOLS)

    def __init__(self, variant: str = "1-5", data_seed: int = 0, train_size: int = 256,
                 test_size: int = 256, unique_train: bool = False,
                 targets: str = "next", order: str = "random") -> None:
        if variant not in SETUPS:
            raise ValueError(f"variant: expected one of {sorted(SETUPS)}, received {variant!r}")
        if targets not in TARGETS:
            raise ValueError(f"targets: expected one of {', '.join(TARGETS)}, "
                             f"received {targets!r}")
        if order not in ORDERS:
            raise ValueError(f"order: expected one of {', '.join(ORDERS)}, received {order!r}")
        self.targets, self.order, self._next = targets, order, 0
        self.variant, self.data_seed, self.unique_train = variant, data_seed, unique_train
        self.name = f"1 ERG {variant}"
        self.setup = SETUPS[variant]
        self.published = tuple(r for r in PUBLISHED if r.setting == variant)
        self.stopping = (TestSetRule("training and test strings right", check_every=100),)
        self.test_size = test_size
        flip = Coins(torch.Generator().manual_seed(data_seed))
        self.train_strings: list[str] = []
        while len(self.train_strings) < train_size:
            string = embedded_reber(flip)[0]
            if not (unique_train and string in self.train_strings):
                self.train_strings.append(string)
        seen = set(self.train_strings)
        self.test_strings: list[str] = []
        while len(self.test_strings) < test_size:
            string = embedded_reber(flip)[0]
            if string not in seen:
                self.test_strings.append(string)
        self._cache: dict[tuple, Batch | list[Batch]] = {}

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        """``batch_size`` strings picked at random (with replacement) from the training set, or
        with ``order="sweep"`` the next ones in the set's order, over and over (``generator``
        unused)."""
        if self.order == "sweep":
            picks = torch.arange(self._next, self._next + batch_size) % len(self.train_strings)
            self._next = (self._next + batch_size) % len(self.train_strings)
        else:
            picks = torch.randint(len(self.train_strings), (batch_size,), generator=generator)
        if batch_size == 1:  # the 1997 methods' online case: each string encoded once
            string = self.train_strings[int(picks)]
            return self._encoded(("train", string), lambda: encode([string], self.targets))
        return encode([self.train_strings[k] for k in picks.tolist()], self.targets)

    @classmethod
    def sample_words(cls, tasks: Sequence[EmbeddedReber], streams: Sequence[WordStream]
                     ) -> Batch | None:
        """``sample_each``: string k picked by ``tasks[k].sample(1, generator_k)``'s draw, one
        word of ``streams[k]`` (``lstmlab.tasks._words``), and copied from the task's training
        strings encoded once (``_training_table``): the same batch, bit for bit. The tasks'
        tables are joined into one (``_joined``), so the strings are gathered by one ``take``
        and each field is a view of the gathered bytes (a population samples at every step)."""
        tables = []
        for task in tasks:
            if task.order != "random":
                return None  # a sweep's picks are not draws: sample_each
            table = task._cache.get(_TABLE) or task._training_table()
            if len(table[1]) > MAX_RANGE:
                return None
            tables.append(table)
        steps, lengths, starts, counts = _places(tuple(tables))
        picks = [start + stream.word() % count
                 for start, count, stream in zip(starts, counts, streams, strict=True)]
        chosen = [lengths[pick] for pick in picks]
        rows = np.take(steps[:max(chosen)], picks, axis=1)  # (T, K, 64) bytes
        floats, flags = rows.view(np.float32), rows.view(np.bool_)  # (T, K, 16), (T, K, 64)
        units = len(SYMBOLS)
        return Batch(torch.from_numpy(floats[..., :units]),
                     torch.from_numpy(floats[..., units:2 * units]),
                     torch.from_numpy(np.ascontiguousarray(flags[..., -1])),
                     torch.from_numpy(np.array(chosen, dtype=np.int64)),
                     choices=torch.from_numpy(flags[..., 8 * units:9 * units]))

    def _training_table(self) -> tuple[np.ndarray, list[int]]:
        """The training strings encoded together (``encode``: each string's column is its own
        ``encode([string])`` padded with zeros) as one (T, N, 64) uint8 array, each step of a
        string 64 bytes: inputs and targets (7 float32 each), choices and the mask (bool, 7 and
        1; exact), and the lengths; shared by tasks with the same strings (Exp. 1's members:
        three training sets among 30 trials)."""
        table = self._cache.get(_TABLE)  # with_targets starts an empty cache
        if table is not None:
            return table
        key = (tuple(self.train_strings), self.targets)
        table = _TABLES.get(key)
        if table is None:
            batch = encode(self.train_strings, self.targets)
            units = len(SYMBOLS)
            steps = np.zeros((*batch.mask.shape, _STEP_BYTES), dtype=np.uint8)
            steps[..., :4 * units].view(np.float32)[...] = batch.inputs.numpy()
            steps[..., 4 * units:8 * units].view(np.float32)[...] = batch.targets.numpy()
            steps[..., 8 * units:9 * units] = batch.choices.numpy()
            steps[..., -1] = batch.mask.numpy()
            table = (steps, batch.lengths.tolist())
            if len(_TABLES) >= 64:
                _TABLES.clear()
            _TABLES[key] = table
        self._cache[_TABLE] = table
        return table

    def with_order(self, order: str) -> EmbeddedReber:
        """This task (the same strings) presented in ``order`` (one of ``ORDERS``), from the
        set's first string."""
        if order not in ORDERS:
            raise ValueError(f"order: expected one of {', '.join(ORDERS)}, received {order!r}")
        other = copy.copy(self)
        other.order, other._next = order, 0
        return other

    def state_dict(self) -> dict[str, int] | None:
        """Where a sweep stands (a trial's checkpoint keeps it); None for random picks."""
        return {"next": self._next} if self.order == "sweep" else None

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._next = int(state["next"])

    def with_distinct_training(self) -> EmbeddedReber:
        """This task's pair drawn again from the same ``data_seed`` with ``unique_train``: 256
        distinct training strings (a repeat drawn is skipped), then 256 test strings not among
        them; the targets and the order of presentation are this task's."""
        other = EmbeddedReber(self.variant, self.data_seed, len(self.train_strings),
                              self.test_size, unique_train=True, targets=self.targets,
                              order=self.order)
        return other

    def with_targets(self, targets: str) -> EmbeddedReber:
        """This task (the same strings) trained on ``targets`` (one of ``TARGETS``)."""
        if targets not in TARGETS:
            raise ValueError(f"targets: expected one of {', '.join(TARGETS)}, "
                             f"received {targets!r}")
        other = copy.copy(self)
        other.targets, other._cache = targets, {}
        return other

    def _encoded(self, key: tuple, build: Callable[[], Batch | list[Batch]]):
        """``build()`` computed once per key: the strings are fixed by ``data_seed``, and
        encoding is Python loops (the stopping sets are checked every 100 sequences)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def training_set(self) -> Batch:
        """Every training string once, in order: the fixed set a method that trains on whole
        sets (Fahlman's RCC, [H97] Table 1) learns from."""
        return encode(self.train_strings, self.targets)

    def test_batches(self, generator: torch.Generator | None = None,
                     batch_size: int = 256) -> Iterator[Batch]:
        """The 256 test strings (fixed by ``data_seed``; ``generator`` is not used)."""
        return iter(self._encoded(("test", batch_size),
                                  lambda: list(_chunks(self.test_strings, batch_size,
                                                       self.targets))))

    def stopping_batches(self, generator: torch.Generator | None = None,
                         batch_size: int = 256) -> Iterator[Batch]:
        """All training strings, then all test strings: the success criterion covers both."""
        return iter(self._encoded(("stopping", batch_size), lambda: list(
            _chunks(self.train_strings + self.test_strings, batch_size, self.targets))))

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        return most_active_correct(outputs, batch)

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        """(B,) [H97] eq. 16's squared error, averaged over the string's steps.

        Summed step after step (a running sum read at the string's last step), so a string's
        error is the same to the bit whatever strings share its batch: a sum over the padded
        time axis would round differently with the batch's longest string and width (trials
        trained side by side in a population must match trials trained alone)."""
        check_outputs(outputs, batch)
        per_step = ((outputs - batch.targets) ** 2).sum(dim=-1) * batch.mask
        last = (batch.lengths - 1).clamp(min=0).unsqueeze(0)
        return per_step.cumsum(dim=0).gather(0, last).squeeze(0) / batch.lengths
