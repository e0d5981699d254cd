"""``lstmlab sweep``: candidates drawn with a seed, every candidate's validation equal to
``ModernMethod`` run without Ray, the best by the stated objective, and a sweep killed with
SIGKILL that resumes from its Tune checkpoints (on a real local Ray Tune)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reproduce_fakes import bit_experiment

from lstmlab.errors import UserError
from lstmlab.reproduce import ModernMethod
from lstmlab.reproduce._recipe import settings_of
from lstmlab.reproduce._sweep import Candidate, SearchSpace, SweepConfig, SweepResult
from lstmlab.tasks._stopping import RecentWindowRule

HERE = Path(__file__).parent
RULE = RecentWindowRule("ST3", window=20, max_mean_error=0.2)
BUDGET = 600
SPACE = SearchSpace(cell=("lstm", "gru"), hidden_size=(8,), batch_size=(8,),
                    learning_rate=(0.05,), clip_norm=(1.0,), loss=("squared-error",))


def _ray_tune():
    """Ray Tune, or a skip saying why; under CI=true a missing ray[tune] fails the test."""
    try:
        from ray import tune
    except ImportError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs ray[tune] (pip install -e '.[dev]'): {error}")
        pytest.skip(f"ray[tune] not installed ({error}); pip install 'lstmlab[ray]'")
    return tune


def test_candidates_are_drawn_by_the_seed_distinct_and_complete_when_few():
    space = SearchSpace()
    first, again = space.candidates(12, seed=3), space.candidates(12, seed=3)
    assert first == again and len(first) == 12
    assert len({json.dumps(c, sort_keys=True) for c in first}) == 12
    assert space.candidates(12, seed=4) != first
    for candidate in first:  # every candidate is a valid recipe
        settings_of(candidate)
    assert len(SPACE.candidates(10)) == SPACE.size() == 2  # fewer than asked: all of them


def test_best_is_the_lowest_mean_with_failures_counted_at_the_budget():
    config = SweepConfig(bit_experiment(RULE), samples=3, seeds=2, budget=1000, out=Path("x"))
    fails_once = Candidate(0, {"cell": "lstm"}, ((0, True, 100), (1, False, 1000)))  # 550
    slow = Candidate(1, {"cell": "gru"}, ((0, True, 500), (1, True, 520)))  # 510
    unfinished = Candidate(2, {"cell": "gru"}, ((0, True, 10),))
    result = SweepResult(config, (fails_once, slow, unfinished), ())
    assert result.best is slow
    assert fails_once.objective(1000) == 550.0
    record = result.record("lstmlab sweep bit")
    assert [c["index"] for c in record["candidates"]] == [1, 0]
    assert record["chosen"] == 1 and record["unfinished"] == 1
    with pytest.raises(UserError, match="no candidate finished"):
        _ = SweepResult(config, (unfinished,), ("TuneError: boom",)).best


_KILLED_DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
import ray.cloudpickle
import reproduce_fakes
ray.cloudpickle.register_pickle_by_value(reproduce_fakes)
from test_sweep import sweep_config
from lstmlab.reproduce._sweep import sweep
sweep(sweep_config(Path({out!r})))
"""


def sweep_config(out: Path) -> SweepConfig:
    return SweepConfig(bit_experiment(RULE, budget=BUDGET), samples=2, seeds=3, budget=BUDGET,
                       out=out, space=SPACE, num_cpus=1)


def _checkpoint_recorded(folder: Path) -> bool:
    """A trial's checkpoint exists and Tune's experiment state was written after it."""
    checkpoints = [p.stat().st_mtime for p in folder.glob("*/checkpoint_*/seeds.json")]
    states = [p.stat().st_mtime for p in folder.glob("experiment_state-*.json")]
    return bool(checkpoints and states) and max(states) > min(checkpoints)


def _reference(recipe: dict, seeds: list[int]) -> tuple[tuple[int, bool, int], ...]:
    method = ModernMethod(settings_of(recipe))
    results = method.run_trials(bit_experiment(RULE, budget=BUDGET), seeds, BUDGET,
                                lambda n, e: None)
    return tuple((r.seed, r.success, r.sequences) for r in results)


def test_a_killed_sweep_resumes_from_its_checkpoints_and_picks_the_best(tmp_path):
    _ray_tune()
    import ray.cloudpickle
    import reproduce_fakes

    config = sweep_config(tmp_path)
    # The sweep in a process group of its own (Ray's processes with it), SIGKILLed (no
    # clean-up of any kind) once Tune has recorded a trial's first checkpoint in its state,
    # two of that trial's three validation seeds still to run.
    log = tmp_path / "driver.log"
    with log.open("wb") as stderr:
        driver = subprocess.Popen(
            [sys.executable, "-c", _KILLED_DRIVER.format(tests=str(HERE), out=str(tmp_path))],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(Path(__import__("lstmlab").__file__).parents[1]), str(HERE)])})
    deadline = time.monotonic() + 240
    try:
        while not _checkpoint_recorded(tmp_path / "tune" / "bit"):
            assert driver.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint recorded within 240 s"
            time.sleep(0.1)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    assert driver.returncode == -signal.SIGKILL

    from lstmlab.reproduce._sweep import sweep

    ray.cloudpickle.register_pickle_by_value(reproduce_fakes)
    result = sweep(config)
    assert [c.index for c in result.candidates] == [0, 1]
    seeds = config.validation_seeds
    for candidate in result.candidates:
        assert candidate.seeds == _reference(candidate.recipe, seeds)
    assert max(c.restored_seeds for c in result.candidates) >= 1  # resumed, not restarted
    budget = config.budget
    assert result.best == min(result.candidates,
                              key=lambda c: (c.objective(budget), -c.successes, c.index))
    # a different sweep in the same folder is refused, naming the folder
    other = SweepConfig(config.experiment, samples=2, seeds=2, budget=BUDGET, out=tmp_path,
                        space=SPACE, num_cpus=1)
    with pytest.raises(UserError, match="holds a sweep of bit with other settings"):
        sweep(other)


def test_the_sweep_fails_with_a_clear_error_when_ray_tune_is_missing(monkeypatch, tmp_path):
    from lstmlab.reproduce import _sweep

    monkeypatch.setitem(sys.modules, "ray.tune", None)  # import ray.tune raises ImportError
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r"needs Ray Tune \(pip install 'lstmlab\[ray\]'"):
        _sweep.sweep(sweep_config(tmp_path))



@pytest.mark.parametrize(("text", "message"), [
    ('{"cell": ["rnn"]}', "--space: search space.cell: expected one of lstm, gru"),
    ('{"depth": [1]}', "--space: expected an object of lists, keys among cell"),
    ('{"cell": "gru"}', "--space: expected an object of lists"),
    ('{"batch_size": []}', "--space: batch_size: expected at least one value"),
    ("{", "--space: expected JSON"),
])
def test_a_narrowed_space_from_json_and_its_errors(text, message):
    space = SearchSpace.from_json('{"cell": ["gru"], "batch_size": [1, 2]}')
    assert space == SearchSpace(cell=("gru",), batch_size=(1, 2))
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        SearchSpace.from_json(text)
