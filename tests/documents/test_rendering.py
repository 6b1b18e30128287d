"""Rendering forms to PDF: Vietnamese text, our fonts only, A4, PDF/A, QR, and no fetching of
anything but the shipped fonts."""

import re
import struct
import subprocess
import unicodedata
from pathlib import Path

import pytest

from motcua.documents import context, registry, rendering, sandbox
from tests.documents.conftest import needs_poppler, pdf_text

VIETNAMESE = (
    "Cộng hòa xã hội chủ nghĩa Việt Nam – Độc lập - Tự do - Hạnh phúc. "
    "Ắ Ằ Ẳ Ẵ Ặ ắ ằ ẳ ẵ ặ Ấ Ầ Ẩ Ẫ Ậ ấ ầ ẩ ẫ ậ Ế Ề Ể Ễ Ệ ế ề ể ễ ệ Ố Ồ Ổ Ỗ Ộ ố ồ ổ ỗ ộ "
    "Ớ Ờ Ở Ỡ Ợ ớ ờ ở ỡ ợ Ứ Ừ Ử Ữ Ự ứ ừ ử ữ ự Ỳ Ý Ỷ Ỹ Ỵ ỳ ý ỷ ỹ ỵ Đ đ Ơ ơ Ư ư. "
    "Nguyễn Thị Hồng Nhung đăng ký khai sinh cho cháu Trần Minh Khôi."
)
BODY = (
    '{% extends "documents/base_official.html" %}{% block content %}'
    "<p>" + VIETNAMESE + "</p><p><b>" + VIETNAMESE + "</b></p><p><i>" + VIETNAMESE + "</i></p>"
    "{% endblock %}"
)


def render_sample(body: str = BODY, *, pdf_a: bool = False, form_key: str = "receipt") -> bytes:
    template = sandbox.compile_override(body)
    return rendering.render_pdf(template, context.sample_context(form_key), pdf_a=pdf_a)


def letters(text: str) -> str:
    """NFC text without white space: pdftotext drops some spaces between single stacked-accent
    letters (a layout heuristic), the letters themselves must come back exactly."""
    return "".join(unicodedata.normalize("NFC", text).split())


@needs_poppler
def test_vietnamese_comes_back_exactly_in_regular_bold_and_italic(tmp_path):
    text = pdf_text(render_sample(), tmp_path)
    assert letters(text).count(letters(VIETNAMESE)) == 3
    assert "Nguyễn Thị Hồng Nhung đăng ký khai sinh cho cháu Trần Minh Khôi." in " ".join(text.split())
    # The header of Decree 30 and the issuing body.
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "Liên Bảo, ngày" in text
    assert "ỦY BAN NHÂN DÂN PHƯỜNG" in text


@needs_poppler
def test_only_our_embedded_fonts_are_used(tmp_path):
    path = tmp_path / "fonts.pdf"
    path.write_bytes(render_sample())
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout.splitlines()
    fonts = [line.split() for line in lines[2:] if line.strip()]
    assert fonts, lines
    for font in fonts:
        # "ABCDEF+Motcua-Serif" is a subset of the @font-face family loaded from fonts/; a
        # fallback from the machine (DejaVu, Noto, Liberation…) would carry its own name.
        assert re.fullmatch(r"[A-Z]{6}\+Motcua-(Serif|Sans)(-Bold)?(-Italic)?", font[0]), font
        emb = font[-5]
        assert emb == "yes", font


@needs_poppler
def test_first_page_is_a4(tmp_path):
    path = tmp_path / "page.pdf"
    path.write_bytes(render_sample())
    dpi = 100
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / "page")], check=True
    )
    png = next(tmp_path.glob("page*.png")).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    # 210 × 297 mm at 100 dpi = 826.8 × 1169.3 px; pdftoppm rounds up.
    assert abs(width - 210 / 25.4 * dpi) <= 1
    assert abs(height - 297 / 25.4 * dpi) <= 1


@needs_poppler
@pytest.mark.parametrize("form_key", registry.FormKey.values)
def test_every_default_form_renders_on_one_page(form_key, tmp_path):
    data = rendering.render_pdf(registry.default_template(form_key), context.sample_context(form_key))
    path = tmp_path / "form.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    landscape = form_key == "tracking_book"
    assert ("841.89 x 595.276" if landscape else "595.276 x 841.89") in info
    text = pdf_text(data, tmp_path)
    assert registry.TITLES[registry.FormKey(form_key)] in text


def _catalog(data: bytes):
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(data)).root


def test_pdf_a_output_declares_pdf_a_3b_and_can_be_signed_later():
    root = _catalog(render_sample(pdf_a=True))
    xmp = root["/Metadata"].data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in xmp  # the title, in UTF-8
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert "/Metadata" not in _catalog(render_sample())  # plain PDFs do not claim PDF/A


@needs_poppler
def test_the_qr_code_carries_the_tracking_address(tmp_path):
    ctx = context.sample_context("receipt")
    assert ctx["tracking"]["url"] == "https://motcua.example.vn/tracking/000.21.31.H62-261130-0001"
    assert ctx["tracking"]["qr_svg"].startswith("<svg")
    text = pdf_text(rendering.render_pdf(registry.default_template("receipt"), ctx), tmp_path)
    assert ctx["tracking"]["url"] in "".join(text.split())  # the address may wrap under the code


def _embedded_files(data: bytes) -> list[bytes]:
    names = _catalog(data).get("/Names")
    if not names or "/EmbeddedFiles" not in names:
        return []
    tree = names["/EmbeddedFiles"]["/Names"]
    return [tree[i + 1]["/EF"]["/F"].data for i in range(0, len(tree), 2)]


def test_nothing_but_our_fonts_is_fetched(tmp_path):
    from weasyprint import HTML

    secret = tmp_path / "secret.txt"
    secret.write_text("bí mật của máy chủ")
    html = (
        f'<html><head><link rel="attachment" href="{secret.as_uri()}" title="leak"></head><body><p>x</p>'
        f'<img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/x.png"></body></html>'
    )
    # WeasyPrint as it comes would embed the file of the machine in the PDF…
    assert _embedded_files(HTML(string=html).write_pdf()) == [secret.read_bytes()]
    # …our renderer refuses to fetch it.
    assert _embedded_files(rendering.html_to_pdf(html)) == []


def test_allowed_resources():
    fonts = Path(rendering.FONTS_DIR)
    assert rendering.allowed_resource((fonts / "Tinos-Regular.ttf").as_uri())
    assert rendering.allowed_resource("data:image/png;base64,AAAA")
    assert not rendering.allowed_resource((fonts / ".." / "models.py").as_uri())
    assert not rendering.allowed_resource((fonts / "OFL.txt").as_uri())
    assert not rendering.allowed_resource("file:///etc/passwd")
    assert not rendering.allowed_resource("https://example.com/font.ttf")


def test_dates_and_money_follow_official_style():
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    assert sandbox.vn_date(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert sandbox.vn_date(date(2026, 11, 30)) == "ngày 30 tháng 11 năm 2026"
    assert sandbox.vn_date(date(2026, 4, 9)) == "ngày 09 tháng 4 năm 2026"
    utc_evening = datetime(2026, 11, 30, 18, 30, tzinfo=ZoneInfo("UTC"))  # 01:30 on 1 December in Vietnam
    assert sandbox.vn_date(utc_evening) == "ngày 01 tháng 12 năm 2026"
    assert sandbox.vn_datetime(utc_evening) == "01 giờ 30 phút, ngày 01/12/2026"
    assert sandbox.vn_money(Decimal("1250000")) == "1.250.000"
    assert sandbox.vn_money("abc") == ""
    assert context.place_name("Thành phố Vĩnh Yên") == "Vĩnh Yên"
    assert context.place_name("Thị trấn Hương Canh") == "Hương Canh"
    assert context.place_name("Tỉnh Vĩnh Phúc") == "Vĩnh Phúc"
