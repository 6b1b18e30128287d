"""Settings of the bench server only: the project's settings with the bench urlconf on top.

Selected with ``DJANGO_SETTINGS_MODULE=bench.support.settings`` by ``bench/intake.py`` for the
gunicorn it starts; the application itself never loads this module.
"""

from motcua.settings import *  # noqa: F403

ROOT_URLCONF = "bench.support.urls"
