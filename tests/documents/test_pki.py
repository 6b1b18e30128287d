"""The certificate facts and checks used before signing, and the demo command without the demo."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from motcua.documents import pki


@pytest.fixture(scope="module")
def chain():
    now = datetime.now(UTC)
    root = pki.make_ca(pki.name("Gốc thử"), not_before=now - timedelta(days=1), days=30)
    issuing = pki.make_ca(
        pki.name("Trung gian thử"), issuer=root, not_before=now - timedelta(days=1), days=20, path_length=0
    )
    leaf = pki.issue_signing_certificate(
        pki.name("Đỗ Thị Thu Hà", "Ủy ban nhân dân xã Tam Hợp"),
        issuing,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=10),
        email="ha@example.vn",
    )
    return now, root, issuing, leaf


def test_describe_reads_vietnamese_names(chain):
    _now, root, issuing, leaf = chain
    facts = pki.describe(leaf.certificate)
    assert facts.common_name == "Đỗ Thị Thu Hà" and facts.organisation == "Ủy ban nhân dân xã Tam Hợp"
    assert facts.issuer_name == "Trung gian thử" and facts.can_sign_documents and not facts.is_ca
    assert pki.describe(issuing.certificate).is_ca and not pki.describe(root.certificate).can_sign_documents
    assert leaf.chain == (issuing.certificate, root.certificate)


def test_problem_covers_every_reason(chain):
    now, root, issuing, leaf = chain
    cert = leaf.certificate
    assert pki.problem(cert, now=now) is None
    assert pki.problem(cert, now=now - timedelta(days=2)) == pki.Problem.NOT_YET_VALID
    assert pki.problem(cert, now=now + timedelta(days=11)) == pki.Problem.EXPIRED
    assert pki.problem(cert, now=now, revoked=True) == pki.Problem.REVOKED
    assert pki.problem(issuing.certificate, now=now) == pki.Problem.NOT_FOR_SIGNING
    later = pki.make_crl(issuing, [(cert.serial_number, now + timedelta(days=1))], now=now)
    assert pki.problem(cert, now=now, crls=[later]) is None  # revoked only from tomorrow
    assert pki.problem(cert, now=now + timedelta(days=2), crls=[later]) == pki.Problem.REVOKED
    other = pki.make_crl(root, [(cert.serial_number, now - timedelta(days=1))], now=now)
    assert pki.problem(cert, now=now, crls=[other]) is None  # another issuer's list does not count


def test_round_trips(chain):
    now, _root, issuing, leaf = chain
    assert pki.load_certificate(leaf.pem) == leaf.certificate
    assert pki.load_certificate(leaf.pem.encode()) == leaf.certificate
    with pytest.raises(ValueError):
        pki.load_certificate("not a certificate")
    crl = pki.make_crl(issuing, [], now=now)
    assert pki.load_crl(pki.crl_pem(crl)) == crl
    key = pki.load_key_pem(pki.key_pem(leaf.key, b"pw"), b"pw")
    assert key.private_numbers() == leaf.key.private_numbers()


def test_demo_pki_command_needs_the_demo_accounts(db, tmp_path):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("demo_pki", dir=str(tmp_path / "pki"))
