import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

#: Libraries that log every step at INFO (or a full traceback for an untrusted certificate at
#: WARNING, which is a normal answer of the verification page). settings.LOGGING may still set them.
QUIET_LOGGERS = {
    "weasyprint.progress": logging.WARNING,
    "fontTools": logging.WARNING,
    "pyhanko.sign.validation.generic_cms": logging.ERROR,
}


class DocumentsConfig(AppConfig):
    name = "motcua.documents"
    label = "documents"
    verbose_name = _("Official documents")

    def ready(self) -> None:
        for name, level in QUIET_LOGGERS.items():
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(level)
