"""Every model, imported so the metadata (and Alembic) sees every table."""

from dermifi.audit.models import AuditEvent
from dermifi.auth.models import AuthSession, LoginFailure, RefreshToken
from dermifi.core.db import Base
from dermifi.core.idempotency import IdempotencyKey
from dermifi.core.sequences import NumberSequence
from dermifi.locations.models import Location
from dermifi.notes.models import ClinicalNote, NoteAddendum
from dermifi.outbox.models import OutboxMessage
from dermifi.patients.models import Patient
from dermifi.pharmacies.models import Pharmacy
from dermifi.photos.models import Photo
from dermifi.practices.models import Practice
from dermifi.providers.models import DayOff, Provider, ProviderLocation, WorkingHours
from dermifi.scheduling.models import Appointment, AppointmentStatusChange
from dermifi.users.models import User

__all__ = [
    "Appointment", "AppointmentStatusChange", "AuditEvent", "AuthSession", "Base",
    "ClinicalNote", "DayOff", "IdempotencyKey", "Location",
    "LoginFailure", "NoteAddendum", "NumberSequence", "OutboxMessage", "Patient", "Pharmacy",
    "Photo",
    "Practice", "Provider",
    "ProviderLocation", "RefreshToken", "User", "WorkingHours",
]
