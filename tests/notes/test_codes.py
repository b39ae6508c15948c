"""The server's ICD-10-CM table (built by notes.icd10_table in a process of its own) answers
exactly as the packaged code set does, for every code in either spelling and for near misses."""

from __future__ import annotations

import resource
import subprocess
import sys

import simple_icd_10_cm as code_set

from dermifi.notes import codes

NEAR_MISSES = ["", "L", "L4", "l40", "L4.00", "L40.", "L40-L45", "1", "L40.0X", "L4000",
               "S52.521A", "S52521A", "ZZZ", "L40.00", " L40"]


def _by_the_code_set(code: str) -> bool:
    try:
        return bool(code_set.is_valid_item(code) and code_set.is_category_or_subcategory(code))
    except ValueError:
        return False


def test_every_code_and_near_miss_is_judged_as_the_code_set_judges_it() -> None:
    candidates = [*code_set.get_all_codes(True), *code_set.get_all_codes(False), *NEAR_MISSES]
    disagreements = [c for c in candidates if codes.is_icd10_cm(c) != _by_the_code_set(c)]
    assert disagreements == []
    assert codes.is_icd10_cm("L40.0")
    assert codes.is_icd10_cm("L400")
    assert not codes.is_icd10_cm("L40-L45")  # a block


def test_descriptions_are_the_code_set_s() -> None:
    for code in ("L40.0", "L400", "L40", "C43.9", "D22.5"):
        assert codes.icd10_description(code) == code_set.get_description(code)
    assert codes.icd10_description("L400") == "Psoriasis vulgaris"


def test_the_table_is_built_without_the_code_set_in_this_process() -> None:
    # A fresh interpreter that loads the table: the code set itself is never imported there,
    # so its ~180 MiB parse stays out of a server worker's peak memory.
    # VmHWM: this process's own peak (ru_maxrss would include the parent's, across exec).
    probe = ("import re, sys; from dermifi.notes import codes; codes.warm(); "
             "status = open('/proc/self/status').read(); "
             "print('simple_icd_10_cm' in sys.modules, "
             "int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=300)
    imported, peak_mib = result.stdout.split()
    assert imported == "False"
    parsing_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    assert int(peak_mib) < 100 < parsing_peak  # this test process did parse the code set
