"""Forms of the counter screen and the dossier search.

The counter forms only carry and re-display what the clerk typed: ``services`` validates the
applicant, the procedure's own form and the documents in one place (so the counter, the API and
the portal give the same messages), and the view puts each message next to its field. Their
fields are therefore all optional text here, and no ``required`` attribute lets the browser block
a submission with a message of its own.
"""

from datetime import date

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from motcua import inputs
from motcua.catalog.formschema import PlausibleDateField
from motcua.catalog.models import DocumentComponent, ProcedureVersion
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import ApplicantKind

#: The three outcomes at the counter, in the order of their shortcuts (Alt+1, Alt+2, Alt+3).
RECEIVE, GUIDANCE, REFUSE = "receive", "guidance", "refuse"
OUTCOMES = (RECEIVE, GUIDANCE, REFUSE)


class ApplicantForm(forms.Form):
    """The applicant (person or organisation); field names are the keys ``services`` expects."""

    use_required_attribute = False

    kind = forms.ChoiceField(
        label=_("Applicant"), choices=ApplicantKind.choices, initial=ApplicantKind.PERSON, widget=forms.RadioSelect
    )
    full_name = forms.CharField(
        label=_("Full name"), required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    id_number = forms.CharField(
        label=_("ID number (CCCD) or tax code"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("12 digits for a person; the tax code for an organisation."),
    )
    date_of_birth = forms.CharField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(label=_("Phone"), required=False, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    email = forms.CharField(label=_("E-mail"), required=False, widget=forms.TextInput(attrs={"inputmode": "email"}))
    address = forms.CharField(label=_("Address"), required=False)
    accepts_sms = forms.BooleanField(label=_("Accepts SMS notices"), required=False)
    accepts_zalo = forms.BooleanField(label=_("Accepts Zalo notices"), required=False)

    def service_data(self) -> dict:
        """The raw values for ``services`` (they validate and normalise them)."""
        data: dict = {}
        for name, field in self.fields.items():
            raw = self[name].value()
            if isinstance(field, forms.BooleanField):
                data[name] = field.to_python(raw)
            else:
                data[name] = "" if raw is None else str(raw)
        return data


class OutcomeForm(forms.Form):
    """What only guidance and refusal need, plus the competent agency when several could be meant."""

    use_required_attribute = False

    competent_agency = forms.ChoiceField(label=_("Competent agency"), required=False, choices=())
    missing = forms.CharField(
        label=_("To add or correct (one item per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Mandatory documents not ticked as received are added to the guidance slip."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the dossier must be completed; mandatory for a refusal."),
    )

    def __init__(self, *args, agencies=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["competent_agency"].choices = [("", _("— choose —"))] + [(a.code, a.name) for a in agencies]

    def missing_items(self) -> list[str]:
        return [line.strip() for line in str(self["missing"].value() or "").splitlines() if line.strip()]


class DocumentRowForm(forms.Form):
    """One line of the checklist: a component of the procedure, whether (and how many) were received, a scan."""

    use_required_attribute = False

    received = forms.BooleanField(label=_("Received"), required=False)
    originals = forms.CharField(
        label=_("Originals"), required=False, widget=forms.NumberInput(attrs={"min": 0, "max": 99, "class": "count"})
    )
    copies = forms.CharField(
        label=_("Copies"), required=False, widget=forms.NumberInput(attrs={"min": 0, "max": 99, "class": "count"})
    )
    file = forms.FileField(
        label=_("Scan"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, component: DocumentComponent, **kwargs) -> None:
        kwargs.setdefault("initial", {"originals": component.originals, "copies": component.copies})
        super().__init__(*args, **kwargs)
        self.component = component

    @property
    def is_mandatory(self) -> bool:
        return self.component.requirement == DocumentComponent.Requirement.MANDATORY

    def is_ticked(self) -> bool:
        return bool(self.fields["received"].to_python(self["received"].value()))

    def uploaded(self):
        return self.files.get(self.add_prefix("file")) if self.files else None

    def service_row(self) -> dict | None:
        """The ``documents`` row for ``services``, or None when nothing of this component was handed in."""
        upload = self.uploaded()
        ticked = self.is_ticked()
        if not ticked and upload is None:
            return None
        return {
            "component": self.component.pk,
            "originals": self["originals"].value() if ticked else 0,
            "copies": self["copies"].value() if ticked else 0,
            "file": upload,
        }


def checklist(version: ProcedureVersion, data=None, files=None) -> list[DocumentRowForm]:
    components = sorted(version.components.all(), key=lambda c: (c.order, c.pk))
    return [DocumentRowForm(data, files, prefix=f"doc-{i}", component=c) for i, c in enumerate(components)]


def procedure_form_data(post: QueryDict, prefix: str) -> QueryDict:
    """The procedure's own fields without their HTML prefix, as ``build_form_class`` names them
    (a QueryDict, so multiple-choice fields keep all their values)."""
    data = QueryDict(mutable=True)
    start = f"{prefix}-"
    for key in post:
        if key.startswith(start):
            data.setlist(key[len(start) :], post.getlist(key))
    return data


TIMELINESS_CHOICES = [
    ("", _("— any —")),
    ("within_time", _("within time")),
    ("overdue", _("overdue")),
    ("early", _("early")),
    ("on_time", _("on time")),
    ("late", _("late")),
]


class SearchText(forms.CharField):
    """A search filter: NFC, no control character (NUL would reach PostgreSQL), at most 200 characters."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return inputs.clean_text(value, max_length=200) if value else value


class SearchForm(forms.Form):
    """The filters of the dossier search; every one is optional and they combine."""

    use_required_attribute = False

    q = SearchText(
        label=_("Name, code, ID number or phone"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    code = SearchText(label=_("Dossier code"))
    id_number = SearchText(label=_("ID number"))
    phone = SearchText(label=_("Phone"))
    procedure = forms.ChoiceField(label=_("Procedure"), required=False, choices=())
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("— any —")), *Status.choices])
    received_from = PlausibleDateField(
        label=_("Received from"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_to = PlausibleDateField(
        label=_("Received until"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    timeliness = forms.ChoiceField(label=_("Timeliness"), required=False, choices=TIMELINESS_CHOICES)

    def __init__(self, *args, procedures=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [("", _("— any —"))] + [
            (v.procedure.code, f"{v.procedure.code} – {v.name}") for v in procedures
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        start: date | None = cleaned.get("received_from")
        end: date | None = cleaned.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end date is before the start date."))
        return cleaned
