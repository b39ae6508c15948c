"""Diagnosis and procedure codes: ICD-10-CM from the packaged code set, CPT by form."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from types import ModuleType

# CPT: Category I five digits; Category II four digits + F; III + T; PLA codes + U.
CPT_PATTERN = re.compile(r"^\d{4}[0-9FTU]$")


@cache
def _code_set() -> ModuleType:
    """The ICD-10-CM code set. Parsing it costs seconds of CPU, so it is loaded on first use
    (the server warms it in the background at start-up), not when this module is imported."""
    import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


def warm() -> None:
    _code_set()


def normalize_icd10(code: str) -> str:
    return code.strip().upper()


@lru_cache(maxsize=4096)
def is_icd10_cm(code: str) -> bool:
    """A real ICD-10-CM category or subcategory (chapters and blocks are not codes)."""
    try:
        codes = _code_set()
        return bool(codes.is_valid_item(code) and codes.is_category_or_subcategory(code))
    except ValueError:
        return False


@lru_cache(maxsize=4096)
def icd10_description(code: str) -> str:
    return str(_code_set().get_description(code))
