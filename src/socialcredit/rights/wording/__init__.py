"""Plain words for persons: what the portal, the public lists, the notices, the API's text
fields and `scs explain` say instead of codes (docs/i18n.md, "Plain words").

- `sentences`: measure reasons, list entries, tiers and the percentile as sentences.
- `causes`: the records that put a subject on a list, read back from the store.
- `record_types`: record types in words and the unit of each one's value.
- `regions`: GB/T 2260 region names (a table, with its source).
- `standing`: the words added to the documents the API and the pages share.
"""

from socialcredit.rights.wording.causes import Cause, list_causes
from socialcredit.rights.wording.record_types import type_text, unit_of, value_text
from socialcredit.rights.wording.regions import region_name
from socialcredit.rights.wording.sentences import (
    Facts,
    category_text,
    causes_document,
    list_label,
    list_why,
    percentile_text,
    reason_text,
    tier_text,
    words,
)

__all__ = [
    "Cause",
    "Facts",
    "category_text",
    "causes_document",
    "list_causes",
    "list_label",
    "list_why",
    "percentile_text",
    "reason_text",
    "region_name",
    "tier_text",
    "type_text",
    "unit_of",
    "value_text",
    "words",
]
