"""The dossier lifecycle: statuses and the legal transitions between them.

No database here: the services ask ``check_transition`` before they change a status, and the
screens ask ``allowed_transitions`` what to offer. Only the status labels need Django (for
translation). The states follow shared/reference/domain.md §2.3; the codes are our own.

Transitions and why::

    draft                    → submitted_online             the applicant sends an online dossier
    submitted_online         → received                     the clerk accepts it (code given, clock starts)
                             → returned_for_completion      guidance (Mẫu 02), no clock
                             → refused                      refusal (Mẫu 03)
                             → withdrawn                    the applicant takes it back before receipt
    returned_for_completion  → submitted_online             an online applicant completes and resends
    received                 → in_process                   handed to the competent agency
                             → withdrawn
    in_process               → waiting_for_supplement       Mẫu 02 during processing: the clock pauses
                             → waiting_for_payment          fee or tax to be paid (the clock runs)
                             → result_ready                 resolved: the clock stops, timeliness is judged
                             → stopped                      Mẫu 05
                             → withdrawn
    waiting_for_supplement   → in_process                   the supplement arrived: the due moment moves
                             → withdrawn | stopped          (e.g. no supplement within the time allowed)
    waiting_for_payment      → in_process                   paid
                             → withdrawn | stopped          (obligation not fulfilled)
    result_ready             → returned                     handed over to the applicant

refused, returned, withdrawn and stopped are final. A counter guidance record
(returned_for_completion without a code) is final in practice: the applicant comes back with a
new dossier, which gets its own code when it is received.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Status(TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED_ONLINE = "submitted_online", _("submitted online")
    RECEIVED = "received", _("received")
    RETURNED_FOR_COMPLETION = "returned_for_completion", _("returned for completion")
    REFUSED = "refused", _("refused")
    IN_PROCESS = "in_process", _("in process")
    WAITING_FOR_SUPPLEMENT = "waiting_for_supplement", _("waiting for supplement")
    WAITING_FOR_PAYMENT = "waiting_for_payment", _("waiting for payment")
    RESULT_READY = "result_ready", _("result ready")
    RETURNED = "returned", _("result returned")
    WITHDRAWN = "withdrawn", _("withdrawn")
    STOPPED = "stopped", _("stopped")


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED_ONLINE}),
    Status.SUBMITTED_ONLINE: frozenset(
        {Status.RECEIVED, Status.RETURNED_FOR_COMPLETION, Status.REFUSED, Status.WITHDRAWN}
    ),
    Status.RETURNED_FOR_COMPLETION: frozenset({Status.SUBMITTED_ONLINE}),
    Status.RECEIVED: frozenset({Status.IN_PROCESS, Status.WITHDRAWN}),
    Status.IN_PROCESS: frozenset(
        {
            Status.WAITING_FOR_SUPPLEMENT,
            Status.WAITING_FOR_PAYMENT,
            Status.RESULT_READY,
            Status.STOPPED,
            Status.WITHDRAWN,
        }
    ),
    Status.WAITING_FOR_SUPPLEMENT: frozenset({Status.IN_PROCESS, Status.WITHDRAWN, Status.STOPPED}),
    Status.WAITING_FOR_PAYMENT: frozenset({Status.IN_PROCESS, Status.WITHDRAWN, Status.STOPPED}),
    Status.RESULT_READY: frozenset({Status.RETURNED}),
    Status.REFUSED: frozenset(),
    Status.RETURNED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.STOPPED: frozenset(),
}

#: Received and not finished: the dossier has a clock (running or paused).
OPEN = frozenset({Status.RECEIVED, Status.IN_PROCESS, Status.WAITING_FOR_SUPPLEMENT, Status.WAITING_FOR_PAYMENT})
#: Open with the clock stopped for the applicant's supplement.
PAUSED = frozenset({Status.WAITING_FOR_SUPPLEMENT})
#: Resolved: judged early, on time or late.
RESOLVED = frozenset({Status.RESULT_READY, Status.RETURNED})
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(Exception):
    """A status change the lifecycle does not allow; ``str()`` is a translated sentence."""

    def __init__(self, from_status: str, to_status: str) -> None:
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(str(self.message))

    @property
    def message(self) -> str:
        return _("A dossier that is “%(from)s” cannot become “%(to)s”.") % {
            "from": label(self.from_status),
            "to": label(self.to_status),
        }

    def __str__(self) -> str:
        return str(self.message)


def label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status


def allowed_transitions(status: str) -> frozenset[str]:
    return TRANSITIONS.get(status, frozenset())


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in allowed_transitions(from_status)


def check_transition(from_status: str, to_status: str) -> None:
    """Raise IllegalTransition unless ``from_status`` → ``to_status`` is in the table."""
    if not can_transition(from_status, to_status):
        raise IllegalTransition(from_status, to_status)
