"""Checks on attached files, without Django: what the bytes are, and a safe name to show.

The type is decided by the first bytes (magic numbers), never by the name or the browser's
content type, so an executable renamed ``.pdf`` is refused. The name the applicant's file had is
kept only for display, stripped of directories and control characters; the storage name is our
own (see ``models.dossier_upload_to``), so nothing typed by a user ever becomes a path.
"""

import unicodedata
from dataclasses import dataclass

MAX_NAME_LENGTH = 120
HEAD_BYTES = 16


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


PDF = FileKind("application/pdf", ".pdf")
JPEG = FileKind("image/jpeg", ".jpg")
PNG = FileKind("image/png", ".png")
_MAGIC: tuple[tuple[bytes, FileKind], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)


def sniff(head: bytes) -> FileKind | None:
    """The accepted kind whose signature ``head`` starts with; None for anything else."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def sanitize_filename(name: str | None, fallback_extension: str = "") -> str:
    """A display name without directories, control characters or excess length.

    ``../../etc/passwd.pdf`` → ``passwd.pdf``; ``C:\\x\\scan.pdf`` → ``scan.pdf``. An empty
    result becomes ``tep<extension>`` (tệp = file).
    """
    value = unicodedata.normalize("NFC", str(name or ""))
    value = value.replace("\\", "/").rsplit("/", 1)[-1]
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    value = " ".join(value.split()).strip(" .")
    if len(value) > MAX_NAME_LENGTH:
        stem, dot, ext = value.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            value = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            value = value[:MAX_NAME_LENGTH].rstrip(" .")
    return value or f"tep{fallback_extension}"
