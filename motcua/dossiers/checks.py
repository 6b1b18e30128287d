"""Start-up checks of the dossier settings: a value that would break the system is refused before it serves.

``code_format_check`` is a system check (``manage.py check``, ``migrate``, ``runserver``); the app's
``ready()`` also refuses to start (ImproperlyConfigured) so gunicorn and the workers, which run no
system checks, cannot serve with a format whose codes no URL can carry.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from motcua.dossiers import codes

HINT = f"Use only letters, digits, '.', '_' and '-' around the fields, e.g. {codes.DEFAULT_FORMAT!r}."


def _problems() -> list[str]:
    return codes.format_problems(getattr(settings, "MOTCUA_DOSSIER_CODE_FORMAT", codes.DEFAULT_FORMAT))


@register()
def code_format_check(app_configs=None, **kwargs) -> list[Error]:
    """``MOTCUA_DOSSIER_CODE_FORMAT`` must give codes a URL can carry (else pages 404 and receipts fail)."""
    return [Error(problem, hint=HINT, obj="MOTCUA_DOSSIER_CODE_FORMAT", id="dossiers.E001") for problem in _problems()]


def refuse_a_bad_code_format() -> None:
    problems = _problems()
    if problems:
        raise ImproperlyConfigured("MOTCUA_DOSSIER_CODE_FORMAT: " + " ".join(problems) + " " + HINT)
