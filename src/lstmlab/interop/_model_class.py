"""A user's own ``nn.Module`` class, built and loaded from a state dict: never an unpickled object.

``--model-class package.module:Class`` names the class (imported the ordinary way; the current
folder is on the import path, as for ``python -m``); ``--model-args JSON`` gives its
constructor arguments: an object for keyword arguments (``{"ntoken": 33278, "ninp": 200}``) or
a list for positional ones (``["LSTM", 33278, 200, 200, 2]``). The state dict loads with
``strict=True`` into the constructed model, which then runs in eval mode.

``call_model`` runs the model's own forward on the input: ``model(x)``, or ``model(x,
model.init_hidden(B))`` when forward needs a second argument and the class has ``init_hidden``
(PyTorch's word-language-model ``RNNModel``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from lstmlab.interop._errors import InteropError
from lstmlab.interop._torch_state import check_weights


def _import_class(spec: str) -> type:
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise InteropError(f"--model-class: expected package.module:Class, got '{spec}'")
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the user's module may raise anything while importing
        raise InteropError(f"--model-class: cannot import {module_name} "
                           f"({type(error).__name__}: {error})") from error
    finally:
        if added:
            sys.path.remove(os.getcwd())
    cls = module
    for part in class_name.split("."):
        cls = getattr(cls, part, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise InteropError(f"--model-class: {module_name} has no nn.Module class {class_name}")
    return cls


def _arguments(args_json: str | None) -> tuple[list, dict]:
    if args_json is None:
        return [], {}
    try:
        value = json.loads(args_json)
    except json.JSONDecodeError as error:
        raise InteropError(f"--model-args: not valid JSON ({error.msg} at character "
                           f"{error.pos})") from None
    if isinstance(value, list):
        return value, {}
    if isinstance(value, dict):
        return [], value
    raise InteropError("--model-args: expected a JSON object (keyword arguments) or a list "
                       f"(positional ones), got {type(value).__name__}")


def build_model(spec: str, args_json: str | None, state: Mapping[str, Tensor],
                source: str) -> nn.Module:
    """Import, construct, check and load the user's class (module docstring); eval mode."""
    cls = _import_class(spec)
    args, kwargs = _arguments(args_json)
    try:
        model = cls(*args, **kwargs)
    except Exception as error:  # the user's constructor may raise anything
        raise InteropError(f"--model-args: {cls.__name__}(...) raised {type(error).__name__}: "
                           f"{error}") from error
    own = model.state_dict()
    check_weights({k: v for k, v in state.items()
                   if k in own and own[k].is_floating_point()}, source)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else lines[0]
        raise InteropError(f"{source}: does not fit {cls.__name__} built with --model-args "
                           f"({detail})") from error
    return model.eval()


def call_arguments(model: nn.Module, x: Tensor, batch: int) -> tuple[Any, ...]:
    """The positional arguments for ``model``'s forward: (x,) or (x, init_hidden(batch))."""
    parameters = [p for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    if len(parameters) <= 1:
        return (x,)
    if len(parameters) == 2 and callable(getattr(model, "init_hidden", None)):
        return (x, model.init_hidden(batch))
    names = ", ".join(p.name for p in parameters[1:])
    raise InteropError(f"--model-class: {type(model).__name__}.forward needs ({names}) besides "
                       "the input; lstmlab passes the input alone, or with init_hidden(batch) "
                       "when the class has one")
