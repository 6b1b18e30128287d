"""Checks on attached files, without Django: what the bytes are, and a safe name to show.

The type is decided by the first bytes (magic numbers), never by the name or the browser's
content type, so an executable renamed ``.pdf`` is refused. The name the applicant's file had is
kept only for display, stripped of directories and control characters; the storage name is our
own (see ``models.dossier_upload_to``), so nothing typed by a user ever becomes a path.
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

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


#: What counts as a file extension to replace: a few ASCII letters and digits with at least one letter.
_EXTENSION = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,10}$")


def sanitize_filename(name: str | None, fallback_extension: str = "") -> str:
    """A display name without directories, control characters or excess length.

    ``../../etc/passwd.pdf`` → ``passwd.pdf``; ``C:\\x\\scan.pdf`` → ``scan.pdf``. Control and
    format characters go, among them the bidirectional overrides and isolates (``scan`` U+202E
    ``gpj.exe`` would show as ``scanexe.jpg``) and zero-width characters. With ``fallback_extension`` (the
    detected kind's), the name ends with it whatever the applicant's extension was:
    ``invoice.html`` holding a PDF becomes ``invoice.pdf``. An empty result becomes
    ``tep<extension>`` (tệp = file).
    """
    value = unicodedata.normalize("NFC", str(name or ""))
    value = value.replace("\\", "/").rsplit("/", 1)[-1]
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    value = " ".join(value.split()).strip(" .")
    if fallback_extension:
        stem, dot, extension = value.rpartition(".")
        if dot and _EXTENSION.match(extension):
            value = stem.rstrip(" .")
        value = value[: MAX_NAME_LENGTH - len(fallback_extension)].rstrip(" .")
        return (value or "tep") + fallback_extension
    if len(value) > MAX_NAME_LENGTH:
        stem, dot, ext = value.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            value = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            value = value[:MAX_NAME_LENGTH].rstrip(" .")
    return value or "tep"


def download_name(name: str | None, kind: FileKind | None) -> str:
    """The name a stored file is served under: cleaned again, and always with the extension of the
    type its bytes were detected as (``.bin`` when none), never the uploader's."""
    return sanitize_filename(name, kind.extension if kind else ".bin")


def _ascii_fallback(name: str) -> str:
    """``Tờ khai.pdf`` → ``To khai.pdf`` for clients that do not read ``filename*``."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in folded if not unicodedata.combining(ch))
    text = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in text)
    return text or "tep"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact UTF-8 name as RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
