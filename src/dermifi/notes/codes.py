"""Diagnosis and procedure codes: ICD-10-CM from the packaged code set, CPT by form."""

from __future__ import annotations

import re
from functools import lru_cache

import simple_icd_10_cm as icd

# CPT: Category I five digits; Category II four digits + F; III + T; PLA codes + U.
CPT_PATTERN = re.compile(r"^\d{4}[0-9FTU]$")


def normalize_icd10(code: str) -> str:
    return code.strip().upper()


@lru_cache(maxsize=4096)
def is_icd10_cm(code: str) -> bool:
    """A real ICD-10-CM category or subcategory (chapters and blocks are not codes)."""
    try:
        return bool(icd.is_valid_item(code) and icd.is_category_or_subcategory(code))
    except ValueError:
        return False


@lru_cache(maxsize=4096)
def icd10_description(code: str) -> str:
    return str(icd.get_description(code))
