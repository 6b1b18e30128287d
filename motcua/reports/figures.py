"""The figures of one scope over one period, the form II.06a columns and the quality indicators (pure).

``Figures`` is built from summed summary rows (see ``selectors``): flow sums over the period and
the stocks at its two ends. Everything a report shows is a property of it, so the dashboard, the
II.06a form, the public page and the exports cannot disagree.

The indicator formulas of the national service-quality index (QĐ 766/QĐ-TTg) are unconfirmed
(shared/reference/domain.md §6): each indicator has variants, the default being the one the
reference gives, and the province picks one in the desk (``reports.IndicatorSetting``); the
chosen formula is printed next to every figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from motcua.reports.facts import FLOW_COLUMNS


def gettext_noop(message: str) -> str:
    """Marks a message for translation without Django (``makemessages`` picks these up); the
    pages translate it when they show it."""
    return message


@dataclass
class Figures:
    flows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLOW_COLUMNS, 0))
    carried_over: int = 0
    in_progress: int = 0
    overdue: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            flows={c: self.flows.get(c, 0) + other.flows.get(c, 0) for c in FLOW_COLUMNS},
            carried_over=self.carried_over + other.carried_over,
            in_progress=self.in_progress + other.in_progress,
            overdue=self.overdue + other.overdue,
        )

    def __getattr__(self, name: str) -> int:
        # Flow columns read as attributes (figures.received_online), for templates too.
        flows = self.__dict__.get("flows")
        if flows is not None and name in FLOW_COLUMNS:
            return flows.get(name, 0)
        raise AttributeError(name)

    @property
    def received_direct(self) -> int:
        """In person or by post (column 5)."""
        return self.flows["received_counter"] + self.flows["received_post"]

    @property
    def received_in_period(self) -> int:
        return self.flows["received_online"] + self.received_direct

    @property
    def received_total(self) -> int:
        """Column 3 = 4 + 5 + 6."""
        return self.received_in_period + self.carried_over

    @property
    def resolved(self) -> int:
        return self.flows["resolved_early"] + self.flows["resolved_on_time"] + self.flows["resolved_late"]

    @property
    def average_score(self) -> Decimal | None:
        """The average satisfaction score (1–5) of the ratings of the period, to 0.01."""
        if self.flows.get("ratings", 0) <= 0:
            return None
        return (Decimal(self.flows["rating_score_sum"]) / self.flows["ratings"]).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    @property
    def within_time(self) -> int:
        return self.in_progress - self.overdue

    @property
    def balanced(self) -> bool:
        """Column 3 = resolved + withdrawn + stopped + in progress: every dossier is somewhere."""
        return self.received_total == self.resolved + self.flows["withdrawn"] + self.flows["stopped"] + self.in_progress

    def column(self, number: int) -> int:
        return getattr(self, II06A_COLUMNS[number][0]) if number in II06A_COLUMNS else 0


#: Form II.06a/VPCP/KSTT (domain.md §7): column number → (attribute, English heading). Columns 14–16
#: are ours: the form has no place for withdrawn, stopped and refused dossiers, which are kept apart.
II06A_COLUMNS: dict[int, tuple[str, str]] = {
    3: ("received_total", gettext_noop("Received: total")),
    4: ("received_online", gettext_noop("Received in the period: online")),
    5: ("received_direct", gettext_noop("Received in the period: in person or by post")),
    6: ("carried_over", gettext_noop("Carried over from the previous period")),
    7: ("resolved", gettext_noop("Resolved: total")),
    8: ("resolved_early", gettext_noop("Resolved early")),
    9: ("resolved_on_time", gettext_noop("Resolved on time")),
    10: ("resolved_late", gettext_noop("Resolved late")),
    11: ("in_progress", gettext_noop("In progress: total")),
    12: ("within_time", gettext_noop("In progress: within time")),
    13: ("overdue", gettext_noop("In progress: overdue")),
    14: ("withdrawn", gettext_noop("Withdrawn")),
    15: ("stopped", gettext_noop("Stopped")),
    16: ("refused", gettext_noop("Refused at reception")),
}
DATA_COLUMNS = tuple(II06A_COLUMNS)


# --- indicators --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    key: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    text: str  # the formula in words (English msgid; translated where shown)


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    group: str
    max_points: int | None
    variants: tuple[Variant, ...]

    def variant(self, key: str | None) -> Variant:
        for variant in self.variants:
            if variant.key == key:
                return variant
        return self.variants[0]


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "on_time",
        gettext_noop("On-time rate"),
        gettext_noop("Resolution progress"),
        20,
        (
            Variant(
                "resolved",
                ("resolved_early", "resolved_on_time"),
                ("resolved",),
                gettext_noop("(resolved early + resolved on time) ÷ resolved in the period"),
            ),
            Variant(
                "resolved_and_overdue",
                ("resolved_early", "resolved_on_time"),
                ("resolved", "overdue"),
                gettext_noop("(resolved early + resolved on time) ÷ (resolved in the period + overdue at its end)"),
            ),
        ),
    ),
    Indicator(
        "online",
        gettext_noop("Online rate"),
        gettext_noop("Online services"),
        12,
        (
            Variant(
                "online_capable",
                ("received_online",),
                ("received_online_capable",),
                gettext_noop("received online ÷ received for procedures that accept online submission"),
            ),
            Variant(
                "all_received",
                ("received_online",),
                ("received_in_period",),
                gettext_noop("received online ÷ all received in the period"),
            ),
        ),
    ),
    Indicator(
        "online_payment",
        gettext_noop("Online payment rate"),
        gettext_noop("Online payment"),
        10,
        (
            Variant(
                "paid",
                ("paid_online",),
                ("fees_paid",),
                gettext_noop("fees paid online ÷ fees paid in the period"),
            ),
            Variant(
                "with_fee",
                ("paid_online",),
                ("received_with_fee",),
                gettext_noop("fees paid online ÷ received dossiers with a fee or charge"),
            ),
        ),
    ),
    Indicator(
        "digitised_dossiers",
        gettext_noop("Digitised dossiers"),
        gettext_noop("Digitisation"),
        22,
        (
            Variant(
                "all_received",
                ("received_digitised",),
                ("received_in_period",),
                gettext_noop("received with every document scanned ÷ all received in the period"),
            ),
            Variant(
                "paper_only",
                ("received_digitised",),
                ("received_direct",),
                gettext_noop("received with every document scanned ÷ received in person or by post"),
            ),
        ),
    ),
    Indicator(
        "digitised_results",
        gettext_noop("Electronic results"),
        gettext_noop("Digitisation"),
        None,
        (
            Variant(
                "resolved",
                ("resolved_digital",),
                ("resolved",),
                gettext_noop("resolved with an electronic result ÷ resolved in the period"),
            ),
        ),
    ),
    Indicator(
        "satisfaction",
        gettext_noop("Satisfaction"),
        gettext_noop("Satisfaction"),
        18,
        (
            Variant(
                "ratings",
                ("ratings_satisfied",),
                ("ratings",),
                gettext_noop("ratings “satisfied” or better ÷ ratings received in the period"),
            ),
        ),
    ),
)
INDICATOR_BY_KEY = {indicator.key: indicator for indicator in INDICATORS}


def _value(figures: Figures, name: str) -> int:
    return int(getattr(figures, name))


def percent(numerator: int, denominator: int) -> Decimal | None:
    """Numerator ÷ denominator in per cent, to 0.01; None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    indicator: Indicator
    variant: Variant
    numerator: int
    denominator: int

    @property
    def value(self) -> Decimal | None:
        return percent(self.numerator, self.denominator)


def rate(figures: Figures, indicator_key: str, variant_key: str | None = None) -> Rate:
    indicator = INDICATOR_BY_KEY[indicator_key]
    variant = indicator.variant(variant_key)
    return Rate(
        indicator=indicator,
        variant=variant,
        numerator=sum(_value(figures, n) for n in variant.numerator),
        denominator=sum(_value(figures, n) for n in variant.denominator),
    )


def rates(figures: Figures, choices: dict[str, str] | None = None) -> list[Rate]:
    choices = choices or {}
    return [rate(figures, indicator.key, choices.get(indicator.key)) for indicator in INDICATORS]
