"""A modern recipe as a file: the input of the modern column, the output of ``lstmlab sweep``.

A recipe file (``results/modern/<experiment>.json``, named as the experiment's trial CSV is)
holds the experiment it was chosen for and the settings of :class:`ModernSettings` that a sweep
searches, in words::

    {"experiment": "1",
     "recipe": {"cell": "lstm", "hidden_size": 32, "batch_size": 4, "learning_rate": 0.01,
                "clip_norm": null, "forget_bias": 1.0, "loss": "cross-entropy"},
     "sweep": {...how it was chosen: command, objective, candidates and their scores...}}

``lstmlab reproduce EXP --method modern --recipe FILE_OR_FOLDER`` runs the recipe (a folder:
each experiment's file in it). Only ``experiment`` and ``recipe`` are read; ``sweep`` is the
record of how the recipe was chosen. Names become objects here (``CELLS``, ``LOSSES``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from torch import nn

from lstmlab.errors import UserError
from lstmlab.reproduce._modern import ModernSettings
from lstmlab.training._losses import Loss, binary_cross_entropy, sum_squared_error

CELLS: dict[str, type[nn.Module]] = {"lstm": nn.LSTM, "gru": nn.GRU}
LOSSES: dict[str, Loss] = {"squared-error": sum_squared_error,
                           "cross-entropy": binary_cross_entropy}
#: The settings a recipe file names (the rest keep ModernSettings' defaults).
FIELDS = ("cell", "hidden_size", "batch_size", "learning_rate", "clip_norm", "forget_bias",
          "loss")


def _name_of(table: dict[str, Any], value: object) -> str:
    return next(name for name, known in table.items() if known is value)


def recipe_of(settings: ModernSettings) -> dict[str, Any]:
    """``settings`` in words (the ``recipe`` of a recipe file)."""
    return {"cell": _name_of(CELLS, settings.cell), "hidden_size": settings.hidden_size,
            "batch_size": settings.batch_size, "learning_rate": settings.learning_rate,
            "clip_norm": settings.clip_norm, "forget_bias": settings.forget_bias,
            "loss": _name_of(LOSSES, settings.loss)}


def settings_of(recipe: dict[str, Any], where: str = "recipe") -> ModernSettings:
    """The :class:`ModernSettings` a recipe names; UserError naming ``where`` and the field."""
    if not isinstance(recipe, dict):
        raise UserError(f"{where}: expected an object of {', '.join(FIELDS)}, received "
                        f"{type(recipe).__name__}")
    unknown = sorted(set(recipe) - set(FIELDS))
    if unknown:
        raise UserError(f"{where}: expected the fields {', '.join(FIELDS)}, received unknown "
                        f"{', '.join(unknown)}")
    values = dict(recipe)
    for field, table in (("cell", CELLS), ("loss", LOSSES)):
        if field in values:
            if values[field] not in table:
                raise UserError(f"{where}.{field}: expected one of {', '.join(table)}, "
                                f"received {values[field]!r}")
            values[field] = table[values[field]]
    for field, kind in (("hidden_size", int), ("batch_size", int)):
        if field in values and (type(values[field]) is not kind):
            raise UserError(f"{where}.{field}: expected an integer, received "
                            f"{values[field]!r}")
    for field in ("learning_rate", "clip_norm", "forget_bias"):
        value = values.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise UserError(f"{where}.{field}: expected a finite number, received {value!r}")
    try:
        return ModernSettings(**values)
    except ValueError as error:
        raise UserError(f"{where}: {error}") from error


def recipe_file(folder: Path, experiment: str) -> Path:
    """Where ``experiment``'s recipe lives in ``folder``: ``"1"`` -> ``folder/1.json``,
    ``"4@T=1000"`` -> ``folder/4_T1000.json`` (as its trial CSV is named, by the same rule as
    ``_results_report.file_name``, which imports this module)."""
    if not re.fullmatch(r"[0-9A-Za-z@=,.:_-]+", experiment):
        raise UserError(f"experiment: expected a name like '1' or '4@T=1000', received "
                        f"{experiment!r}")
    for mark, put in ((":", "_"), ("@", "_"), (",", "_"), ("=", "")):
        experiment = experiment.replace(mark, put)
    return Path(folder) / f"{experiment}.json"


def write_recipe(path: Path, experiment: str, settings: ModernSettings,
                 sweep: dict[str, Any]) -> Path:
    """Write a recipe file (keys in a fixed order, so a re-run sweep rewrites the same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"experiment": experiment, "recipe": recipe_of(settings), "sweep": sweep}
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


def read_recipe(path: Path) -> tuple[str, ModernSettings]:
    """(experiment, settings) of a recipe file; UserError naming the file when it is not one."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UserError(f"{path}: expected a recipe file (JSON), received invalid JSON: "
                        f"{error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("experiment"), str) or (
            "recipe" not in document):
        raise UserError(f"{path}: expected a recipe file, an object with 'experiment' (a name) "
                        "and 'recipe'")
    return document["experiment"], settings_of(document["recipe"], f"{path}: recipe")


def read_recipes(paths: list[Path]) -> tuple[tuple[str, ModernSettings], ...]:
    """Every recipe in ``paths`` (files, or folders of ``*.json`` recipe files), as
    ``ModernMethod.recipes``; UserError when two name the same experiment."""
    found: dict[str, tuple[ModernSettings, Path]] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise UserError(f"--recipe: expected a recipe file or a folder of them, received "
                            f"{path}, which does not exist")
        for file in sorted(path.glob("*.json")) if path.is_dir() else [path]:
            experiment, settings = read_recipe(file)
            if experiment in found and found[experiment][0] != settings:
                raise UserError(f"--recipe: {file} and {found[experiment][1]} both give a recipe "
                                f"for experiment {experiment!r}")
            found[experiment] = (settings, file)
    return tuple((name, settings) for name, (settings, _) in found.items())
