"""A method's trials on a local Ray instance store exactly what a local run stores."""

import pytest

from lstmlab.competitors.methods import GuessMethod
from lstmlab.reproduce import ReproduceConfig, run
from lstmlab.reproduce.on_ray import OnRay
from lstmlab.reproduce.registry import experiment
from lstmlab.reproduce.runner import trial_config_hash

pytest.importorskip("ray")


def test_trials_on_ray_equal_local_trials_and_share_the_config_hash(tmp_path):
    exp = experiment("3a")
    local = run(ReproduceConfig((exp,), (GuessMethod(),), trials=3, budget=40,
                                out=tmp_path / "local", write_tables=False))
    on_ray = OnRay(GuessMethod(), num_cpus=2)
    remote = run(ReproduceConfig((exp,), (on_ray,), trials=3, budget=40,
                                 out=tmp_path / "ray", write_tables=False))

    def rows(results):
        return sorted((r.seed, r.success, r.sequences, r.test_error)
                      for r in results.experiments[0].methods[0].results)

    assert rows(remote) == rows(local)
    assert len(rows(local)) == 3
    assert trial_config_hash(on_ray, exp, 40) == trial_config_hash(GuessMethod(), exp, 40)


def test_seeds_per_task_must_be_positive():
    with pytest.raises(ValueError, match="seeds_per_task"):
        OnRay(GuessMethod(), seeds_per_task=0)
