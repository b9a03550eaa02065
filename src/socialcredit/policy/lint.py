"""`scs policy lint`: validation errors plus the warnings an auditor would raise.

error    the document is invalid; it cannot be stored or evaluated
warning  valid, but probably not what the author meant, or it breaks a promise of the system
         (every measure expires, every record stops counting)
notice   valid and deliberate perhaps, but worth a reviewer's eye (collateral measures)

A text that lacks a language other texts of the same policy give is a warning (`rules[3].reason
lacks zh-CN`): a reader in that language would meet it in another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from socialcredit.errors import PolicyError
from socialcredit.i18n.languages import LANGUAGES
from socialcredit.policy.load import load_policy, read_policy_file
from socialcredit.policy.schema import HasRecord, Policy, text_languages, texts, walk


@dataclass(frozen=True)
class Finding:
    level: str  # error | warning | notice
    key: str
    message: str


# FCRA §611(a)(1)(B): 30 days, extended by 15 when the consumer sends more information.
MAX_DISPUTE_DAYS = 45


def lint_text(text: str, source: str = "<policy>") -> list[Finding]:
    try:
        loaded = load_policy(text, source)
    except PolicyError as error:
        problems = getattr(error, "problems", [(error.key, error.reason)])
        return [Finding("error", key, reason) for key, reason in problems]
    return lint(loaded.policy)


def lint_file(path: Path) -> list[Finding]:
    """`lint_text` of a file; a file that cannot be read is one error finding."""
    try:
        text = read_policy_file(path)
    except PolicyError as error:
        return [Finding("error", error.key, error.reason)]
    return lint_text(text, str(path))


def lint(policy: Policy) -> list[Finding]:
    found: list[Finding] = []
    add = found.append
    used = {rule.category for rule in policy.rules}
    for name, category in policy.categories.items():
        if category.network is None and name not in used:
            add(
                Finding(
                    "warning",
                    f"categories.{name}",
                    "no rule feeds this category; its value never moves",
                )
            )
        if policy.model == "points" and category.weight is not None:
            add(Finding("warning", f"categories.{name}.weight", "the points model ignores weights"))
    for i, rule in enumerate(policy.rules):
        key = f"rules[{i}]"
        if rule.expires is None:
            add(
                Finding(
                    "warning",
                    f"{key}.expires",
                    f"records of {rule.type} count forever; give them an expiry",
                )
            )
        if rule.points == 0 and rule.per_unit == 0 and rule.ceiling is None:
            add(
                Finding(
                    "warning",
                    key,
                    f"{rule.type} has no points, per_unit or ceiling; it changes nothing",
                )
            )
        if rule.per_unit != 0 and rule.cap is None:
            add(
                Finding(
                    "warning",
                    f"{key}.cap",
                    f"{rule.type} scales with the record's value "
                    "but has no cap; one large value can dominate the score",
                )
            )
    if policy.scale is not None:
        for i, tier in enumerate(policy.tiers):
            if tier.min > policy.scale.max:
                add(
                    Finding(
                        "warning",
                        f"tiers[{i}]",
                        f"{tier.name} needs {tier.min}, above "
                        f"the scale's max {policy.scale.max}; no one can reach it",
                    )
                )
    network = policy.network_category
    if network is not None:
        add(
            Finding(
                "notice",
                f"categories.{network}.network",
                f"{network} scores subjects by their relationships' standing (association); "
                "every report names the related subjects and what each passed on; audit its "
                "impact before use",
            )
        )
    for i, definition in enumerate(policy.lists):
        if not definition.exit:
            add(
                Finding(
                    "notice",
                    f"lists[{i}].exit",
                    f"{definition.name}: entries leave only "
                    "by expiry; consider an exit by fulfilment or credit repair",
                )
            )
    found += language_gaps(policy)
    if policy.disputes.deadline > MAX_DISPUTE_DAYS:
        add(
            Finding(
                "warning",
                "disputes.deadline",
                f"{policy.disputes.deadline} days to answer an objection is longer than any "
                f"anchor allows (FCRA: 30, or {MAX_DISPUTE_DAYS} with more information; China: 20)",
            )
        )
    if policy.disputes.while_disputed == "count":
        add(
            Finding(
                "notice",
                "disputes.while_disputed",
                "a record under objection keeps counting against its subject before anyone "
                "checked it (flagged as disputed); suspend is the default",
            )
        )
    for i, measure in enumerate(policy.measures):
        key = f"measures[{i}]"
        for node in walk(measure.when):
            if isinstance(node, HasRecord) and node.has_record.within is None:
                add(
                    Finding(
                        "warning",
                        f"{key}.when",
                        f"has_record {node.has_record.type} "
                        "without `within` holds forever after one record; the measure "
                        "would never expire",
                    )
                )
        collateral = [t for t in measure.targets if t != "self"]
        if collateral and measure.kind == "restriction":
            add(
                Finding(
                    "notice",
                    f"{key}.targets",
                    f"{measure.name} restricts "
                    f"{' and '.join(collateral)} for what another subject did "
                    "(collateral punishment); audit its impact before use",
                )
            )
    return found


def language_gaps(policy: Policy) -> list[Finding]:
    """A warning for each text that lacks a language that other texts of the policy give (a
    plain string lacks them all: it is shown as written in every language)."""
    given = [(key, text_languages(value)) for key, value in texts(policy)]
    used = set().union(*(languages for _, languages in given))
    out = []
    for key, languages in given:
        missing = [lang for lang in LANGUAGES if lang in used and lang not in languages]
        if missing:
            named = ", ".join(missing)
            why = (
                f"other texts of this policy give {named}"
                if languages
                else f"a plain string is shown as written in every language, and other texts "
                f"of this policy give {named}"
            )
            out.append(Finding("warning", key, f"lacks {named} ({why})"))
    return out
