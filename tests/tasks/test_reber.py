"""Experiment 1's data checked against the grammar written out independently here."""

import re
from collections import Counter
from dataclasses import replace

import pytest
import torch
from scipy import stats

from lstmlab.tasks import EmbeddedReber
from lstmlab.tasks._batch import concat
from lstmlab.tasks._reber import SYMBOLS, encode

# The embedded Reber grammar as a regular expression, derived by hand from the graph
# (Cleeremans et al. 1989): from state 5 the rest is (P X T* V)* (P S | V) E, from 4 it is
# X T* V <the rest from 5> | S E.
_A5 = r"(?:PXT*V)*(?:PS|V)E"
_A4 = rf"(?:XT*V{_A5}|SE)"
_INNER = rf"B(?:TS*X{_A4}|PT*V{_A5})"
EMBEDDED = re.compile(rf"B(?:T{_INNER}TE|P{_INNER}PE)")

# The same grammar as an edge list with its own state names: (state, symbol) -> next state.
# "o" = outer, "t"/"p" = inside the T or P branch; inner states a..f mirror the graph.
_INNER_EDGES = {("0", "B"): "a", ("a", "T"): "b", ("a", "P"): "c", ("b", "S"): "b",
                ("b", "X"): "d", ("c", "T"): "c", ("c", "V"): "e", ("d", "X"): "c",
                ("d", "S"): "f", ("e", "P"): "d", ("e", "V"): "f", ("f", "E"): "z"}
EDGES = {("start", "B"): "o1", ("o1", "T"): "t0", ("o1", "P"): "p0",
         ("tz", "T"): "end1", ("pz", "P"): "end1", ("end1", "E"): "end"}
for (state, symbol), nxt in _INNER_EDGES.items():
    for branch in "tp":
        EDGES[(branch + state, symbol)] = branch + nxt


def walk(string):
    """The edges a string takes; fails the test if it leaves the graph."""
    state, taken = "start", []
    for symbol in string:
        assert (state, symbol) in EDGES, f"{string}: no edge {symbol} from {state}"
        taken.append((state, symbol))
        state = EDGES[(state, symbol)]
    assert state == "end", string
    return taken


def test_every_string_is_in_the_grammar_and_every_transition_occurs():
    task = EmbeddedReber(data_seed=3)
    strings = task.train_strings + task.test_strings
    used = set()
    for string in strings:
        assert EMBEDDED.fullmatch(string), string
        used.update(walk(string))
    assert used == set(EDGES)
    assert min(len(s) for s in strings) >= 9


def test_choices_are_the_automatons_out_edges_and_targets_the_next_symbol():
    task = EmbeddedReber(data_seed=1)
    batch = encode(task.train_strings[:64])
    for b, string in enumerate(task.train_strings[:64]):
        for t, (state, symbol) in enumerate(walk(string)[:-1]):
            after = EDGES[(state, symbol)]
            expected = {s for (q, s) in EDGES if q == after}
            got = {SYMBOLS[k] for k in torch.nonzero(batch.choices[t, b]).flatten().tolist()}
            assert got == expected
            assert SYMBOLS[int(batch.inputs[t, b].argmax())] == symbol
            assert SYMBOLS[int(batch.targets[t, b].argmax())] == string[t + 1]
        assert int(batch.lengths[b]) == len(string) - 1
        assert batch.mask[:, b].sum() == len(string) - 1
        assert batch.inputs[len(string) - 1:, b].abs().sum() == 0


def test_sizes_and_test_strings_exclude_training_strings():
    task = EmbeddedReber(data_seed=0)
    assert len(task.train_strings) == 256 and len(task.test_strings) == 256
    assert not set(task.test_strings) & set(task.train_strings)
    unique = EmbeddedReber(data_seed=0, unique_train=True)
    assert len(set(unique.train_strings)) == 256


def test_branch_symbol_is_a_fair_coin():
    task = EmbeddedReber(data_seed=5, train_size=2000, test_size=10)
    t_count = sum(s[1] == "T" for s in task.train_strings)
    assert abs(t_count - 1000) < 4 * (2000 * 0.25) ** 0.5


def test_every_choice_of_the_grammar_is_a_fair_coin():
    """[H97] §5.1: "choosing an edge with probability 0.5 wherever there is a choice"."""
    strings = EmbeddedReber(data_seed=6, train_size=3000, test_size=1).train_strings
    taken = Counter(edge for string in strings for edge in walk(string))
    choices = {}
    for state, symbol in EDGES:
        choices.setdefault(state, []).append(taken[(state, symbol)])
    choices = {state: counts for state, counts in choices.items() if len(counts) == 2}
    assert len(choices) == 11  # the outer T/P and five inner states in each branch
    for state, counts in choices.items():
        assert stats.binomtest(counts[0], sum(counts)).pvalue > 1e-3, (state, counts)
    # Power: even the rarest choice is seen often enough to reject a 0.6 coin.
    fewest = min(sum(counts) for counts in choices.values())
    assert stats.binomtest(round(0.6 * fewest), fewest).pvalue < 1e-3


def test_seeds():
    a, b, c = EmbeddedReber(data_seed=0), EmbeddedReber(data_seed=0), EmbeddedReber(data_seed=1)
    assert a.train_strings == b.train_strings and a.train_strings != c.train_strings
    x = a.sample(32, torch.Generator().manual_seed(7))
    y = a.sample(32, torch.Generator().manual_seed(7))
    z = a.sample(32, torch.Generator().manual_seed(8))
    torch.testing.assert_close(x.inputs, y.inputs, rtol=0, atol=0)
    assert x.inputs.shape != z.inputs.shape or not torch.equal(x.inputs, z.inputs)


def test_success_criterion_on_hand_made_predictions():
    task = EmbeddedReber(data_seed=0, train_size=8, test_size=8)
    batch = concat(list(task.stopping_batches(batch_size=5)))
    perfect = torch.where(batch.choices, 0.75, 0.25)
    assert task.is_correct(perfect, batch).all()
    # Predicting only the symbol that came is wrong wherever two continuations are allowed.
    assert not task.is_correct(batch.targets, batch).all()
    # One step where a forbidden unit ties with an allowed one: that string alone fails.
    tied = perfect.clone()
    forbidden = int((~batch.choices[0, 2]).nonzero()[0])
    tied[0, 2, forbidden] = 0.75
    expected = torch.ones(batch.batch_size, dtype=torch.bool)
    expected[2] = False
    assert torch.equal(task.is_correct(tied, batch), expected)
    # Garbage after a string's end does not count.
    padded = perfect.clone()
    padded[-1, int(batch.lengths.argmin())] = 5.0
    assert task.is_correct(padded, batch).all()


def test_bad_variant():
    with pytest.raises(ValueError, match="variant"):
        EmbeddedReber(variant="1-9")


def _assert_same(a, b):
    for field in ("inputs", "targets", "mask", "lengths", "choices"):
        torch.testing.assert_close(getattr(a, field), getattr(b, field), rtol=0, atol=0)


def test_cached_encodings_equal_a_fresh_encoding_draw_for_draw():
    """Each training string and the fixed stopping/test sets are encoded once: what the task
    hands out (first call and cached calls) equals ``encode`` of the strings it drew."""
    task = EmbeddedReber("1-5", data_seed=1)
    ours, reference = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    for _ in range(30):
        pick = torch.randint(len(task.train_strings), (1,), generator=reference)
        _assert_same(task.sample(1, ours), encode([task.train_strings[int(pick)]]))
    picks = torch.randint(len(task.train_strings), (3,), generator=reference)
    _assert_same(task.sample(3, ours), encode([task.train_strings[k] for k in picks.tolist()]))
    sets = {"stopping_batches": task.train_strings + task.test_strings,
            "test_batches": task.test_strings}
    for kind, strings in sets.items():
        for _ in range(2):  # the second call is served from the cache
            batches = list(getattr(task, kind)(None, 200))
            assert len(batches) == -(-len(strings) // 200)
            for k, batch in enumerate(batches):
                _assert_same(batch, encode(strings[200 * k:200 * (k + 1)]))


def test_allowed_targets_on_a_string_written_out_by_hand():
    """``targets="allowed"``: 1 for every symbol the grammar allows next, read off the graph by
    hand for B T B T X S E T E (inner path 1 -T-> 2 -X-> 4 -S-> 6 -E->)."""
    string = "BTBTXSETE"
    allowed = ["TP", "B", "TP", "SX", "XS", "E", "T", "E"]  # after B, T, B, T, X, S, E, T
    expected = torch.zeros(len(allowed), 1, len(SYMBOLS))
    for t, symbols in enumerate(allowed):
        for symbol in symbols:
            expected[t, 0, SYMBOLS.index(symbol)] = 1.0
    batch = encode([string], targets="allowed")
    torch.testing.assert_close(batch.targets, expected, rtol=0, atol=0)
    one_hot = encode([string])
    _assert_same(replace(batch, targets=one_hot.targets), one_hot)  # only the targets differ
    assert [SYMBOLS[int(k)] for k in one_hot.targets[:, 0].argmax(-1)] == list(string[1:])


def test_with_targets_keeps_the_strings_and_changes_what_every_batch_trains_on():
    task = EmbeddedReber(data_seed=2, train_size=16, test_size=16)
    allowed = task.with_targets("allowed")
    assert task.targets == "next" and allowed.targets == "allowed"
    assert (allowed.train_strings, allowed.test_strings) == (task.train_strings,
                                                             task.test_strings)
    for batch in [allowed.sample(1, torch.Generator().manual_seed(0)),
                  allowed.sample(4, torch.Generator().manual_seed(0)), allowed.training_set(),
                  *allowed.test_batches(), *allowed.stopping_batches()]:
        torch.testing.assert_close(batch.targets, batch.choices.float(), rtol=0, atol=0)
    # The original task's cache is untouched: it still hands out one-hot targets.
    assert (task.sample(1, torch.Generator().manual_seed(0)).targets.sum(-1) == 1).all()


def test_unknown_targets_are_refused_naming_the_choices():
    for build in (lambda: EmbeddedReber(targets="both"),
                  lambda: EmbeddedReber(train_size=1, test_size=1).with_targets("both"),
                  lambda: encode(["BTBTXSETE"], targets="both")):
        with pytest.raises(ValueError, match="targets: expected one of next, allowed"):
            build()


def test_a_strings_error_does_not_depend_on_the_strings_beside_it():
    """A population judges its members' strings in one padded batch: each string's error must
    equal, to the bit, its error judged alone (a sum over the padded time axis did not: it
    rounds with the batch's longest string). Reference: eq. 16's mean squared error summed
    step by step in Python, and the same string judged alone."""
    task = EmbeddedReber(data_seed=0)
    generator = torch.Generator().manual_seed(3)
    singles = [task.sample(1, generator) for _ in range(12)]
    together = concat(singles)
    assert len({int(b.lengths[0]) for b in singles}) > 3, "strings of several lengths"
    outputs = torch.rand(together.inputs.shape[0], 12, 7, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(4))
    errors = task.errors(outputs, together)
    for k, single in enumerate(singles):
        length = int(single.lengths[0])
        alone = task.errors(outputs[:single.inputs.shape[0], k:k + 1], single)
        assert torch.equal(errors[k:k + 1], alone)
        total = 0.0
        for t in range(length):
            total += float(((outputs[t, k] - single.targets[t, 0]) ** 2).sum())
        assert float(errors[k]) == total / length
