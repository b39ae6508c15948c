"""An appointment's life, as data: scheduled → confirmed → checked in → completed, or
cancelled, or a no-show. ``core.state_machine`` applies it and writes the status history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dermifi.auth.actor import Actor
from dermifi.core.state_machine import StateMachine, Transition
from dermifi.scheduling import policies
from dermifi.scheduling.calendar import local
from dermifi.scheduling.models import (
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    NO_SHOW,
    SCHEDULED,
    STATUSES,
    UPCOMING,
    Appointment,
    AppointmentStatusChange,
)


@dataclass(frozen=True)
class Moment:
    """What the timing guards look at: now, and the time zone of the appointment's place."""

    now: datetime
    zone: ZoneInfo


Step = Transition[Appointment, Actor, Moment]


def _on_the_day(appointment: Appointment, at: Moment) -> str | None:
    if local(at.now, at.zone).date() < local(appointment.starts_at, at.zone).date():
        return "Check-in opens on the day of the appointment"
    return None


def _started(appointment: Appointment, at: Moment) -> str | None:
    if at.now < appointment.starts_at:
        return "A visit can be completed only once it has started"
    return None


def _start_passed(appointment: Appointment, at: Moment) -> str | None:
    if at.now < appointment.starts_at:
        return "A patient can be marked a no-show only once the start has passed"
    return None


CONFIRM = Step("confirm", (SCHEDULED,), CONFIRMED, may=policies.can_manage,
               forbidden=policies.MANAGE_REFUSAL, stamp_at="confirmed_at")
CHECK_IN = Step("check_in", UPCOMING, CHECKED_IN, may=policies.can_manage,
                forbidden=policies.MANAGE_REFUSAL, guards=(_on_the_day,),
                stamp_at="checked_in_at", done="checked in")
COMPLETE = Step("complete", (CHECKED_IN,), COMPLETED, may=policies.can_manage,
                forbidden=policies.MANAGE_REFUSAL, guards=(_started,), stamp_at="completed_at")
CANCEL = Step("cancel", UPCOMING, CANCELLED, may=policies.can_manage,
              forbidden=policies.MANAGE_REFUSAL, stamp_at="cancelled_at",
              stamp_by="cancelled_by", notes_field="cancellation_reason")
MARK_NO_SHOW = Step("no_show", UPCOMING, NO_SHOW, may=policies.can_manage,
                    forbidden=policies.MANAGE_REFUSAL, guards=(_start_passed,),
                    stamp_at="no_show_at", done="marked a no-show")
# A confirmed appointment moved to a new time: the patient has not confirmed that one yet.
UNCONFIRM = Step("reschedule", (CONFIRMED,), SCHEDULED, may=policies.can_manage,
                 forbidden=policies.MANAGE_REFUSAL, clears=("confirmed_at",),
                 done="rescheduled")
# The patient was deactivated: whoever may deactivate (a nurse too) frees the patient's
# upcoming times, though only the front desk cancels appointments one by one.
CANCEL_FOR_DEACTIVATION = Step("cancel_for_deactivation", UPCOMING, CANCELLED,
                               stamp_at="cancelled_at", stamp_by="cancelled_by",
                               notes_field="cancellation_reason", done="cancelled")


def _actor_id(actor: Actor) -> str:
    return actor.id


APPOINTMENT = StateMachine[Appointment, Actor, Moment, AppointmentStatusChange](
    noun="appointment", states=STATUSES, initial=SCHEDULED,
    transitions=(CONFIRM, CHECK_IN, COMPLETE, CANCEL, MARK_NO_SHOW, UNCONFIRM,
                 CANCEL_FOR_DEACTIVATION),
    history=AppointmentStatusChange, owner_key="appointment_id", actor_id=_actor_id)
