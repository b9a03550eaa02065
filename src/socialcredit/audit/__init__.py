"""The tamper-evident audit log: every read of personal data and every decision change."""

from socialcredit.audit.log import Entry, Verification, append_entries, read_entries, verify

__all__ = ["Entry", "Verification", "append_entries", "read_entries", "verify"]
