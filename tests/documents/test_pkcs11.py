"""Signing with a key on a PKCS#11 token: SoftHSM2 (Debian's softhsm2) stands in for a USB token
or an HSM. The token is initialised in a temporary folder; the key is imported non-extractable."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from motcua.documents import pki, services
from motcua.documents.signing import pkcs11 as pkcs11_mode
from motcua.documents.signing.base import SigningError
from tests.documents.conftest import nothing_signed, pyhanko_statuses, stored_bytes
from tests.dossiers.conftest import user

LIBRARY = next(
    (
        p
        for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
        if Path(p).exists()
    ),
    None,
)
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (LIBRARY and shutil.which("softhsm2-util") and pkcs11_mode.available()),
        reason="needs Debian's softhsm2 and python-pkcs11 (pyHanko's pkcs11 extra)",
    ),
]
TOKEN, PIN = "motcua-test", "24681357"


@pytest.fixture
def token(tmp_path, monkeypatch, settings):
    (tmp_path / "tokens").mkdir()
    config = tmp_path / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(config))
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", "13572468", "--pin", PIN],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(config)},
    )
    monkeypatch.setenv("MOTCUA_TEST_TOKEN_PIN", PIN)
    settings.MOTCUA_PKCS11 = {"LIBRARY": LIBRARY, "TOKEN_LABEL": TOKEN}
    return config


@pytest.fixture
def on_token(token, demo_pki):
    """A certificate of lanhdao.vinhyen whose key lives only on the token."""
    from datetime import UTC, datetime, timedelta

    leader = user("lanhdao.vinhyen")
    now = datetime.now(UTC)
    issued = pki.issue_signing_certificate(
        pki.name(leader.full_name, leader.agency.name),
        demo_pki.issuing,
        not_before=now - timedelta(hours=1),
        not_after=now + timedelta(days=30),
    )
    pkcs11_mode.import_key(
        library=LIBRARY,
        token_label=TOKEN,
        pin=PIN,
        label="lanhdao-vinhyen",
        key=issued.key,
        certificate=issued.certificate,
        chain=issued.chain,
    )
    return services.register_certificate(
        user=leader,
        certificate=issued.certificate,
        mode="pkcs11",
        token_label="lanhdao-vinhyen",
        secret_ref="env:MOTCUA_TEST_TOKEN_PIN",
        label="Token USB",
    )


def test_signing_with_a_key_on_the_token(on_token, receipt, demo_pki):
    outcome = services.sign_document(receipt, actor=on_token.user, certificate=on_token)
    assert outcome.signature.mode == "pkcs11"
    [status] = pyhanko_statuses(stored_bytes(receipt), [demo_pki.root_ca.certificate])
    assert status.intact and status.valid and status.trusted and status.bottom_line


def test_token_errors_are_clear_and_store_nothing(on_token, receipt, monkeypatch, settings):
    before = services.read_document(receipt)
    monkeypatch.setenv("MOTCUA_TEST_TOKEN_PIN", "00000000")
    with pytest.raises(SigningError, match="Sai mã PIN"):
        services.sign_document(receipt, actor=on_token.user, certificate=on_token)
    monkeypatch.setenv("MOTCUA_TEST_TOKEN_PIN", PIN)
    settings.MOTCUA_PKCS11 = {"LIBRARY": LIBRARY, "TOKEN_LABEL": "khong-co"}
    with pytest.raises(SigningError, match="Không mở được token"):
        services.sign_document(receipt, actor=on_token.user, certificate=on_token)
    settings.MOTCUA_PKCS11 = {"LIBRARY": LIBRARY, "TOKEN_LABEL": TOKEN}
    type(on_token).objects.filter(pk=on_token.pk).update(token_label="khong-co-khoa")
    on_token.refresh_from_db()
    with pytest.raises(SigningError, match="không có khóa"):
        services.sign_document(receipt, actor=on_token.user, certificate=on_token)
    settings.MOTCUA_PKCS11 = {}
    monkeypatch.delenv("MOTCUA_PKCS11_LIBRARY", raising=False)
    with pytest.raises(SigningError, match="chưa cấu hình token"):
        services.sign_document(receipt, actor=on_token.user, certificate=on_token)
    nothing_signed(receipt, before)


def test_an_expired_token_certificate_is_refused_before_the_token_signs(token, demo_pki, receipt):
    from datetime import UTC, datetime, timedelta

    from motcua.documents.signing.base import CertificateRefused

    leader = user("lanhdao.vinhyen")
    now = datetime.now(UTC)
    issued = pki.issue_signing_certificate(
        pki.name(leader.full_name),
        demo_pki.issuing,
        not_before=now - timedelta(days=60),
        not_after=now - timedelta(days=1),
    )
    pkcs11_mode.import_key(
        library=LIBRARY, token_label=TOKEN, pin=PIN, label="cu", key=issued.key, certificate=issued.certificate
    )
    signer = pkcs11_mode.Pkcs11Signer(library=LIBRARY, token_label=TOKEN, pin=PIN, key_label="cu")
    with pytest.raises(CertificateRefused, match="hết hạn"):
        signer.sign(services.read_document(receipt), reason="", location="", field_name="X")
