"""The declarative state machine: declarations checked when written, refusals that name the
current state. What it does to rows (stamps, history) is tested through appointments."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dermifi.core.errors import Forbidden, InvalidState
from dermifi.core.state_machine import (
    StateMachine,
    StatusChange,
    Transition,
    final_states,
    reachable,
)
from dermifi.scheduling import lifecycle


@dataclass
class Thing:
    status: str


def _machine(*transitions: Transition[Thing, str, None]
             ) -> StateMachine[Thing, str, None, StatusChange]:
    return StateMachine(noun="thing", states=("new", "done", "void"), initial="new",
                        transitions=transitions, history=StatusChange, owner_key="thing_id",
                        actor_id=str)


def test_a_transition_to_an_undeclared_state_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        _machine(Transition("finish", ("new",), "finished"))


def test_two_transitions_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="two transitions named 'finish'"):
        _machine(Transition("finish", ("new",), "done"), Transition("finish", ("new",), "void"))


def test_the_refusal_names_the_current_state_and_the_allowed_ones() -> None:
    finish = Transition[Thing, str, None]("finish", ("new",), "done", done="finished")
    machine = _machine(finish)
    refusal = machine.refusal(finish, Thing("void"))
    assert isinstance(refusal, InvalidState)
    assert refusal.message == "Only a new thing can be finished; this one is void"
    assert [(d.field, d.message) for d in refusal.details] == [("status", "Currently void")]
    assert machine.refusal(finish, Thing("new")) is None


def test_who_may_is_checked_before_anything_else() -> None:
    finish = Transition[Thing, str, None]("finish", ("new",), "done",
                                          may=lambda actor: actor == "boss",
                                          forbidden="Only the boss finishes things")
    machine = _machine(finish)
    with pytest.raises(Forbidden, match="Only the boss"):
        machine.ensure_may(finish, "clerk")
    machine.ensure_may(finish, "boss")
    assert machine.available(Thing("new"), "clerk") == []
    assert machine.available(Thing("new"), "boss") == ["finish"]


def test_a_transition_of_another_machine_is_refused() -> None:
    machine = _machine(Transition("finish", ("new",), "done"))
    with pytest.raises(ValueError, match="not a step of the thing machine"):
        machine.ensure_may(Transition("void", ("new",), "void"), "boss")


def test_the_appointment_machine_reaches_every_state_and_ends_where_the_contract_does() -> None:
    machine = lifecycle.APPOINTMENT
    assert reachable(machine) == set(machine.states)
    assert final_states(machine) == {"completed", "cancelled", "no_show"}
