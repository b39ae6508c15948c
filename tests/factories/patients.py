from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from dermifi.auth.actor import Actor
from dermifi.core.state import AppState
from dermifi.patients import service as patient_service
from dermifi.patients.models import Patient
from dermifi.patients.schemas import PatientCreate


def patient_payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/patients body, as the vendor document shows it (with a real phone)."""
    body: dict[str, Any] = {
        "firstName": "Jane", "lastName": "Smith",
        "email": f"jane.smith.{secrets.token_hex(3)}@email.com",
        "phone": "+1 (415) 555-0132", "dateOfBirth": "1990-03-21", "gender": "female",
        "address": {"street": "456 Oak Ave", "city": "Los Angeles", "state": "CA",
                    "zipCode": "90001"},
        "emergencyContact": {"name": "John Smith", "relationship": "spouse",
                             "phone": "+1 (415) 555-0133"},
        "insurance": {"provider": "Aetna", "memberId": "AET987654321",
                      "groupNumber": "GRP002", "copay": 25},
        "allergies": ["penicillin", "sulfa"], "medications": ["lisinopril 10mg daily"],
        "conditions": ["hypertension"], "consentToTreat": True, "hipaaConsent": True,
    }
    body.update(overrides)
    return body


async def make_patient(state: AppState, actor: Actor, **overrides: Any) -> Patient:
    payload = patient_payload(**overrides)
    if "dateOfBirth" in overrides and isinstance(overrides["dateOfBirth"], date):
        payload["dateOfBirth"] = overrides["dateOfBirth"].isoformat()
    async with state.sessionmaker() as session:
        from dermifi.core.db import scope_to_practice

        scope_to_practice(session, actor.practice_id)
        return await patient_service.create_patient(
            session, actor, data=PatientCreate.model_validate(payload))
