"""Record types in words, and the unit of each one's value (docs/record-types.md).

The types are the ones the synthetic city emits and the bundled packs read. A type that is not
here is named by the reason of the policy rule that counts it, or, failing that, as "a record
of type …" so that the code is never shown on its own.
"""

from __future__ import annotations

from socialcredit.i18n import N_, _, ngettext
from socialcredit.i18n.formats import format_money, format_number

# The units a record's value may have. Money is formatted as money (`format_money`).
YUAN = "yuan"
TEN_THOUSAND_YUAN = "ten_thousand_yuan"
DAYS = "days"
HOURS = "hours"
MONTHS = "months"
ORDERS = "orders"
INSTALMENTS = "instalments"
LEVEL = "level"

# type -> (what it says, the unit of its value or None when it carries none)
TYPES: dict[str, tuple[str, str | None]] = {
    "court.judgment.issued": (N_("a money judgment took effect"), YUAN),
    "court.judgment.fulfilled": (N_("a judgment was fulfilled"), None),
    "court.dishonest.refuses_to_perform": (
        N_("refused to perform a judgment despite being able to"),
        None,
    ),
    "court.dishonest.obstructs_enforcement": (
        N_("obstructed enforcement by forgery, violence or threats"),
        None,
    ),
    "court.dishonest.evades_enforcement": (
        N_("evaded enforcement by false litigation or hiding assets"),
        None,
    ),
    "court.dishonest.false_property_report": (N_("made a false report of property"), None),
    "court.dishonest.violates_consumption_order": (
        N_("violated a consumption restriction order"),
        None,
    ),
    "court.dishonest.breaches_settlement": (
        N_("refused to perform an enforcement settlement"),
        None,
    ),
    "court.listing.revoked": (N_("the court revoked a listing"), None),
    "finance.repayment.on_time": (N_("loan instalments repaid on time"), INSTALMENTS),
    "finance.payment.late": (N_("a late repayment"), DAYS),
    "finance.loan.default": (N_("a loan in default"), YUAN),
    "finance.loan.repaid": (N_("a loan repaid in full"), YUAN),
    "finance.assets.verified": (N_("verified deposits and assets"), TEN_THOUSAND_YUAN),
    "utility.bill.paid": (N_("utility bills paid on time"), MONTHS),
    "utility.bill.overdue": (N_("an overdue utility bill"), DAYS),
    "commerce.order.completed": (N_("online orders completed"), ORDERS),
    "commerce.rental.returned": (N_("a deposit-free rental returned on time"), None),
    "commerce.rental.overdue": (N_("a rental returned late"), DAYS),
    "commerce.review.fake": (N_("a confirmed fake review"), None),
    "commerce.refund.fraud": (N_("a confirmed refund fraud"), YUAN),
    "traffic.violation.minor": (N_("a traffic ticket"), None),
    "traffic.violation.serious": (N_("a serious traffic violation"), None),
    "traffic.drunk_driving": (N_("a conviction for drunk driving"), None),
    "public_order.violation": (N_("a penalty for a public-order offence"), None),
    "civic.volunteer.service": (N_("registered volunteer service"), HOURS),
    "civic.heroic_act": (N_("a recognised act of bravery"), None),
    "civic.blood_donation": (N_("an unpaid blood donation"), None),
    "civic.honor.award": (N_("an official honour"), LEVEL),
    "civic.family.elder_care": (N_("recognised care for elderly relatives"), None),
    "tax.filing.on_time": (N_("a tax return filed on time"), None),
    "tax.filing.late": (N_("a late tax return"), DAYS),
    "tax.payment.overdue": (N_("tax paid late"), DAYS),
    "tax.invoice.false": (N_("false VAT invoices issued"), None),
    "tax.evasion.major": (N_("a major tax violation case"), YUAN),
    "tax.individual.arrears": (N_("personal income tax arrears"), YUAN),
    "market.annual_report.filed": (N_("the annual report was filed"), None),
    "market.annual_report.missing": (N_("the annual report was not filed in time"), None),
    "market.address.unreachable": (N_("the registered address cannot be reached"), None),
    "market.inspection.passed": (N_("a random inspection found nothing wrong"), None),
    "market.violation.minor": (N_("a minor administrative penalty"), None),
    "market.product.safety_violation": (N_("a product quality or safety violation"), None),
    "environment.violation.minor": (N_("a minor environmental penalty"), None),
    "environment.violation.serious": (N_("a serious environmental violation"), None),
    "rail.ticket.fraud": (N_("fare evasion or ticket scalping"), None),
    "rail.seat.occupying": (N_("occupying another passenger's seat on a train"), None),
    "aviation.passenger.disruptive": (
        N_("disruptive behaviour on a flight or at an airport"),
        None,
    ),
    "employment.verified": (N_("employment and income verified"), YUAN),
    "education.degree.verified": (N_("a verified degree"), LEVEL),
    "identity.verified": (N_("identity documents verified"), None),
    "civic.honor.integrity_model": (N_("named a model of integrity"), None),
    "credit.repair.approved": (N_("credit repair approved"), None),
    "credit.commitment.signed": (N_("a signed credit commitment"), None),
}


def type_text(record_type: str, fallback: str | None = None) -> str:
    """What a record of `record_type` says, in the language in use. `fallback` (a policy
    rule's reason, already in the reader's language) names a type this table lacks."""
    known = TYPES.get(record_type)
    if known:
        return _(known[0])
    if fallback:
        return fallback
    return _("a record of type {type}", type=record_type)


def unit_of(record_type: str) -> str | None:
    known = TYPES.get(record_type)
    return known[1] if known else None


def value_text(record_type: str, value: float | None) -> str:
    """A record's value with its unit (`CN¥218,300`, `12 days`, `3.5 hours`); '' for none.
    A value of a type without a known unit is the bare number."""
    if value is None:
        return ""
    unit = unit_of(record_type)
    if unit == YUAN:
        return format_money(value)
    if unit == TEN_THOUSAND_YUAN:
        return format_money(value * 10_000)
    whole = float(value).is_integer()
    shown = format_number(value, 0 if whole else 2)
    count = int(value) if whole else 2  # a fraction takes the plural ("1.5 days")
    if unit == DAYS:
        return ngettext("{count} day", "{count} days", count, count=shown)
    if unit == HOURS:
        return ngettext("{count} hour", "{count} hours", count, count=shown)
    if unit == MONTHS:
        return ngettext("{count} month", "{count} months", count, count=shown)
    if unit == ORDERS:
        return ngettext("{count} order", "{count} orders", count, count=shown)
    if unit == INSTALMENTS:
        return ngettext("{count} instalment", "{count} instalments", count, count=shown)
    if unit == LEVEL:
        return _("level {level}", level=shown)
    return shown
