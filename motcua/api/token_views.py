"""The staff page "My API tokens" (``/staff/api-tokens/``): every staff member issues and revokes their own.

A token is minted only for oneself (whoever holds it acts as its owner); its secret is in the one answer
to the owner's own request, never stored, never shown again, and the answer is not cached.
"""

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from motcua.api import services
from motcua.api.models import ApiToken
from motcua.org.selectors import is_staff_account
from motcua.text import normalize

LIFETIMES = [("30", gettext_lazy("30 days")), ("90", gettext_lazy("90 days")), ("365", gettext_lazy("1 year"))]


class IssueForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("What it is for"), max_length=100)
    days = forms.ChoiceField(label=gettext_lazy("Valid for"), choices=LIFETIMES, initial="90")

    def clean_name(self) -> str:
        name = normalize(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Say what the token is for, e.g. the script using it."))
        return name


@require_http_methods(["GET", "POST"])
def my_tokens(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_active and is_staff_account(user)):
        return render(
            request,
            "dossiers/forbidden.html",
            {"message": _("API tokens are for staff accounts."), "level": "error"},
            status=403,
        )
    form = IssueForm()
    plaintext = None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token = ApiToken.objects.filter(pk=_int(request.POST.get("token")), user=user).first()
            if token is not None:
                services.revoke(token, by=user)
            return redirect("my-api-tokens")
        form = IssueForm(request.POST)
        if form.is_valid():
            days = int(form.cleaned_data["days"])
            _token, plaintext = services.issue_token(user, form.cleaned_data["name"], days=days, by=user)
            form = IssueForm()
        else:
            status = 422
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at")
    response = render(
        request, "api/my_tokens.html", {"form": form, "plaintext": plaintext, "tokens": tokens}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None
