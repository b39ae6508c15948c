from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator

from dermifi.core.fields import Text200, Text10000
from dermifi.core.schemas import ApiInput, ApiModel, UtcDateTime, not_nullable, refuse_null
from dermifi.notes.codes import CPT_PATTERN, is_icd10_cm, normalize_icd10

NoteType = Literal["progress_note", "consultation", "procedure_note", "biopsy", "follow_up",
                   "telehealth", "telephone", "other"]
VisitId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Pathology(ApiInput):
    result: Text200
    report_date: UtcDateTime | None = None


def _content_schema(schema: dict[str, Any]) -> None:
    not_nullable(*NoteContent.model_fields)(schema)
    schema["minProperties"] = 1


class NoteContent(ApiInput):
    """The note's sections: one at least; a section is left out, never sent as null."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _content_schema(schema))

    chief_complaint: Text10000 | None = None
    hpi: Text10000 | None = None
    examination: Text10000 | None = None
    assessment: Text10000 | None = None
    plan: Text10000 | None = None
    treatment: Text10000 | None = None
    notes: Text10000 | None = None
    follow_up: Text200 | None = None
    pathology: Pathology | None = None

    _refuse_null = field_validator(
        "*", mode="before")(refuse_null)

    @model_validator(mode="after")
    def _not_empty(self) -> NoteContent:
        if not self.model_dump(exclude_none=True):
            raise ValueError("A note needs some content")
        return self


# `format: icd-10-cm` (an OpenAPI custom format): membership in the code set is beyond a schema.
Icd10List = Annotated[list[Annotated[str, Field(
    min_length=3, max_length=8, json_schema_extra={"format": "icd-10-cm"},
    description="An ICD-10-CM category or subcategory, e.g. L57.0")]],
                      Field(max_length=25)]
CptList = Annotated[list[Annotated[str, Field(pattern=CPT_PATTERN.pattern)]],
                    Field(max_length=25)]


def _real_icd10(codes: list[str]) -> list[str]:
    normalized = [normalize_icd10(c) for c in codes]
    bad = [c for c in normalized if not is_icd10_cm(c)]
    if bad:
        raise ValueError(f"Not ICD-10-CM codes: {', '.join(bad)}")
    return normalized


class NoteCreate(ApiInput):
    type: NoteType
    visit_id: VisitId | None = None
    content: NoteContent
    icd10_codes: Icd10List = Field(default_factory=list)
    cpt_codes: CptList = Field(default_factory=list)
    confidential: StrictBool = False
    draft: StrictBool = Field(False, description="Providers' notes are signed on creation unless "
                        "this is true; nurses' notes are always drafts")

    _icd = field_validator("icd10_codes")(_real_icd10)


class NoteUpdate(ApiInput):
    """Drafts only: a signed note is locked; corrections are addenda."""

    model_config = ConfigDict(json_schema_extra=not_nullable(
        "type", "content", "icd10_codes", "cpt_codes", "confidential"))

    type: NoteType | None = None
    visit_id: VisitId | None = None
    content: NoteContent | None = None
    icd10_codes: Icd10List | None = None
    cpt_codes: CptList | None = None
    confidential: StrictBool | None = None

    @field_validator("icd10_codes")
    @classmethod
    def _icd(cls, codes: list[str] | None) -> list[str] | None:
        return _real_icd10(codes) if codes is not None else None

    _refuse_null = field_validator(
        "type", "content", "icd10_codes", "cpt_codes", "confidential", mode="before")(refuse_null)


class AddendumCreate(ApiInput):
    content: Text10000
    reason: Text200 | None = None


class PersonRef(ApiModel):
    id: str
    name: str


class AddendumRead(ApiModel):
    id: str
    content: str
    reason: str | None
    created_at: UtcDateTime
    created_by: PersonRef


class NoteRead(ApiModel):
    id: str
    patient_id: str
    type: NoteType
    visit_id: str | None
    content: dict[str, Any]
    icd10_codes: list[str]
    cpt_codes: list[str]
    confidential: bool
    status: Literal["draft", "signed"]
    created_at: UtcDateTime
    created_by: PersonRef
    signed_at: UtcDateTime | None
    signed_by: PersonRef | None
    locked: bool
    addenda: list[AddendumRead]


class NoteList(ApiModel):
    notes: list[NoteRead]
    total: int
