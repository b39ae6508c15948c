"""Writes the ICD-10-CM categories and subcategories with their descriptions to stdout as
JSON: ``python -m dermifi.notes.icd10_table``.

The packaged code set (simple-icd-10-cm) holds the whole classification as a tree of objects,
about 180 MiB once parsed; a server needs a few MiB of it (is this a code, what is it called).
Parsing it in a short-lived process of its own keeps that peak out of every server worker.
"""

from __future__ import annotations

import sys

import orjson


def table() -> dict[str, str]:
    """Every category ("L40") and subcategory ("L40.0"), written with its dot, to its
    description. Chapters, blocks and 7th-character extensions are not codes a note takes."""
    import simple_icd_10_cm as codes

    return {code: str(codes.get_description(code)) for code in codes.get_all_codes(True)
            if codes.is_category_or_subcategory(code)}


if __name__ == "__main__":
    sys.stdout.buffer.write(orjson.dumps(table()))
