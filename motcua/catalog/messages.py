"""Sentences the catalogue's callers (the API, later the portal) show about procedures.

They live here so the catalogue's message file translates them with the rest of its vocabulary.
"""

from django.utils.translation import gettext_lazy as _

NOT_A_PROCEDURE_CODE = _("“%(code)s” is not a procedure code: use the national form D.NNNNNN, e.g. 1.001193.")
INVALID_PROCEDURE_CODE = _("Invalid procedure code.")
NO_PUBLISHED_PROCEDURE = _("No published procedure has the code %(code)s.")
