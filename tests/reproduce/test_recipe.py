"""Recipe files: words <-> ModernSettings, clear errors, and the chosen recipe round-tripping
into `lstmlab reproduce --method modern --recipe` (the stored trials are those of the recipe's
ModernMethod, under its store key)."""

import json
import sqlite3

import pytest
from torch import nn

from cli_cases import assert_user_error, run_cli
from lstmlab.errors import UserError
from lstmlab.reproduce import ModernMethod, ModernSettings, ReproduceConfig, run
from lstmlab.reproduce._recipe import (
    read_recipe,
    read_recipes,
    recipe_file,
    recipe_of,
    settings_of,
    write_recipe,
)
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._results_report import file_name
from lstmlab.reproduce._runner import trial_config_hash
from lstmlab.training._losses import binary_cross_entropy, sum_squared_error

RECIPE = {"cell": "gru", "hidden_size": 8, "batch_size": 4, "learning_rate": 0.02,
          "clip_norm": 1.0, "forget_bias": 1.0, "loss": "cross-entropy"}


def test_words_and_settings_round_trip():
    settings = settings_of(RECIPE)
    assert settings == ModernSettings(hidden_size=8, batch_size=4, learning_rate=0.02,
                                      cell=nn.GRU, clip_norm=1.0, loss=binary_cross_entropy)
    assert recipe_of(settings) == RECIPE
    default = recipe_of(ModernSettings())
    assert default["cell"] == "lstm" and default["loss"] == "squared-error"
    assert settings_of(default) == ModernSettings()
    assert settings_of({}) == ModernSettings(loss=sum_squared_error)


@pytest.mark.parametrize(("recipe", "message"), [
    ({"cell": "rnn"}, "recipe.cell: expected one of lstm, gru, received 'rnn'"),
    ({"loss": "hinge"}, "recipe.loss: expected one of squared-error, cross-entropy"),
    ({"depth": 2}, "received unknown depth"),
    ({"batch_size": 2.5}, "recipe.batch_size: expected an integer, received 2.5"),
    ({"batch_size": 0}, "batch_size: expected >= 1, received 0"),
    ({"learning_rate": "fast"}, "recipe.learning_rate: expected a finite number"),
    ({"clip_norm": -1.0}, "clip_norm: expected > 0 or None"),
])
def test_a_wrong_recipe_is_a_user_error_naming_the_field(recipe, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_of(recipe)


def test_files_folders_and_their_errors(tmp_path):
    path = write_recipe(recipe_file(tmp_path / "modern", "4@T=1000"), "4@T=1000",
                        settings_of(RECIPE), {"command": "lstmlab sweep 4@T=1000"})
    assert path.name == "4_T1000.json"
    for name in ("1", "4@T=1000", "2c@q=1000,p=1000", "4:linear-output"):
        assert recipe_file(tmp_path, name).stem == file_name(name).removesuffix(".csv")
    assert read_recipe(path) == ("4@T=1000", settings_of(RECIPE))
    assert read_recipes([tmp_path / "modern"]) == (("4@T=1000", settings_of(RECIPE)),)
    clash = tmp_path / "clash.json"
    clash.write_text(json.dumps({"experiment": "4@T=1000", "recipe": {"cell": "lstm"}}))
    with pytest.raises(UserError, match="both give a recipe for experiment '4@T=1000'"):
        read_recipes([tmp_path / "modern", clash])
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(UserError, match="broken.json: expected a recipe file"):
        read_recipe(broken)
    with pytest.raises(UserError, match="does not exist"):
        read_recipes([tmp_path / "nowhere"])


def test_the_chosen_recipe_round_trips_into_reproduce_method_modern(tmp_path):
    exp = experiment("1")
    settings = settings_of(RECIPE)
    path = write_recipe(recipe_file(tmp_path / "modern", exp.name), exp.name, settings, {})
    out = tmp_path / "cli"
    result = run_cli(["reproduce", "1", "--method", "modern", "--recipe", path, "--trials", "2",
                      "--budget", "200", "--out", out])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out / "trials.sqlite") as db:
        stored = db.execute("SELECT seed, success, sequences, test_error, config_hash FROM "
                            "trials ORDER BY seed").fetchall()
    direct = run(ReproduceConfig((exp,), (ModernMethod(settings),), trials=2, budget=200,
                                 out=tmp_path / "direct", write_tables=False))
    key, _ = trial_config_hash(ModernMethod(settings), exp, 200)
    assert stored == [(r.seed, int(r.success), r.sequences, r.test_error, key)
                      for r in direct.experiments[0].methods[0].results]
    # the recipe is the experiment's own: another experiment keeps the default recipe
    other = experiment("6a")
    assert (ModernMethod(recipes=((exp.name, settings),)).fingerprint(other)
            == ModernMethod().fingerprint(other))
    assert key != trial_config_hash(ModernMethod(), exp, 200)[0]


def test_recipe_needs_method_modern(tmp_path):
    assert_user_error(["reproduce", "1", "--recipe", tmp_path / "x.json", "--out", tmp_path],
                      "--recipe: expected together with --method modern")


def test_the_sweep_command_writes_the_chosen_recipe_with_its_record(tmp_path, monkeypatch):
    """The CLI's part of `lstmlab sweep` (Ray Tune itself: tests/reproduce/test_sweep.py):
    the default budget is the paper's LSTM mean, the best candidate becomes the recipe file."""
    from lstmlab.reproduce import _sweep

    seen = {}

    def fake_sweep(config):
        seen["config"] = config
        candidates = config.space.candidates(config.samples)
        return _sweep.SweepResult(config, tuple(
            _sweep.Candidate(i, c, tuple((s, True, 1000 - 100 * i)
                                         for s in config.validation_seeds))
            for i, c in enumerate(candidates)), ())

    monkeypatch.setattr(_sweep, "sweep", fake_sweep)
    result = run_cli(["sweep", "1", "--samples", "3", "--seeds", "2", "--out", tmp_path / "s",
                      "--recipes", tmp_path / "modern"])
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert (config.budget, config.validation_seeds) == (8440, [10_000, 10_001])
    assert config.num_cpus is None  # default: Ray's one candidate per core
    document = json.loads((tmp_path / "modern" / "1.json").read_text())
    best = config.space.candidates(3)[2]  # 800 sequences: the lowest
    assert document["experiment"] == "1" and document["recipe"] == recipe_of(settings_of(best))
    assert document["sweep"]["command"] == "lstmlab sweep 1 --samples 3 --seeds 2 --budget 8440"
    assert document["sweep"]["chosen"] == 2
    assert read_recipe(tmp_path / "modern" / "1.json") == ("1", settings_of(best))


def test_the_sweep_command_passes_cpus_to_a_local_ray_only(tmp_path, monkeypatch):
    """--cpus N: N candidates at once on the Ray started here (SweepConfig.num_cpus, which
    ray.init takes; tests/reproduce/test_sweep.py runs Tune with 1); with --address, an error
    before any work, since a cluster has its own CPUs."""
    from lstmlab.reproduce import _sweep

    seen = {}

    def fake_sweep(config):
        seen["config"] = config
        candidates = config.space.candidates(config.samples)
        return _sweep.SweepResult(config, tuple(
            _sweep.Candidate(i, c, tuple((s, True, 100) for s in config.validation_seeds))
            for i, c in enumerate(candidates)), ())

    monkeypatch.setattr(_sweep, "sweep", fake_sweep)
    result = run_cli(["sweep", "1", "--samples", "2", "--seeds", "1", "--cpus", "1",
                      "--out", tmp_path / "s", "--recipes", tmp_path / "modern"])
    assert result.exit_code == 0, result.output
    assert seen["config"].num_cpus == 1
    seen.clear()
    assert_user_error(["sweep", "1", "--cpus", "1", "--address", "auto", "--out", tmp_path / "s",
                       "--recipes", tmp_path / "modern"],
                      "--cpus: expected only without --address")
    assert not seen
