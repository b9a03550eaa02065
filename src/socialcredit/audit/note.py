"""Signed checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note` envelopes (Ed25519),
and the key file that signs them.

A checkpoint's text is three lines: the log's origin, the tree size in decimal, and the root
hash in base64. The note appends a blank line and one signature line,
`— <key name> <base64(key id || Ed25519 signature of the text)>`, where the key id is the first
four bytes of SHA-256(key name || "\\n" || 0x01 || public key). The verifier key that outsiders
pin is `<name>+<key id in hex>+<base64(0x01 || public key)>`, the Go `sumdb/note` format.

The private key lives in a file (PKCS #8 PEM) that is created on first need with mode 0600 and
refused when anyone but its owner may read it. Nothing here prints or logs it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from socialcredit.errors import InvalidInput

ED25519 = b"\x01"
DASH = "\u2014"  # the em dash that opens a signature line
KEY_SETTING = "SCS_AUDIT_KEY_FILE"


class NoteError(ValueError):
    """A note or checkpoint that does not parse or whose signature does not verify."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The verifier key to publish, e.g. `scs.example/audit+1a2b3c4d+AR…`."""
    public = public_bytes(key)
    encoded = base64.b64encode(ED25519 + public).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """The key name and public key of a verifier key; NoteError when it is malformed."""
    name, sep, rest = vkey.partition("+")
    hash_hex, sep2, encoded = rest.partition("+")
    if not (sep and sep2 and _valid_name(name) and len(hash_hex) == 8):
        raise NoteError("a verifier key is <name>+<8 hex digits>+<base64 key>")
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hash_hex)
    except (binascii.Error, ValueError):
        raise NoteError("the verifier key's hash or key is not hex and base64") from None
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
    if key_id(name, raw[1:]) != wanted:
        raise NoteError("the verifier key's hash does not match its name and key")
    return name, Ed25519PublicKey.from_public_bytes(raw[1:])


def _valid_name(name: str) -> bool:
    return bool(name) and name.isprintable() and not any(c in name for c in " +\n")


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """`text` (non-empty lines, ending in a newline) with one Ed25519 signature by `name`."""
    if not text.endswith("\n") or "\n\n" in text or not _valid_name(name):
        raise NoteError("a note's text ends in one newline, with no blank line in it")
    public = public_bytes(key.public_key())
    signature = key_id(name, public) + key.sign(text.encode())
    return f"{text}\n{DASH} {name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, name: str, key: Ed25519PublicKey) -> str:
    """The text of `note` once its signature by (`name`, `key`) verifies; NoteError otherwise.
    Signatures by other keys are ignored (a note may carry co-signatures)."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no blank line before signature lines")
    text += "\n"
    wanted = key_id(name, public_bytes(key))
    for line in signatures[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"malformed signature line {line[:80]!r}")
        if parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("a signature is not base64") from None
        if len(blob) != 68 or blob[:4] != wanted:
            continue
        try:
            key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature by {name} does not verify") from None
        return text
    raise NoteError(f"the note carries no signature by the key {name}+{wanted.hex()}")


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint is at least three lines: origin, tree size, root hash")
    origin, size, root = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"the tree size {size[:30]!r} is not a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise NoteError("the root hash is not base64") from None
    if len(digest) != 32:
        raise NoteError("the root hash is not 32 bytes")
    return CheckpointBody(origin, int(size), digest)


def load_key(path: Path, create: bool = False) -> Ed25519PrivateKey:
    """The signing key in `path`; created (mode 0600) when missing and `create` is set.
    Refused when group or others may read or write the file."""
    if create and not path.exists():
        _create_key(path)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InvalidInput(
                KEY_SETTING,
                f"{path} may be read or written by its group or others (mode "
                f"{stat.S_IMODE(mode):04o}); a signing key is for its owner only: chmod 600 it",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(
            KEY_SETTING, f"{path} does not exist: no checkpoint was ever signed with it"
        ) from None
    except OSError as error:
        raise InvalidInput(KEY_SETTING, f"cannot read {path} ({error.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InvalidInput(KEY_SETTING, f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(KEY_SETTING, f"{path} holds a key that is not Ed25519")
    return key


def _create_key(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written under a temporary name, then linked into place: a process that finds the file
    # finds it whole, and of two processes making one at once, the first link wins.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    except OSError as error:
        raise InvalidInput(KEY_SETTING, f"cannot create {path} ({error.strerror})") from None
    finally:
        temporary.unlink(missing_ok=True)
