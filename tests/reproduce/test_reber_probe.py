"""``reber_probe``: its verdicts against each string run alone through the C loop, the
simulator's stopping rule against its epoch loop written out, its bookkeeping and CLI."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from lstmlab.reproduce import _registry as registry
from lstmlab.reproduce._lstm1997 import _evaluate, probe_training
from lstmlab.reproduce._reber_probe import (
    RULES,
    StringSet,
    judge,
    judge_now,
    main,
    simulator_met,
    table,
    where_table,
    wrong_contexts,
)
from lstmlab.tasks import EmbeddedReber
from lstmlab.tasks._reber import SYMBOLS, allowed_next, encode, most_active_correct
from lstmlab.training._pool import row, stack


def _simulator_epoch(errors_per_sequence: list[list[list[float]]], seq_max: float,
                     stop_class: int) -> bool:
    """The JKU simulator's comp_err and stop test over one epoch, as its loops read: per
    sequence, per step, the largest |error| of the outputs; a sequence is counted once, at its
    first step above seq_max; stop when the count is below stop_class."""
    class_err = 0
    for sequence in errors_per_sequence:
        seq_cor = 1
        for step in sequence:
            largest = 0.0
            for e in step:
                if abs(e) > largest:
                    largest = abs(e)
            if seq_cor == 1 and largest > seq_max:
                seq_cor = 0
                class_err += 1
    return class_err < stop_class


def _small_1():
    """Experiment 1 with 24 training and 24 test strings per pair (the same net and training
    loop; fewer strings to judge)."""
    return replace(registry.experiment("1"), make_task=lambda seed: EmbeddedReber(
        "1-5", data_seed=seed % 3, train_size=24, test_size=24))


def test_simulator_rule_is_the_simulators_epoch_loop():
    generator = torch.Generator().manual_seed(0)
    for case in range(200):
        distinct = int(torch.randint(1, 6, (1,), generator=generator))
        repeats = torch.randint(1, 4, (distinct,), generator=generator)
        steps = [int(torch.randint(1, 5, (1,), generator=generator)) for _ in range(distinct)]
        errors = [torch.rand(t, 3, generator=generator) * 2 - 1 for t in steps]
        epoch = [e.tolist() for e, n in zip(errors, repeats.tolist(), strict=True)
                 for _ in range(n)]
        max_error = torch.stack([e.abs().max() for e in errors])
        seq_max = float(torch.rand(1, generator=generator))
        stop_class = int(torch.randint(1, 6, (1,), generator=generator))
        assert simulator_met(max_error, repeats, seq_max, stop_class) == _simulator_epoch(
            epoch, seq_max, stop_class), case
    with pytest.raises(ValueError, match="max_error, repeats"):
        simulator_met(torch.zeros(3), torch.ones(2), 0.5, 1)


def test_verdicts_and_errors_are_each_string_alone_through_the_c_loop():
    """Reference: each distinct string run alone by the C forward pass (the ``reproduce``
    checks' own), judged by ``most_active_correct``, its error taken step by step here."""
    experiment = _small_1()
    seeds = (0, 1)
    tasks = [experiment.make_task(seed) for seed in seeds]
    strings = StringSet.of(tasks)
    for presented, template, weights, _ in probe_training(experiment, seeds, 100, 100):
        if presented == 0:
            continue
        right, max_error = judge_now(template, weights, strings)
        contexts = wrong_contexts(template, weights, strings, seeds)
        for k, task in enumerate(tasks):
            distinct = sorted(set(task.train_strings))
            distinct += sorted(set(task.test_strings))
            assert int(strings.real[k].sum()) == len(distinct)
            assert int(strings.trained[k].sum()) == len(set(task.train_strings))
            batch = encode(distinct)
            outputs = _evaluate(template, stack([row(weights, k)]), batch, kernel=True)
            expected = most_active_correct(outputs, batch)
            assert right[k, :len(distinct)].tolist() == expected.tolist()
            assert bool(right[k, len(distinct):].all())  # padding never counts
            out, target = outputs.tolist(), batch.targets.tolist()  # [t][n][o]
            for n, string in enumerate(distinct):
                worst = max(abs(out[t][n][o] - target[t][n][o])
                            for t in range(len(string) - 1) for o in range(7))
                assert float(max_error[k, n]) == pytest.approx(worst, abs=1e-12)
            # where: each step judged here from the C loop's outputs and the grammar
            wrong: dict[tuple[str, str], int] = {}
            for n, string in enumerate(distinct):
                allowed_sets = allowed_next(string)
                for t in range(len(string) - 1):
                    allowed = {SYMBOLS.index(a) for a in allowed_sets[t]}
                    low = min(out[t][n][o] for o in allowed)
                    high = max(out[t][n][o] for o in range(7) if o not in allowed)
                    if not low > high:
                        key = (string[max(0, t - 2):t + 1],
                               "".join(sorted(allowed_sets[t], key=SYMBOLS.index)))
                        wrong[key] = wrong.get(key, 0) + 1
            mine = {(c.context, c.allowed): c.wrong for c in contexts if c.seed == seeds[k]}
            assert mine == wrong and sum(wrong.values()) > 0
            counts = strings.repeats[k].tolist()
            assert counts == [task.train_strings.count(s) for s in sorted(set(task.train_strings))]
            assert sum(counts) == 24 and max(counts) > 1  # repeats counted


def test_judge_keeps_the_first_point_each_rule_is_met_and_the_table_shows_it():
    experiment = _small_1()
    rules = ((1.0, 1), (0.0, 1), *RULES[:2])
    judged = judge(experiment, (0, 1), 200, 100, rules)
    tasks = [experiment.make_task(seed) for seed in (0, 1)]
    for j, task in zip(judged, tasks, strict=True):
        # an error never exceeds 1 (logistic outputs, 0/1 targets): met at the first check;
        # never met when any output differs from its target at all
        assert j.simulator[(1.0, 1)][0] == 100
        assert j.simulator[(0.0, 1)] == (None, False)
        assert j.paper is None and j.training is None  # no net is right after 200
        assert j.distinct == len(set(task.train_strings) | set(task.test_strings))
        assert j.distinct_training == len(set(task.train_strings))
        assert 0 < j.wrong_at_end <= j.distinct
    text = table(judged)
    assert text.splitlines()[0].startswith(
        "| seed | strings (training + test) | paper | training strings | wrong at end")
    first = judged[0]
    assert (f"| 0 | {first.distinct_training} + {first.distinct - first.distinct_training} "
            "| - | - |") in text and "100 wrong" in text
    with pytest.raises(ValueError, match="Experiment 1"):
        judge(registry.experiment("2a"), (0,), 10)
    with pytest.raises(ValueError, match="budget, every"):
        judge(experiment, (0,), 0)


def test_cli_prints_the_tables():
    text = main(["1", "--seeds", "1", "--budget", "100"])
    assert text.splitlines()[2].startswith("| 0 | ") and "| - | - |" in text.splitlines()[2]
    where = main(["1", "--seeds", "2", "--budget", "100", "--where", "2"]).splitlines()
    assert where[0].startswith("| seed | after | allowed next | wrong / seen")
    assert [line.split(" | ")[0] for line in where[2:]] == ["| 0", "| 0", "| 1", "| 1"]
    assert where_table([], 3).count("\n") == 1


@pytest.mark.slow
def test_paper_rule_is_the_reproduce_trials_number_of_sequences():
    """Seed 9 of the text's reading: ``lstmlab reproduce 1`` stored it at 15,500 sequences
    (results/trials/1.csv); the probe, judging every 100 as the trial does, finds the same."""
    judged = judge(registry.experiment("1"), (9,), 15_600, 100, RULES[:1])
    assert judged[0].paper == 15_500
