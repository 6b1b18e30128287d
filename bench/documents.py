"""How fast the documents core renders receipts and signs results, next to WeasyPrint alone.

In one process and one run:

1. **Receipts rendered per second** through our full path: the sample dossier's context with its
   QR code (segno → inline SVG), the default receipt template in the sandbox engine, and the PDF
   from WeasyPrint with our font-only URL fetcher (``rendering.render_pdf``).
2. **WeasyPrint alone** rendering the same finished HTML (``weasyprint.HTML(...).write_pdf()``
   with one URL fetcher and one FontConfiguration, as ours): the ratio full path / WeasyPrint
   alone shows what our layers (context, QR, sandbox template, fetcher checks) cost.
3. **Signed results per second**: PAdES signatures (PKCS#12, RSA-2048) on that receipt, with the
   visible stamp (Noto Serif, Vietnamese text) and without, then **verifications per second** of
   the signed file with pyHanko against the demo root.

The certificates are made in a temporary folder; no database is used. Plain figures, no
assertions on speed.

    .venv/bin/python bench/documents.py [--renders 40] [--signatures 40]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(function, count: int) -> list[float]:
    durations = []
    for _ in range(count):
        began = time.perf_counter()
        function()
        durations.append(time.perf_counter() - began)
    return durations


def describe(label: str, durations: list[float]) -> float:
    total = sum(durations)
    rate = len(durations) / total
    print(
        f"{label}: {rate:,.1f}/s (median {statistics.median(durations) * 1000:.1f} ms, "
        f"min {min(durations) * 1000:.1f} ms, n={len(durations)})"
    )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=40, help="PDFs rendered per path (default 40)")
    parser.add_argument("--signatures", type=int, default=40, help="signatures per variant (default 40)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
    import django

    django.setup()
    from django.utils import translation
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    from motcua.documents import context, pki, registry, rendering, verification
    from motcua.documents.signing.base import Appearance
    from motcua.documents.signing.pkcs12 import Pkcs12Signer

    translation.activate("vi")
    template = registry.default_template("receipt")

    def full_path() -> bytes:
        return rendering.render_pdf(template, context.sample_context("receipt"))

    html = rendering.render_html(template, context.sample_context("receipt"))
    # WeasyPrint's own URL fetcher, made once like ours (a new one per document would also build
    # an SSL context each time), and a shared FontConfiguration like ours.
    font_config, fetcher = FontConfiguration(), URLFetcher()

    def weasyprint_alone() -> bytes:
        return HTML(string=html, base_url=rendering.BASE_URL, url_fetcher=fetcher).write_pdf(font_config=font_config)

    began = time.perf_counter()
    receipt = full_path()  # first render: loads the fonts
    first = time.perf_counter() - began
    weasyprint_alone()
    print(f"receipt: {len(receipt):,} bytes; first render {first * 1000:.0f} ms (fonts loaded)")

    # Alternate the two paths render by render, so that both see the same machine load; the
    # median of the per-pair ratios is robust to load that drifts during the run.
    ours, alone = [], []
    for _ in range(args.renders):
        ours += timed(full_path, 1)
        alone += timed(weasyprint_alone, 1)
    full_rate = describe("receipts rendered (template + QR + render)", ours)
    describe("WeasyPrint alone, same finished HTML", alone)
    pairs = statistics.median(a / b for a, b in zip(ours, alone, strict=True))
    print(
        f"ratio full path / WeasyPrint alone: {pairs:.2f}x (median of {len(ours)} pairs; "
        f"total time {sum(ours) / sum(alone):.2f}x); receipts/s = {full_rate:,.1f}"
    )

    with tempfile.TemporaryDirectory() as folder:
        now = datetime.now(UTC)
        root = pki.make_ca(pki.name("Bench Root CA"), not_before=now - timedelta(days=1), days=30)
        issuing = pki.make_ca(
            pki.name("Bench Issuing CA"), issuer=root, not_before=now - timedelta(days=1), days=30, path_length=0
        )
        leader = pki.issue_signing_certificate(
            pki.name("Trần Văn Đức", "Ủy ban nhân dân thành phố Vĩnh Yên"),
            issuing,
            not_before=now - timedelta(hours=1),
            not_after=now + timedelta(days=10),
        )
        path = Path(folder) / "leader.p12"
        path.write_bytes(pki.pkcs12_bytes(leader, "leader", b"bench"))
        signer = Pkcs12Signer(path, b"bench")
        stamp = Appearance(box=(330, 30, 560, 88))

        def sign_visible() -> bytes:
            return signer.sign(
                receipt, reason="Phê duyệt", location="Vĩnh Yên", field_name="KyDuyet1", appearance=stamp
            )

        def sign_invisible() -> bytes:
            return signer.sign(receipt, reason="Phê duyệt", location="Vĩnh Yên", field_name="KyDuyet1")

        signed = sign_visible()  # warm-up: opens the PKCS#12 file and the stamp font
        sign_invisible()
        describe("signed results, visible stamp (PKCS#12, RSA-2048)", timed(sign_visible, args.signatures))
        describe("signed results, invisible signature", timed(sign_invisible, args.signatures))

        def verify() -> None:
            report = verification.verify_pdf(signed, trust_roots=[root.certificate])
            assert report.all_ok, report.message

        verify()
        describe("verifications of the signed receipt (pyHanko)", timed(verify, args.signatures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
