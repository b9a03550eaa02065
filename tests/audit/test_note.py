"""Signed notes against the Go `sumdb/note` example (golang.org/x/mod, note_test.go), and the
key file's rules."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socialcredit.audit.note import (
    CheckpointBody,
    NoteError,
    load_key,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from socialcredit.errors import InvalidInput

SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
NOTE = (
    TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _peter() -> Ed25519PrivateKey:
    seed = base64.b64decode(SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_signing_gives_the_go_note_byte_for_byte() -> None:
    key = _peter()
    assert verifier_key("PeterNeumann", key.public_key()) == VKEY
    assert sign_note(TEXT, "PeterNeumann", key) == NOTE


def test_the_go_note_opens_with_its_verifier_key_and_not_when_changed() -> None:
    name, public = parse_verifier_key(VKEY)
    assert open_note(NOTE, name, public) == TEXT
    with pytest.raises(NoteError, match="does not verify"):
        open_note(NOTE.replace("cryptography", "cryptographY"), name, public)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(NoteError, match="no signature by the key"):
        open_note(NOTE, name, other)
    with pytest.raises(NoteError, match="no blank line"):
        open_note(TEXT, name, public)


@pytest.mark.parametrize(
    "vkey",
    [
        VKEY.replace("c74f20a3", "c74f20a4"),  # the hash does not match
        VKEY[:-4],  # a truncated key
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


def test_checkpoint_bodies_round_trip_and_bad_ones_are_named() -> None:
    body = CheckpointBody("example.com/log", 42, bytes(range(32)))
    assert parse_checkpoint(body.text()) == body
    assert body.text().splitlines()[1] == "42"
    for text, why in [
        ("example.com/log\n042\n" + base64.b64encode(bytes(32)).decode() + "\n", "decimal"),
        ("example.com/log\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "32 bytes"),
        ("example.com/log\n1\n", "three lines"),
    ]:
        with pytest.raises(NoteError, match=why):
            parse_checkpoint(text)


def test_the_key_file_is_made_private_and_refused_once_others_may_read_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.pem"
    with pytest.raises(InvalidInput, match="does not exist"):
        load_key(path)
    key = load_key(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file is left behind
    again = load_key(path, create=True)  # the same key, not a new one
    assert verifier_key("n", again.public_key()) == verifier_key("n", key.public_key())
    os.chmod(path, 0o640)
    with pytest.raises(InvalidInput, match="mode 0640") as refused:
        load_key(path)
    assert refused.value.field == "SCS_AUDIT_KEY_FILE"
    assert "PRIVATE" not in str(refused.value)
