"""The modern column's recipes, chosen by a hyperparameter sweep on Ray Tune.

``sweep(SweepConfig(experiment, ...))`` draws ``samples`` candidate recipes from a
:class:`SearchSpace` (seeded: the same command draws the same candidates), and trains each on
the experiment's task with ``ModernMethod`` for every *validation* seed (``first_seed``,
``first_seed + 1``, ...; 10,000 onwards by default, apart from the seeds 0, 1, ... that
``lstmlab reproduce`` then runs), each seed capped at ``budget`` training sequences.

Objective (minimised): the mean over the validation seeds of the sequences to success, a
failure counted as the whole ``budget`` (so a recipe that fails pays for it, and the objective is
an upper bound on its true mean). Ties go to more successes, then to the earlier candidate. The
chosen recipe is the best candidate that finished every validation seed.

Every candidate is one Tune trial (``tune.Tuner`` with one CPU per trial, on a Ray started here,
or on the cluster at ``address``). A trial reports after each validation seed, with a checkpoint
holding the results of the seeds done so far; the Tune experiment's state lives in
``out/tune/<name>``. A sweep that is killed and started again with the same settings restores
that state (``Tuner.restore``): finished trials are kept, and an unfinished one skips the seeds
its checkpoint holds. On a cluster, ``out`` must be a folder every node can reach.

Results depend on the seeds alone (``ModernMethod`` trains with one thread per trial), so a
sweep re-run, resumed or spread over a cluster picks the same recipe.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from lstmlab.errors import UserError
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._modern import ModernMethod
from lstmlab.reproduce._on_ray import _LOCAL_RAY, _connect
from lstmlab.reproduce._recipe import settings_of

FIRST_VALIDATION_SEED = 10_000
# Tune's result files: JSON only (its ResultGrid reads them; CSV and TensorBoard would repeat
# them); its warning about frequent state snapshots is about cloud storage, not a local
# folder of a few trials.
_QUIET_TUNE = {"TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
               "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0"}
OBJECTIVE = ("mean over the validation seeds of the training sequences to success, a failure "
             "counted as the whole budget (lower is better; ties: more successes, then the "
             "earlier candidate)")


@dataclass(frozen=True)
class SearchSpace:
    """The values each setting is drawn from, uniformly and independently."""

    cell: tuple[str, ...] = ("lstm", "gru")
    hidden_size: tuple[int, ...] = (8, 16, 32, 64)
    batch_size: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    learning_rate: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
    clip_norm: tuple[float | None, ...] = (None, 1.0)
    forget_bias: tuple[float, ...] = (1.0,)
    loss: tuple[str, ...] = ("squared-error", "cross-entropy")

    def __post_init__(self) -> None:
        for name, values in asdict(self).items():
            if not values:
                raise ValueError(f"{name}: expected at least one value, received none")
            settings_of({name: values[0]}, "search space")

    @classmethod
    def from_json(cls, text: str) -> SearchSpace:
        """A space from JSON, ``{"cell": ["gru"], "batch_size": [1, 2]}``: the settings named
        take the values listed, the others keep this class's defaults; UserError otherwise."""
        try:
            given = json.loads(text)
        except json.JSONDecodeError as error:
            raise UserError(f"--space: expected JSON, received {text!r} ({error})") from error
        names = [f.name for f in fields(cls)]
        if not isinstance(given, dict) or not all(
                name in names and isinstance(values, list) for name, values in given.items()):
            raise UserError(f"--space: expected an object of lists, keys among "
                            f"{', '.join(names)}, received {text!r}")
        try:
            return cls(**{name: tuple(values) for name, values in given.items()})
        except ValueError as error:
            raise UserError(f"--space: {error}") from error

    def size(self) -> int:
        count = 1
        for values in asdict(self).values():
            count *= len(values)
        return count

    def candidates(self, samples: int, seed: int = 0) -> list[dict[str, Any]]:
        """``samples`` distinct recipes drawn with ``random.Random(seed)`` (all of them, in a
        fixed order, when the space holds fewer)."""
        draw = random.Random(seed)
        wanted = min(samples, self.size())
        chosen: list[dict[str, Any]] = []
        while len(chosen) < wanted:
            recipe = {name: draw.choice(values) for name, values in asdict(self).items()}
            if recipe not in chosen:
                chosen.append(recipe)
        return chosen


@dataclass(frozen=True)
class SweepConfig:
    """What to sweep: ``samples`` candidates of ``space`` (drawn with ``sample_seed``), each on
    ``seeds`` validation seeds from ``first_seed`` with ``budget`` sequences at most per seed.
    ``address`` None starts Ray here with ``num_cpus`` CPUs (None: all); else a cluster
    address as ``lstmlab reproduce --ray`` takes it. ``out`` holds the Tune state."""

    experiment: Experiment
    samples: int
    seeds: int
    budget: int
    out: Path
    space: SearchSpace = field(default_factory=SearchSpace)
    sample_seed: int = 0
    first_seed: int = FIRST_VALIDATION_SEED
    address: str | None = None
    num_cpus: int | None = None

    def __post_init__(self) -> None:
        for name in ("samples", "seeds", "budget"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, received {getattr(self, name)}")

    @property
    def validation_seeds(self) -> list[int]:
        return [self.first_seed + k for k in range(self.seeds)]

    def identity(self) -> dict[str, Any]:
        """What a resumed sweep must share with the killed one."""
        return {"experiment": self.experiment.name, "samples": self.samples,
                "validation_seeds": self.validation_seeds, "budget": self.budget,
                "space": asdict(self.space), "sample_seed": self.sample_seed}


@dataclass(frozen=True)
class Candidate:
    """One candidate recipe's validation: per seed (seed, success, sequences)."""

    index: int
    recipe: dict[str, Any]
    seeds: tuple[tuple[int, bool, int], ...]
    restored_seeds: int = field(default=0, compare=False)

    def objective(self, budget: int) -> float:
        return sum(n if ok else budget for _, ok, n in self.seeds) / len(self.seeds)

    @property
    def successes(self) -> int:
        return sum(ok for _, ok, _ in self.seeds)


@dataclass(frozen=True)
class SweepResult:
    """Every candidate (in drawing order), the chosen one, and the record for the recipe
    file."""

    config: SweepConfig
    candidates: tuple[Candidate, ...]
    errors: tuple[str, ...]

    @property
    def complete(self) -> list[Candidate]:
        return [c for c in self.candidates if len(c.seeds) == self.config.seeds]

    @property
    def best(self) -> Candidate:
        if not self.complete:
            failed = (f"{len(self.errors)} Tune trials failed: {'; '.join(self.errors[:3])}"
                      if self.errors else "interrupted")
            raise UserError(f"sweep of {self.config.experiment.name}: no candidate finished its "
                            f"validation seeds ({failed}); the same command resumes the sweep")
        budget = self.config.budget
        return min(self.complete,
                   key=lambda c: (c.objective(budget), -c.successes, c.index))

    def record(self, command: str) -> dict[str, Any]:
        """The ``sweep`` entry of the recipe file: how the recipe was chosen."""
        budget = self.config.budget
        ranked = sorted(self.complete, key=lambda c: (c.objective(budget), -c.successes,
                                                      c.index))
        return {"command": command, "objective": OBJECTIVE, "budget": budget,
                "validation_seeds": self.config.validation_seeds,
                "samples": self.config.samples, "sample_seed": self.config.sample_seed,
                "space": asdict(self.config.space), "chosen": self.best.index,
                "candidates": [{"index": c.index, "recipe": c.recipe,
                                "objective": c.objective(budget), "successes": c.successes,
                                "sequences": [n for _, _, n in c.seeds]} for c in ranked],
                "unfinished": len(self.candidates) - len(self.complete)}


def _read_done(checkpoint: Any) -> dict[int, tuple[bool, int]]:
    if checkpoint is None:
        return {}
    with checkpoint.as_directory() as folder:
        saved = json.loads((Path(folder) / "seeds.json").read_text())
    return {int(seed): (bool(ok), int(n)) for seed, ok, n in saved}


def _evaluate(params: dict[str, Any], *, experiment: Experiment, seeds: Sequence[int],
              budget: int) -> None:
    """One Tune trial: the candidate ``params["candidate"]`` (its index and recipe) on every
    validation seed, reporting (with a checkpoint of the seeds done) after each."""
    from ray import tune

    done = _read_done(tune.get_checkpoint())
    restored = len(done)
    index, recipe = params["candidate"]["index"], params["candidate"]["recipe"]
    method = ModernMethod(settings_of(recipe))

    def report() -> None:
        rows = [(seed, *done[seed]) for seed in seeds if seed in done]
        folder = tempfile.mkdtemp(prefix="lstmlab-sweep-")
        try:
            (Path(folder) / "seeds.json").write_text(json.dumps(rows))
            objective = sum(n if ok else budget for _, ok, n in rows) / len(rows)
            tune.report({"objective": objective, "seeds_done": len(rows),
                         "successes": sum(ok for _, ok, _ in rows), "seeds": json.dumps(rows),
                         "restored_seeds": restored, "index": index},
                        checkpoint=tune.Checkpoint.from_directory(folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    ran = False
    for seed in seeds:
        if seed in done:
            continue
        (result,) = method.run_trials(experiment, [seed], budget, lambda n, error: None)
        done[seed] = (result.success, result.sequences)
        ran = True
        report()
    if not ran:  # killed after its last report: report once more, so the trial ends here
        report()


def _start_ray(config: SweepConfig) -> bool:
    """Start Ray here or join ``config.address``; True when this call started it."""
    for name, value in {**_LOCAL_RAY, **_QUIET_TUNE}.items():
        os.environ.setdefault(name, value)
    import ray

    if ray.is_initialized():
        return False
    if config.address is not None:
        _connect(config.address)
    else:
        ray.init(num_cpus=config.num_cpus, include_dashboard=False, log_to_driver=False,
                 _temp_dir=tempfile.mkdtemp(prefix="ray"))
    return True


def tune_folder(config: SweepConfig) -> Path:
    from lstmlab.reproduce._recipe import recipe_file

    return Path(config.out).resolve() / "tune" / recipe_file(Path(), config.experiment.name).stem


def sweep(config: SweepConfig) -> SweepResult:
    """Run (or resume) the sweep of ``config`` on Ray Tune; every candidate's validation."""
    for name, value in {**_LOCAL_RAY, **_QUIET_TUNE}.items():
        os.environ.setdefault(name, value)
    try:
        from ray import tune
        from ray.tune.logger import JsonLoggerCallback
    except ImportError as error:
        raise UserError("sweep: needs Ray Tune (pip install 'lstmlab[ray]', which brings "
                        "ray[tune])") from error
    folder = tune_folder(config)
    identity_file = folder.parent / f"{folder.name}.sweep.json"
    identity = json.dumps(config.identity(), indent=1, sort_keys=True)
    if identity_file.exists() and identity_file.read_text() != identity:
        raise UserError(f"{identity_file.parent}: holds a sweep of {folder.name} with other "
                        f"settings ({identity_file.name}); choose another --out or remove "
                        f"{folder} and {identity_file}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    identity_file.write_text(identity)
    candidates = config.space.candidates(config.samples, config.sample_seed)
    started = _start_ray(config)
    try:
        trainable = tune.with_resources(
            tune.with_parameters(_evaluate, experiment=config.experiment,
                                 seeds=config.validation_seeds, budget=config.budget),
            {"cpu": 1})
        if tune.Tuner.can_restore(str(folder)):
            tuner = tune.Tuner.restore(str(folder), trainable, resume_unfinished=True,
                                       resume_errored=True)
        else:
            space = {"candidate": tune.grid_search(
                [{"index": index, "recipe": recipe} for index, recipe in enumerate(candidates)])}
            tuner = tune.Tuner(
                trainable, param_space=space,
                tune_config=tune.TuneConfig(metric="objective", mode="min"),
                run_config=tune.RunConfig(
                    name=folder.name, storage_path=str(folder.parent), verbose=0,
                    callbacks=[JsonLoggerCallback()],
                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1)))
        grid = tuner.fit()
    finally:
        if started:
            import ray

            ray.shutdown()
    found, errors = [], []
    for result in grid:
        if result.error is not None:
            errors.append(f"{type(result.error).__name__}: {result.error}")
        metrics = result.metrics or {}
        if "seeds" not in metrics:
            continue
        rows = tuple((int(s), bool(ok), int(n)) for s, ok, n in json.loads(metrics["seeds"]))
        found.append(Candidate(int(metrics["index"]), candidates[int(metrics["index"])], rows,
                               int(metrics.get("restored_seeds", 0))))
    found.sort(key=lambda c: c.index)
    return SweepResult(config, tuple(found), tuple(errors))
