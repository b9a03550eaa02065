"""The policy digest is SHA-256 of the RFC 8785 (JCS) canonical JSON of the validated policy:
an auditor recomputes it from the parsed document without Python's float formatting."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from socialcredit.policy.load import bundled_packs


def _integral_floats_as_integers(value: Any) -> Any:
    """What JCS writes for numbers: ECMAScript's shortest form, so 100.0 is 100."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_integers(v) for v in value]
    return value


def test_every_pack_digest_is_recomputed_from_its_parsed_document_as_jcs() -> None:
    for name, loaded in bundled_packs().items():
        parsed = loaded.policy.model_dump(mode="json", by_alias=True)
        # JCS for these documents: sorted keys, no spaces, UTF-8 (not \\u escapes), and no
        # trailing .0 (their keys are ASCII, where UTF-16 and code-point order agree).
        text = json.dumps(
            _integral_floats_as_integers(parsed),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert loaded.digest == hashlib.sha256(text.encode()).hexdigest(), name


def test_the_digest_is_not_the_old_python_json_one() -> None:
    sesame = bundled_packs()["sesame"]
    parsed = sesame.policy.model_dump(mode="json", by_alias=True)
    python = json.dumps(parsed, sort_keys=True, separators=(",", ":"))
    assert ".0," in python or ".0}" in python  # json.dumps writes integral floats as 100.0
    assert sesame.digest != hashlib.sha256(python.encode()).hexdigest()
