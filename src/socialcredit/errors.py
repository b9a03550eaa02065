"""One error hierarchy for the whole package.

    SocialCreditError                 root; `code` is a stable machine-readable name
    ├── InvalidInput (ValueError)     bad input: names the field and the reason
    │   ├── IdentifierError           an identifier failed validation (names the failed part)
    │   └── PolicyError               a policy document is invalid (names file and key)
    ├── NotFound (LookupError)        a subject, source, policy or evaluation does not exist
    ├── Conflict                      the input contradicts what is already stored
    ├── StoreNotReady                 the store is missing or its schema is not at head
    ├── BrokerUnavailable             the NATS server is unreachable, or lacks the stream
    ├── TooLarge                      an upload is over its size limit (names the limit)
    ├── Unauthenticated               no credentials, or a key that is unknown or revoked
    └── Forbidden                     the caller's role or grants do not allow the action

The CLI maps these to exit codes in one place (`cli/__init__.py`), the API to status codes and
one JSON error shape in one place (`api/errors.py`).
"""

from __future__ import annotations


class SocialCreditError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SocialCreditError, ValueError):
    code = "invalid_input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class IdentifierError(InvalidInput):
    code = "invalid_identifier"

    def __init__(self, value: str, part: str, reason: str) -> None:
        self.value = value
        self.part = part
        super().__init__(part, reason)
        self.message = f"identifier {value!r}: {part}: {reason}"
        self.args = (self.message,)


class PolicyError(InvalidInput):
    code = "invalid_policy"

    def __init__(self, source: str, key: str, reason: str) -> None:
        self.source = source
        self.key = key
        super().__init__(key, reason)
        where = f"{source}: " if source else ""
        self.message = f"{where}{key}: {reason}" if key else f"{where}{reason}"
        self.args = (self.message,)


class NotFound(SocialCreditError, LookupError):
    code = "not_found"


class Conflict(SocialCreditError):
    code = "conflict"


class StoreNotReady(SocialCreditError):
    code = "store_not_ready"


class BrokerUnavailable(SocialCreditError):
    code = "broker_unavailable"


class TooLarge(SocialCreditError):
    """An upload (evidence of an objection) is over its size limit."""

    code = "too_large"


class ResourceLimit(SocialCreditError):
    """A run needed more memory or spill space than it is allowed."""

    code = "resource_limit"


class Unauthenticated(SocialCreditError):
    code = "unauthenticated"


class Forbidden(SocialCreditError):
    code = "forbidden"
