"""Diagnosis and procedure codes: ICD-10-CM from the packaged code set, CPT by form."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache, lru_cache

import orjson

# CPT: Category I five digits; Category II four digits + F; III + T; PLA codes + U.
CPT_PATTERN = re.compile(r"^\d{4}[0-9FTU]$")


@cache
def _code_set() -> dict[str, str]:
    """The ICD-10-CM categories and subcategories, by code written with its dot. Built by a
    process of its own (``notes.icd10_table``: parsing the packaged code set costs seconds of
    CPU and 180 MiB that would stay in this process's peak), on first use; the server warms
    it in the background at start-up."""
    built = subprocess.run([sys.executable, "-m", "dermifi.notes.icd10_table"],
                           capture_output=True, check=True, timeout=300)
    table: dict[str, str] = orjson.loads(built.stdout)
    return table


def warm() -> None:
    _code_set()


def normalize_icd10(code: str) -> str:
    return code.strip().upper()


def _with_dot(code: str) -> str:
    # As the code set reads codes: "L400" is "L40.0"; a category has no dot ("L40").
    if len(code) < 4 or code[3] == "." or code in _code_set():
        return code
    return code[:3] + "." + code[3:]


@lru_cache(maxsize=4096)
def is_icd10_cm(code: str) -> bool:
    """A real ICD-10-CM category or subcategory (chapters and blocks are not codes)."""
    return _with_dot(code) in _code_set()


@lru_cache(maxsize=4096)
def icd10_description(code: str) -> str:
    try:
        return _code_set()[_with_dot(code)]
    except KeyError:
        raise ValueError(f"not an ICD-10-CM code: {code!r}") from None
