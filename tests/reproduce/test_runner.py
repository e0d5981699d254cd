"""The runner against a closed-form fake method: what it stores, resumes, reports and sums."""

from __future__ import annotations

import pytest
from reproduce_fakes import FakeMethod, FakeSetup, fake_experiment, fake_outcome

from lstmlab.reproduce import ReproduceConfig, TrialStore, run
from lstmlab.reproduce._runner import STORE_NAME, trial_config_hash


def test_stores_every_trial_with_the_methods_numbers(tmp_path):
    experiment = fake_experiment(trials=6)
    results = run(ReproduceConfig((experiment,), (FakeMethod(),), out=tmp_path))
    summary = results.experiments[0].methods[0]
    assert [r.seed for r in summary.results] == list(range(6))
    for result in summary.results:
        expected = fake_outcome(result.seed)
        assert (result.success, result.sequences, result.test_error, result.curve) == (
            expected.success, expected.sequences, expected.test_error, expected.curve
        )
    successes = [fake_outcome(seed) for seed in range(6) if seed % 3 != 0]
    assert summary.successes == len(successes) == 4
    assert summary.mean_sequences == pytest.approx(
        sum(r.sequences for r in successes) / len(successes)
    )
    with TrialStore(tmp_path / STORE_NAME) as store:
        assert store.count() == 6


def test_second_run_skips_finished_trials_and_runs_only_new_seeds(tmp_path):
    calls: list = []
    method = FakeMethod(calls=calls)
    run(ReproduceConfig((fake_experiment(trials=4),), (method,), out=tmp_path))
    run(ReproduceConfig((fake_experiment(trials=4),), (method,), out=tmp_path))
    run(ReproduceConfig((fake_experiment(trials=4),), (method,), trials=6, out=tmp_path))
    assert calls == [("4", (0, 1, 2, 3), 5000), ("4", (4, 5), 5000)]


def test_changed_settings_do_not_reuse_old_rows(tmp_path):
    calls: list = []
    method = FakeMethod(calls=calls)
    experiment = fake_experiment(trials=2)
    changed = fake_experiment(trials=2).__class__(
        **{**experiment.__dict__, "setup": FakeSetup(learning_rate=0.1)}
    )
    run(ReproduceConfig((experiment,), (method,), out=tmp_path))
    run(ReproduceConfig((changed,), (method,), out=tmp_path))
    run(ReproduceConfig((experiment,), (method,), budget=7, out=tmp_path))
    assert [call[1] for call in calls] == [(0, 1), (0, 1), (0, 1)]
    assert len({trial_config_hash(method, e, 5000)[0] for e in (experiment, changed)}) == 2


def test_native_arch_kernels_are_part_of_the_config_hash(monkeypatch):
    """LSTMLAB_NATIVE_ARCH=1 builds the kernels for this CPU only: their trials never share a
    key with the portable build's (the default, whose key is what it always was)."""
    method, experiment = FakeMethod(), fake_experiment()
    monkeypatch.delenv("LSTMLAB_NATIVE_ARCH", raising=False)
    portable, description = trial_config_hash(method, experiment, 100)
    assert "march" not in description
    monkeypatch.setenv("LSTMLAB_NATIVE_ARCH", "1")
    native, description = trial_config_hash(method, experiment, 100)
    assert native != portable and "-march=native cpu=" in description


def test_quick_mode_uses_the_tiny_trials_and_budget(tmp_path):
    calls: list = []
    run(ReproduceConfig((fake_experiment(),), (FakeMethod(calls=calls),), quick=True, out=tmp_path))
    assert calls == [("4", (0, 1), 50)]


def test_progress_counts_trials_and_sequences(tmp_path):
    reports = []
    run(ReproduceConfig((fake_experiment(trials=3),), (FakeMethod(),), out=tmp_path),
        progress=reports.append)
    assert reports[0].trials_done == 0 and reports[-1].trials_done == 3
    assert reports[-1].trials_total == 3
    assert reports[-1].sequences_seen == sum(fake_outcome(s).sequences for s in range(3))
    assert reports[-1].best_error == min(fake_outcome(s).curve[-1][1] for s in range(3))


def test_writes_markdown_and_html_tables(tmp_path):
    run(ReproduceConfig((fake_experiment(),), (FakeMethod(),), out=tmp_path))
    assert "measured here" in (tmp_path / "results.md").read_text()
    assert "data:image/png;base64," in (tmp_path / "results.html").read_text()


def test_a_result_for_a_seed_not_asked_for_is_refused(tmp_path):
    class Wrong(FakeMethod):
        def run_trials(self, experiment, seeds, budget, progress):
            yield fake_outcome(99)

    with pytest.raises(ValueError, match="seed 99"):
        run(ReproduceConfig((fake_experiment(),), (Wrong(),), out=tmp_path))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"trials": 0}, "trials"), ({"budget": -1}, "budget"), ({"methods": ()}, "methods")],
)
def test_bad_config_names_the_argument(kwargs, match):
    arguments = {"experiments": (fake_experiment(),), "methods": (FakeMethod(),), **kwargs}
    with pytest.raises(ValueError, match=match):
        ReproduceConfig(**arguments)


def test_report_only_runs_nothing_and_shows_what_is_stored(tmp_path):
    calls: list = []
    run(ReproduceConfig((fake_experiment(trials=3),), (FakeMethod(),), out=tmp_path))
    results = run(ReproduceConfig((fake_experiment(trials=5),), (FakeMethod(calls=calls),),
                                  out=tmp_path, report_only=True))
    assert calls == []
    assert [r.seed for r in results.experiments[0].methods[0].results] == [0, 1, 2]
