"""The baseline of the portal look-up benchmark: the least a Django view can do to answer a look-up form.

Same middleware (sessions, CSRF, locale…), the same POST form, one indexed SELECT on the dossier
code and a tiny page: "look-up rate / baseline rate" is what the portal's look-up costs above that.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST


@require_POST
def lookup_baseline(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM dossiers_dossier WHERE code = %s", [request.POST.get("code", "")])
        row = cursor.fetchone()
    return HttpResponse(f"<p>{row[0] if row else '-'}</p>")
