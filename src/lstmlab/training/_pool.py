"""A member pool: the networks that one lockstep computation trains side by side.

Each member has its own *record* (whatever its trainer keeps about it: seed, data stream,
stopping rule, clock) and its own *state* (its weights, optimizer state, ...). The pool keeps
the records in order and the states stacked along a leading member axis K, which is what a
lockstep step reads and writes:

    pool.join(record, state)    member K: its record appended, ``state`` (one network's, no K)
                                appended as row K of every stacked tensor
    pool.stacked                the (K, ...) state for the step
    pool.update(stacked)        the step's new (K, ...) state
    pool.leave(ks)              members ks go, each with its record and its own row; the
                                others close up, in their order

A state is a pytree of tensors (``torch.utils._pytree``: a dict of tensors, a ``NamedTuple``
such as ``NetworkWeights1997``, nested); a ``None`` in it is an absent tensor and stays
``None``. Rows are only ever copied, never mixed, so what a step computes for a member depends
on the pool only through the step itself: a step that keeps members apart (``online_sequence``,
``vmap``) gives each member the numbers it gets alone, in any pool.

Checkpoints: :meth:`MemberPool.member_state_dict` is one member's record (its
``state_dict()``, when the record has one) and its row as nested dicts of tensors (for
``torch.load(weights_only=True)``); :meth:`MemberPool.state_dict` is every member's.
:meth:`MemberPool.join_state_dict` joins a member from such a dict, its state checked part by
part against a fresh member's (shapes and dtypes), its record restored by the record's
``load_state_dict``. A trainer that writes one file per member (``lstm1997``: a member resumes
in whatever pool it joins) uses the per-member pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import torch
import torch.utils._pytree as pytree
from torch import Tensor

Record = TypeVar("Record")
State = TypeVar("State")


def map_state(fn: Callable[[Tensor], Tensor], state: State) -> State:
    """``fn`` applied to every tensor of ``state``; absent ones (None) stay None."""
    return pytree.tree_map(lambda part: None if part is None else fn(part), state)


def stack(states: Sequence[State]) -> State:
    """K members' states (no leading K) -> one state with a leading (K,) on every tensor."""
    if not states:
        raise ValueError("states: expected at least one member's state, received none")
    leaves, spec = zip(*(pytree.tree_flatten(s) for s in states), strict=True)
    for k, other in enumerate(spec):
        if other != spec[0]:
            raise ValueError(f"states[{k}]: expected the structure of states[0] {spec[0]}, "
                             f"received {other}")
    parts = [None if column[0] is None else torch.stack([p.detach() for p in column])
             for column in zip(*leaves, strict=True)]
    return pytree.tree_unflatten(parts, spec[0])


def row(stacked: State, k: int) -> State:
    """Member ``k``'s state (no leading K) from a stacked one: a view, not a copy."""
    return map_state(lambda part: part[k], stacked)


class MemberPool(Generic[Record, State]):
    """Records in order, states stacked (see the module docstring). Empty: ``stacked`` is
    None."""

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._stacked: State | None = None

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records)

    def __getitem__(self, k: int) -> Record:
        return self._records[k]

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(self._records)

    @property
    def stacked(self) -> State | None:
        """Every member's state, stacked (K, ...), in join order."""
        return self._stacked

    def row(self, k: int) -> State:
        """Member ``k``'s state (a view of the stack)."""
        if not 0 <= k < len(self):
            raise IndexError(f"k: expected a member index in [0, {len(self)}), received {k}")
        return row(self._stacked, k)

    def join(self, record: Record, state: State) -> None:
        """Member ``len(self)``: ``record`` and ``state`` (one network's, no leading K)."""
        one = map_state(lambda part: part.detach().unsqueeze(0), state)
        if self._stacked is None:
            self._stacked = map_state(torch.clone, one)
        else:
            self._check_structure(one, "state")
            self._stacked = pytree.tree_map(
                lambda mine, new: None if mine is None else torch.cat([mine, new]),
                self._stacked, one)
        self._records.append(record)

    def update(self, stacked: State) -> None:
        """The lockstep step's new state: the structure of ``stacked`` and K rows. Checked only
        by its type: a step runs every sequence, and a full pytree walk would cost more than a
        step of a 1997 network."""
        if self._stacked is None:
            raise ValueError("stacked: the pool has no members to update")
        if type(stacked) is not type(self._stacked):
            raise ValueError(f"stacked: expected a {type(self._stacked).__name__} like the "
                             f"pool's states, received {type(stacked).__name__}")
        self._stacked = stacked

    def leave(self, ks: Iterable[int]) -> list[tuple[Record, State]]:
        """Members ``ks`` leave, each with its record and its own row (a copy), in the order
        of ``ks``; the others keep theirs and their order."""
        ks = list(ks)
        if len(set(ks)) != len(ks) or any(not 0 <= k < len(self) for k in ks):
            raise IndexError(f"ks: expected distinct member indices in [0, {len(self)}), "
                             f"received {ks}")
        gone = [(self._records[k], map_state(torch.clone, self.row(k))) for k in ks]
        keep = [k for k in range(len(self)) if k not in set(ks)]
        self._records = [self._records[k] for k in keep]
        index = torch.tensor(keep, dtype=torch.long)
        self._stacked = map_state(lambda part: part.detach()[index], self._stacked) \
            if keep else None
        return gone

    def member_state_dict(self, k: int) -> dict[str, Any]:
        """Member ``k`` for a checkpoint: ``state`` (its row as nested dicts, cloned so that
        ``torch.save`` writes the row, not the stack) and ``record`` (its ``state_dict()``, or
        None for a record without one)."""
        record = self[k]
        record_state = getattr(record, "state_dict", None)
        return {"state": _nested(map_state(torch.clone, self.row(k))),
                "record": record_state() if record_state is not None else None}

    def join_state_dict(self, record: Record, fresh: State, saved: dict[str, Any]) -> None:
        """Join ``record`` from ``member_state_dict``'s ``saved``: its state is the saved one,
        checked part by part against ``fresh`` (a new member's), and the record loads its saved
        state. ValueError (the pool unchanged) when anything does not fit."""
        state = load_nested(saved["state"], fresh)
        if saved["record"] is not None:
            record.load_state_dict(saved["record"])
        self.join(record, state)

    def state_dict(self) -> dict[str, Any]:
        """Every member, in order (``member_state_dict``)."""
        return {"members": [self.member_state_dict(k) for k in range(len(self))]}

    def load_state_dict(self, saved: dict[str, Any],
                        build: Callable[[int], tuple[Record, State]]) -> None:
        """Join every saved member; ``build(k)`` makes member k's fresh record and state, which
        the saved ones then replace. Only into an empty pool."""
        if len(self):
            raise ValueError(f"load_state_dict: expected an empty pool, it has {len(self)} "
                             "members")
        for k, member in enumerate(saved["members"]):
            self.join_state_dict(*build(k), member)

    def _check_structure(self, state: State, name: str) -> None:
        mine, theirs = pytree.tree_structure(self._stacked), pytree.tree_structure(state)
        if mine != theirs:
            raise ValueError(f"{name}: expected the structure of the pool's states {mine}, "
                             f"received {theirs}")
        for (path, a), b in zip(pytree.tree_flatten_with_path(self._stacked)[0],
                                pytree.tree_leaves(state), strict=True):
            if (a is None) != (b is None) or (a is not None and a.shape[1:] != b.shape[1:]):
                raise ValueError(f"{name}{pytree.keystr(path)}: expected {_describe(a)} "
                                 f"after the member axis, received {_describe(b)}")


def _key(entry: Any) -> str | int:
    for attribute in ("name", "key", "idx"):  # GetAttrKey, MappingKey, SequenceKey
        if hasattr(entry, attribute):
            return getattr(entry, attribute)
    raise TypeError(f"state: cannot name the pytree key {entry!r}")


def _nested(state: Any) -> dict[Any, Any]:
    """A state's tensors as nested dicts keyed by field or key name (absent ones left out)."""
    out: dict[Any, Any] = {}
    for path, part in pytree.tree_flatten_with_path(state)[0]:
        if part is None:
            continue
        place = out
        for entry in path[:-1]:
            place = place.setdefault(_key(entry), {})
        place[_key(path[-1])] = part
    return out


def load_nested(saved: dict[Any, Any], like: State) -> State:
    """``_nested``'s dicts back into ``like``'s structure, every tensor checked against
    ``like``'s (present where ``like`` has one, same shape and dtype). Entries saved as None
    for tensors ``like`` lacks are accepted, a tensor where ``like`` has none is not."""
    parts = []
    found = 0
    for path, mine in pytree.tree_flatten_with_path(like)[0]:
        name = pytree.keystr(path)
        value: Any = saved
        for entry in path:
            value = value.get(_key(entry)) if isinstance(value, dict) else None
        if mine is None:
            if value is not None:
                raise ValueError(f"state{name}: expected none, received {_describe(value)}")
            parts.append(None)
            continue
        if not isinstance(value, Tensor) or value.shape != mine.shape or \
                value.dtype != mine.dtype:
            raise ValueError(f"state{name}: expected {_describe(mine)}, received "
                             f"{_describe(value)}")
        parts.append(value)
        found += 1
    saved_count = len([p for p in pytree.tree_leaves(saved) if p is not None])
    if saved_count != found:
        raise ValueError(f"state: expected {found} tensors, received {saved_count}")
    return pytree.tree_unflatten(parts, pytree.tree_structure(like))


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"{value.dtype} of shape {tuple(value.shape)}"
    return "None" if value is None else type(value).__name__
