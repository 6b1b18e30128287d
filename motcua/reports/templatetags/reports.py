"""Template helpers of the report pages."""

from django import template

register = template.Library()


@register.filter
def column(figures, number: int) -> int:
    """The value of form II.06a column ``number`` of a Figures object."""
    return figures.column(int(number)) if figures is not None else 0


#: Form II.06a column → the figure of ``selectors.dossiers_behind`` that lists its dossiers.
COLUMN_MEASURES = {
    4: "received_online",
    5: "received_direct",
    6: "carried_over",
    7: "resolved",
    8: "resolved_early",
    9: "resolved_on_time",
    10: "resolved_late",
    11: "in_progress",
    12: "within_time",
    13: "overdue",
    14: "withdrawn",
    15: "stopped",
    16: "refused",
}


@register.filter
def measure_of(number: int) -> str:
    return COLUMN_MEASURES.get(int(number), "")
