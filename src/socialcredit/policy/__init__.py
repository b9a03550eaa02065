"""Policies: the declarative documents that say what counts, how much and for how long."""

from socialcredit.policy.load import load_policy, load_policy_file, policy_digest
from socialcredit.policy.schema import Policy

__all__ = ["Policy", "load_policy", "load_policy_file", "policy_digest"]
