"""Config hashes must be the same in every process, and differ when any setting differs."""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from lstmlab.reproduce._fingerprint import canonical, code_version, config_hash


@dataclass(frozen=True)
class Setup:
    activation: object = torch.sigmoid
    cell: type = torch.nn.LSTM
    learning_rate: float = 0.5
    biases: tuple = (-2.0, -4.0)


def test_functions_and_classes_are_named_by_import_path():
    text = canonical(Setup())
    assert "activation=torch._VariableFunctionsClass.sigmoid" in text
    assert "cell=torch.nn.modules.rnn.LSTM" in text
    assert " at 0x" not in text
    assert canonical(functools.partial(torch.clamp, min=0.0)).startswith("partial(")


def test_every_field_changes_the_hash():
    base = config_hash(Setup())
    variants = [
        Setup(activation=torch.tanh),
        Setup(cell=torch.nn.GRU),
        Setup(learning_rate=0.1),
        Setup(biases=(-2.0, -4.5)),
    ]
    hashes = {config_hash(variant) for variant in variants}
    assert base not in hashes and len(hashes) == len(variants)


def test_the_hash_is_the_same_in_a_fresh_process():
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_fingerprint as t;"
        " print(t.config_hash(t.Setup(), 5000))"
    )
    here = str(Path(__file__).parent)
    out = subprocess.run([sys.executable, "-c", script, here], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == config_hash(Setup(), 5000)


def test_objects_without_a_stable_repr_are_refused():
    with pytest.raises(ValueError, match="value: expected something with a stable repr"):
        canonical(object())


def test_code_version_names_the_package_version():
    from lstmlab import __version__

    assert code_version().startswith(__version__)


ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_lstm1997_keys_still_spell_their_set_up_and_network_the_same():
    """The store keys of results/trials were written when a set-up named its squashing
    functions by ``lstmlab.tasks.setup``'s functions and a network by the cell module's
    two-field Squash; today's ``Squash`` must keep those texts, or the stored trials orphan."""
    import csv

    from lstmlab.reproduce._lstm1997 import network_config
    from lstmlab.reproduce._registry import experiment

    with (ROOT / "results" / "trials" / "configs.csv").open(newline="") as handle:
        described = [row["description"] for row in csv.DictReader(handle)]
    checked = 0
    for description in described:
        if "'lstm1997'" not in description or "output_unit=" not in description:
            continue  # another method's, or a set-up from before output_unit existed
        setup = experiment(description.split("'")[1]).setup
        assert canonical(setup) in description
        assert canonical(network_config(setup)) in description
        checked += 1
    assert checked >= 4


def test_a_squash_of_our_own_is_not_spelled_as_one_of_the_papers():
    import dataclasses

    from lstmlab.cells import G2, Squash
    from lstmlab.reproduce._registry import experiment

    setup = experiment("1").setup
    assert "g=lstmlab.tasks.setup.g2" in canonical(setup)
    impostor = Squash("g2", lambda x: 2 * torch.tanh(x), G2.derivative, G2.range)
    text = canonical(dataclasses.replace(setup, g=impostor))
    assert "g=lstmlab.tasks.setup.g2" not in text and "lstmlab.cells.squash.Squash(" in text


def _resolve(dotted: str) -> object | None:
    """The object a stored key names (``lstmlab.competitors.rcc.RCCConfig``), looked up in the
    module of that name or, since it went private, of that name with a leading underscore."""
    import importlib

    parts = dotted.split(".")
    for split in range(len(parts) - 1, 1, -1):
        head = parts[:split]
        for candidate in (head, [*head[:-1], "_" + head[-1]]):
            try:
                obj = importlib.import_module(".".join(candidate))
            except ImportError:
                continue
            try:
                for name in parts[split:]:
                    obj = getattr(obj, name)
            except AttributeError:
                return None
            return obj
    return None


def test_the_committed_keys_spell_every_class_by_its_former_public_path():
    """A module going private (``competitors/rcc.py`` -> ``_rcc.py``) changes no stored key:
    every class, enum member and function the committed keys name, that still exists, is
    spelled today exactly as the key spells it."""
    import csv
    import re

    with (ROOT / "results" / "trials" / "configs.csv").open(newline="") as handle:
        described = [row["description"] for row in csv.DictReader(handle)]
    names = {name for text in described for name in re.findall(r"lstmlab(?:\.\w+)+", text)}
    checked = set()
    for name in sorted(names):
        obj = _resolve(name)
        owner = obj if isinstance(obj, type) or callable(obj) else type(obj)  # an enum member
        module = getattr(owner, "__module__", "").replace("._", ".")
        if obj is None or not name.startswith(module + "."):
            continue  # gone or moved since (the squash functions: the tests above)
        assert canonical(obj) == name
        checked.add(name)
    assert {"lstmlab.competitors.rcc.RCCConfig", "lstmlab.competitors.chunker.ChunkerConfig",
            "lstmlab.tasks.setup.Setup1997"} <= checked
