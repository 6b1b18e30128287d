import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
application = get_wsgi_application()

# Production refuses to serve with a secret missing or left at a default (motcua/checks.py).
from motcua.checks import refuse_to_start  # noqa: E402

refuse_to_start()
