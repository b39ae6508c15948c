"""Declarative state machines: a workflow's states and transitions written as data.

A transition names the states it leaves from, the state it enters, who may take it, the guards
that must pass (each says why not, or nothing), and the timestamp and actor fields it sets. The
machine applies it: it refuses a caller who may not (``403 FORBIDDEN``) and anything not allowed
from the current state or refused by a guard (``409 INVALID_STATE``, naming the current state);
it sets the status and the stamps; and it appends one history row per change, in the caller's
transaction. Appointments, orders, prescriptions and refills each declare one machine.

The machine does not lock: the service calls it on a row it re-read under its row lock
(``Repository.lock_for_change``), so two racing steps cannot both start from one state.

Core knows no domain, so the entity (``E``), the caller (``A``) and what guards look at
besides the entity (``C``: the time, the location) are type parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import UTCDateTime
from dermifi.core.errors import ErrorDetail, Forbidden, InvalidState
from dermifi.core.ids import new_id

E = TypeVar("E")
A = TypeVar("A")
C = TypeVar("C")

# Why the step may not be taken now, or None when it may.
Guard = Callable[[E, C], str | None]


def _words(state: str) -> str:
    return state.replace("_", " ")


class StatusChange:
    """One step of a workflow, appended and never changed: the entity's status history. A
    domain's history table adds its practice and a key to the entity it records."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The entity's version the change produced: the history's order (several changes may
    # share a timestamp), and the ETag a client saw after it.
    version: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(30))  # None: the entity was created
    to_status: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(String(500))


H = TypeVar("H", bound=StatusChange)


def _anyone(_: Any) -> bool:
    return True


@dataclass(frozen=True)
class Transition(Generic[E, A, C]):
    action: str
    sources: tuple[str, ...]
    target: str
    # Who may take this step; the machine answers FORBIDDEN with ``forbidden`` otherwise.
    may: Callable[[A], bool] = _anyone
    forbidden: str = "You may not do this"
    guards: tuple[Guard[E, C], ...] = ()
    stamp_at: str | None = None  # set to the time of the change
    stamp_by: str | None = None  # set to the caller's id
    notes_field: str | None = None  # also keeps the step's notes (a cancellation reason)
    clears: tuple[str, ...] = ()  # fields the step empties (a move clears the confirmation)
    # How the refusal names the step: "Only a scheduled appointment can be <done>".
    done: str = ""

    @property
    def described(self) -> str:
        return self.done or _words(self.target)


@dataclass(frozen=True)
class StateMachine(Generic[E, A, C, H]):
    noun: str  # "appointment": the refusals name it
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition[E, A, C], ...]
    history: type[H]  # the domain's StatusChange table
    owner_key: str  # its column naming the entity, e.g. "appointment_id"
    actor_id: Callable[[A], str]
    status_field: str = "status"
    _by_action: dict[str, Transition[E, A, C]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_action: dict[str, Transition[E, A, C]] = {}
        known = set(self.states)
        if self.initial not in known:
            raise ValueError(f"{self.noun}: initial state {self.initial!r} is not a state")
        for transition in self.transitions:
            unknown = (set(transition.sources) | {transition.target}) - known
            if unknown:
                raise ValueError(f"{self.noun}.{transition.action}: unknown states {unknown}")
            if transition.action in by_action:
                raise ValueError(f"{self.noun}: two transitions named {transition.action!r}")
            by_action[transition.action] = transition
        object.__setattr__(self, "_by_action", by_action)

    def __getitem__(self, action: str) -> Transition[E, A, C]:
        return self._by_action[action]

    def available(self, entity: E, actor: A) -> list[str]:
        """The steps ``actor`` may take from the entity's current state (guards aside)."""
        current = getattr(entity, self.status_field)
        return [t.action for t in self.transitions
                if current in t.sources and t.may(actor)]

    def ensure_may(self, transition: Transition[E, A, C], actor: A) -> None:
        """The role check alone: call it before loading or locking, so a caller who may never
        take the step hears FORBIDDEN, not a precondition or state error."""
        if transition.action not in self._by_action:
            raise ValueError(f"{transition.action!r} is not a step of the {self.noun} machine")
        if not transition.may(actor):
            raise Forbidden(transition.forbidden)

    def refusal(self, transition: Transition[E, A, C], entity: E) -> InvalidState | None:
        current = getattr(entity, self.status_field)
        if current in transition.sources:
            return None
        allowed = " or ".join(_words(s) for s in transition.sources)
        return InvalidState(
            f"Only a {allowed} {self.noun} can be {transition.described}; this one is "
            f"{_words(current)}",
            details=[ErrorDetail(field="status", message=f"Currently {current}")])

    def begin(self, session: AsyncSession, entity: E, actor: A, *, now: datetime,
              entity_id: str, notes: str | None = None, action: str = "create") -> H:
        """The entity was created in its initial state: the first history row."""
        setattr(entity, self.status_field, self.initial)
        return self._record(session, entity_id, 1, None, self.initial, action, actor, now,
                            notes)

    def apply(self, session: AsyncSession, entity: E, transition: Transition[E, A, C],
              actor: A, *, now: datetime, context: C, entity_id: str,
              notes: str | None = None) -> H:
        """Take the step on ``entity`` (already locked by the caller): check who, the state and
        the guards; set the status, the stamps and the notes field; append the history row.
        The caller flushes, in its unit of work."""
        self.ensure_may(transition, actor)
        refused = self.refusal(transition, entity)
        if refused is not None:
            raise refused
        for guard in transition.guards:
            problem = guard(entity, context)
            if problem is not None:
                raise InvalidState(problem, details=[ErrorDetail(
                    field="status", message=f"Currently {getattr(entity, self.status_field)}")])
        previous = getattr(entity, self.status_field)
        # The version this change's flush will write (the ORM counts it up by one).
        version = getattr(entity, "version", 0) + 1
        setattr(entity, self.status_field, transition.target)
        if transition.stamp_at is not None:
            setattr(entity, transition.stamp_at, now)
        if transition.stamp_by is not None:
            setattr(entity, transition.stamp_by, self.actor_id(actor))
        if transition.notes_field is not None:
            setattr(entity, transition.notes_field, notes)
        for cleared in transition.clears:
            setattr(entity, cleared, None)
        return self._record(session, entity_id, version, previous, transition.target,
                            transition.action, actor, now, notes)

    def _record(self, session: AsyncSession, entity_id: str, version: int,
                previous: str | None, target: str, action: str, actor: A, now: datetime,
                notes: str | None) -> H:
        row = self.history(id=new_id("hist"), version=version,  # type: ignore[call-arg]
                           from_status=previous, to_status=target,
                           action=action, changed_at=now, changed_by=self.actor_id(actor),
                           notes=notes, **{self.owner_key: entity_id})
        session.add(row)
        return row


def reachable(machine: StateMachine[Any, Any, Any, Any]) -> set[str]:
    """The states a machine can reach from its initial one (a state nothing reaches is a typo
    in the declaration): for the machine's own tests."""
    seen, frontier = {machine.initial}, [machine.initial]
    while frontier:
        state = frontier.pop()
        for transition in machine.transitions:
            if state in transition.sources and transition.target not in seen:
                seen.add(transition.target)
                frontier.append(transition.target)
    return seen


def final_states(machine: StateMachine[Any, Any, Any, Any]) -> set[str]:
    """States no transition leaves."""
    leaving: Iterable[str] = (s for t in machine.transitions for s in t.sources)
    return set(machine.states) - set(leaving)


__all__: Sequence[str] = ("Guard", "StateMachine", "StatusChange", "Transition", "final_states",
                          "reachable")
