"""Remote signing through the SmartCA-like simulator over real HTTP on 127.0.0.1: the signer
approves after a few polls; every failure (service error, timeout, refusal, expiry, a signature
that does not match, wrong credentials, no service) is a clear error and stores nothing."""

import pytest

from motcua.documents import services, simulators, verification
from motcua.documents.models import DocumentSignature, SigningCertificate
from motcua.documents.signing.base import SigningError
from motcua.documents.signing.remote import RemoteConfig, RemoteSigner, RemoteSigningClient
from motcua.documents.simulators import remote_signing as sim_module
from motcua.org.models import Agency
from tests.documents.conftest import nothing_signed, pyhanko_statuses, stored_bytes
from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db

assert simulators  # the package the demo command uses too


@pytest.fixture
def leader(demo_pki):
    return user("lanhdao.binhxuyen")


@pytest.fixture
def remote_certificate(leader) -> SigningCertificate:
    return SigningCertificate.objects.get(user=leader, mode="remote")


@pytest.fixture
def result(leader, demo_pki):
    from motcua.documents import context, rendering

    pdf = rendering.render_pdf("documents/forms/stop.html", context.sample_context("stop"))
    agency = Agency.objects.get(code="000.00.32.H62")
    return services.store_result(pdf, actor=leader, title="Quyết định (bản điện tử)", agency=agency)


def behave(simulator, behaviour: str) -> None:
    for account in simulator.accounts.values():
        account.behaviour = behaviour


def test_remote_signing_over_http_is_valid_and_trusted(simulator, leader, remote_certificate, result, demo_pki):
    simulator.approve_after_polls = 3
    outcome = services.sign_document(result, actor=leader, certificate=remote_certificate, reason="Ký duyệt từ xa")
    assert outcome.signature.mode == "remote"
    [status] = pyhanko_statuses(stored_bytes(result), [demo_pki.root_ca.certificate])
    assert status.intact and status.valid and status.trusted and status.bottom_line
    # The service saw the certificate lookup, one signing transaction and the polls until approval.
    calls = [path.rsplit("/", 2)[-2:] for _method, path in simulator.requests]
    assert calls[0] == ["credentials", "get_certificate"]
    assert calls[1] == ["signatures", "sign"]
    assert [c for c in calls if c[-1] == "status"] == [[calls[2][0], "status"]] * 3
    [transaction] = simulator.transactions.values()
    assert len(transaction.digests[0][1]) == 32  # only a SHA-256 hash left the server, never the PDF


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        (sim_module.ERROR, "từ chối yêu cầu: Hệ thống ký số đang bảo trì"),
        (sim_module.HANG, "không trả lời trong"),
        (sim_module.REJECT, "Người ký đã từ chối"),
        (sim_module.EXPIRE, "hết hạn trước khi người ký xác nhận"),
        (sim_module.WRONG_KEY, "không khớp với chứng thư số"),
    ],
)
def test_remote_failures_are_clear_and_store_nothing(simulator, leader, remote_certificate, result, behaviour, words):
    before = services.read_document(result)
    behave(simulator, behaviour)
    with pytest.raises(SigningError) as excinfo:
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    assert words in str(excinfo.value)
    nothing_signed(result, before)


def test_the_signer_who_never_approves_times_out(simulator, leader, remote_certificate, result, settings):
    before = services.read_document(result)
    simulator.approve_after_polls = 10_000
    settings.MOTCUA_REMOTE_SIGNING = {**settings.MOTCUA_REMOTE_SIGNING, "MAX_WAIT": 0.3, "POLL_INTERVAL": 0.05}
    with pytest.raises(SigningError, match="không xác nhận trong"):
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    nothing_signed(result, before)


def test_wrong_credentials_and_no_service(simulator, leader, remote_certificate, result, settings, monkeypatch):
    before = services.read_document(result)
    monkeypatch.setenv("MOTCUA_REMOTE_SIGNING_SP_PASSWORD", "sai")
    with pytest.raises(SigningError, match="Unauthorized"):
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    monkeypatch.delenv("MOTCUA_REMOTE_SIGNING_SP_PASSWORD")
    with pytest.raises(SigningError, match="chưa được cấu hình bí mật"):
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    monkeypatch.setenv("MOTCUA_REMOTE_SIGNING_SP_PASSWORD", simulator.sp_password)
    settings.MOTCUA_REMOTE_SIGNING = {**settings.MOTCUA_REMOTE_SIGNING, "URL": "http://127.0.0.1:9/sca/sp769/v1"}
    with pytest.raises(SigningError, match="Không kết nối được"):
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    settings.MOTCUA_REMOTE_SIGNING = {}
    monkeypatch.delenv("MOTCUA_REMOTE_SIGNING_URL", raising=False)
    with pytest.raises(SigningError, match="Chưa cấu hình dịch vụ ký số từ xa"):
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    nothing_signed(result, before)


def test_an_unknown_account_at_the_service(simulator, leader, remote_certificate, result):
    before = services.read_document(result)
    SigningCertificate.objects.filter(pk=remote_certificate.pk).update(remote_user_id="000000000000")
    remote_certificate.refresh_from_db()
    with pytest.raises(SigningError, match="USER_NOT_FOUND"):
        services.sign_document(result, actor=leader, certificate=remote_certificate)
    nothing_signed(result, before)
    assert DocumentSignature.objects.count() == 0


def test_interrupted_signing_in_steps(simulator, demo_pki, result):
    """start → (the signer approves later) → wait → finish, as a task would do it."""
    client = RemoteSigningClient(
        RemoteConfig(simulator.base_url, "motcua-test", simulator.sp_password, poll_interval=0.01, max_wait=2)
    )
    account = next(iter(simulator.accounts))
    signer = RemoteSigner(client, account)
    pending = signer.start(services.read_document(result), reason="Ký", location="Bình Xuyên", field_name="TuXa")
    assert pending.transaction_id in simulator.transactions
    signed = signer.finish(pending, signer.wait(pending))
    report = verification.verify_pdf(signed, trust_roots=[demo_pki.root_ca.certificate])
    assert report.all_ok and report.signatures[0].field_name == "TuXa"
