"""The live layer: real HTTP requests to a real server on PostgreSQL, outside any test transaction.

pytest-django's ``live_server`` runs Django in a thread of this process with its own database
connections in autocommit, as in production; ``transactional_db`` (which ``live_server`` brings) lets
the test read back what each request committed. Every state change is checked twice: the answer is
what the README says, and the database holds exactly what the answer said — never "saved, then 500"
(DESIGN invariant 8). A refusal must be a 4xx with a Vietnamese message and leave the database as it
was. Settings fixtures reach the server thread (same process), so the outside services (payment
gateway, national portal token) are configured the way the other tests do it.

Each test flushes the database and loads the demo again (~10 s on PostgreSQL), so each test here walks
a whole journey through many state changes rather than checking one thing.
"""

import io
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.cache import cache
from django.core.management import call_command

from motcua.api import services as token_services
from motcua.integrations.payments.simulator import GatewaySimulator
from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD
from motcua.org.models import User

PAYMENT_SECRET = "live-layer-secret"
NATIONAL_TOKEN = "live-layer-national-token"
TIMEOUT = 60


def _on_postgres() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


#: The marks of every test module here: ``live`` (for ``-m live``), skipped before any set-up on SQLite,
#: and a transactional database (no test transaction: each request commits as in production).
LIVE = [
    pytest.mark.live,
    pytest.mark.skipif(
        not _on_postgres(),
        reason="the live layer runs on PostgreSQL only: SQLite has no select_for_update, so the bugs it is "
        "for (a lock taken after the transaction, then 500) cannot show there",
    ),
    pytest.mark.django_db(transaction=True),
]

#: What one counter intake of a procedure with one scan adds: the dossier, its first step and the stored file.
RECEIVED_WITH_ONE_SCAN = {
    "dossiers": 1,
    "events": 3,
    "new_events": {"received": 1, "processing_started": 1, "step_started": 1},
    "documents": 1,
    "runs": 1,
    "steps": 1,
    "files": 1,
}


def staff(local: str) -> User:
    return User.objects.get(email=f"{local}@{DEMO_DOMAIN}")


# --- what the database holds ----------------------------------------------------------------------------


def _models() -> dict[str, Any]:
    from motcua.documents.models import DocumentSignature, IssuedDocument
    from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent, DossierPause
    from motcua.integrations.models import NationalDossierLink
    from motcua.integrations.payments.models import FeeRequest, Payment, PaymentNotification, Receipt
    from motcua.portal.models import Rating
    from motcua.reports.models import ReportExport
    from motcua.workflow.models import Apology, StepAttachment, StepRun, WorkflowRun

    return {
        "dossiers": Dossier,
        "events": DossierEvent,
        "documents": DossierDocument,
        "pauses": DossierPause,
        "runs": WorkflowRun,
        "steps": StepRun,
        "attachments": StepAttachment,
        "apologies": Apology,
        "fees": FeeRequest,
        "payments": Payment,
        "notices": PaymentNotification,
        "receipts": Receipt,
        "issued": IssuedDocument,
        "signatures": DocumentSignature,
        "ratings": Rating,
        "exports": ReportExport,
        "national_links": NationalDossierLink,
    }


@dataclass
class State:
    """A picture of every row a state change may touch, read in a fresh autocommit query."""

    counts: dict[str, int]
    statuses: dict[int, str]
    event_actions: Counter
    open_steps: dict[int, tuple]
    fee_statuses: dict[int, str]
    receipt_statuses: dict[int, str]
    files: int


def state(media: Path) -> State:
    from motcua.dossiers.models import Dossier, DossierEvent
    from motcua.integrations.payments.models import FeeRequest, Receipt
    from motcua.workflow.models import StepRun

    return State(
        counts={name: model.objects.count() for name, model in _models().items()},
        statuses=dict(Dossier.objects.values_list("pk", "status")),
        event_actions=Counter(DossierEvent.objects.values_list("action", flat=True)),
        open_steps={
            row[0]: row[1:]
            for row in StepRun.objects.filter(finished_at__isnull=True).values_list(
                "pk", "step_key", "assignee_id", "paused_at"
            )
        },
        fee_statuses=dict(FeeRequest.objects.values_list("pk", "status")),
        receipt_statuses=dict(Receipt.objects.values_list("pk", "status")),
        files=sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0,
    )


def changes(before: State, after: State) -> dict[str, Any]:
    """What changed between two pictures: row counts (+n), new event actions, status moves."""
    out: dict[str, Any] = {}
    for name, count in after.counts.items():
        if count != before.counts[name]:
            out[name] = count - before.counts[name]
    new_events = after.event_actions - before.event_actions
    if new_events:
        out["new_events"] = dict(new_events)
    moved = {
        pk: (before.statuses.get(pk), status)
        for pk, status in after.statuses.items()
        if before.statuses.get(pk) != status
    }
    if moved:
        out["status"] = moved
    if after.open_steps != before.open_steps:
        out["open_steps"] = True
    fees = {
        pk: (before.fee_statuses.get(pk), s) for pk, s in after.fee_statuses.items() if before.fee_statuses.get(pk) != s
    }
    if fees:
        out["fee_status"] = fees
    receipts = {
        pk: (before.receipt_statuses.get(pk), s)
        for pk, s in after.receipt_statuses.items()
        if before.receipt_statuses.get(pk) != s
    }
    if receipts:
        out["receipt_status"] = receipts
    if after.files != before.files:
        out["files"] = after.files - before.files
    return out


class Checker:
    """Take a picture before a request, and after it compare the answer with what the database holds.

    A deviation is recorded (and printed) rather than raised, so that one journey shows every wrong
    answer along its way; ``done()`` at the end of the test fails with the whole list.
    """

    def __init__(self, media: Path) -> None:
        self.media = media
        self.before = state(media)
        self.problems: list[str] = []

    def mark(self) -> State:
        self.before = state(self.media)
        return self.before

    def delta(self) -> dict[str, Any]:
        after = state(self.media)
        out = changes(self.before, after)
        self.before = after
        return out

    def _problem(self, response: requests.Response, text: str) -> None:
        request = response.request
        line = f"{request.method} {request.path_url} → {response.status_code}: {text}"
        print("LIVE DEVIATION:", line)
        self.problems.append(line)

    def unchanged(self, response: requests.Response, status: int | tuple, *, message: str | None = None) -> str:
        """A refusal: the given 4xx (or one of them), a Vietnamese message (or the given one), nothing in
        the database. ``message=""`` is for refusals shown on the next page (a redirect and a flash)."""
        text = body_text(response)
        if response.status_code not in (status if isinstance(status, tuple) else (status,)):
            self._problem(response, f"expected {status}; body {text[:300]!r}")
        if message is not None and message not in text:
            self._problem(response, f"message {message!r} missing from {text[:300]!r}")
        elif message is None and not VIETNAMESE.search(text):
            self._problem(response, f"no Vietnamese message in {text[:300]!r}")
        got = self.delta()
        if got:
            self._problem(response, f"a refusal changed the database: {got}")
        return text

    def unchanged_flash(self, session: "Browser", response: requests.Response) -> str:
        """A refusal the page shows after a redirect (the staff fee card, the hand-over list): 302, then an
        error or warning message in Vietnamese on the page it leads to, and nothing in the database."""
        if response.status_code != 302:
            self._problem(response, "expected a redirect to the page that shows the refusal")
            return self.unchanged(response, 302, message="")
        page = session.follow(response)
        alerts = re.findall(r'<div class="alert (?:error|warning)"[^>]*><p>(.*?)</p>', page.text, flags=re.S)
        message = " ".join(unescape(a) for a in alerts)
        if not VIETNAMESE.search(message):
            self._problem(response, f"no Vietnamese error message on the next page (alerts: {alerts!r})")
        got = self.delta()
        if got:
            self._problem(response, f"a refusal changed the database: {got}")
        return message

    def changed(self, response: requests.Response, status: int, expected: dict[str, Any]) -> dict[str, Any]:
        """A success: the given status, and exactly the expected changes in the database.

        ``expected`` lists row-count changes and ``new_events``; statuses, open steps and files are
        compared only when given (``status``, ``open_steps``, ``files``)."""
        if response.status_code != status:
            self._problem(response, f"expected {status}; body {body_text(response)[:300]!r}")
        got = self.delta()
        compared = {k: v for k, v in got.items() if k in expected or k not in OPTIONAL}
        if compared != expected:
            self._problem(response, f"the database holds {got}, the answer promised {expected}")
        return got

    def done(self) -> None:
        assert not self.problems, "\n".join(["answers that differ from the README or the database:", *self.problems])


#: Changes a caller need not list (they are checked when listed).
OPTIONAL = {"status", "open_steps", "files", "fee_status", "receipt_status"}
#: Letters only Vietnamese text has: a message in Vietnamese, not in English.
VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")


def body_text(response: requests.Response) -> str:
    kind = response.headers.get("Content-Type", "")
    if "json" in kind:
        return response.text
    if "html" in kind or "text" in kind:
        text = re.sub(r"<script.*?</script>", " ", response.text, flags=re.S)
        return unescape(re.sub(r"<[^>]+>", " ", text))
    return ""


def at_once(*calls) -> list[requests.Response]:
    """Send requests at the same moment (each from its own thread, behind one barrier), as a double click
    or two clerks would; the answers in the order of the calls."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(timeout=TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=TIMEOUT * 2) for future in futures]


# --- clients ------------------------------------------------------------------------------------------------


class Browser(requests.Session):
    """A requests session that sends Django's CSRF token with every form post, as a browser form would."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.headers["Accept-Language"] = "vi"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def get(self, path, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", TIMEOUT)
        return super().get(self.url(path), **kwargs)

    def form(self, path: str, data: dict | None = None, files=None, **kwargs) -> requests.Response:
        if "csrftoken" not in self.cookies:
            self.get("/staff/login/")
        payload = dict(data or {})
        payload["csrfmiddlewaretoken"] = self.cookies["csrftoken"]
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        headers = {"Referer": self.url(path), **kwargs.pop("headers", {})}
        return self.post(self.url(path), data=payload, files=files, headers=headers, **kwargs)

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.status_code in (301, 302, 303), (response.status_code, response.text[:2000])
        return self.get(response.headers["Location"])


class Api(requests.Session):
    """The API with a staff member's personal token (``Authorization: Bearer mc_…``)."""

    def __init__(self, base: str, token: str | None) -> None:
        super().__init__()
        self.base = base + "/api/v1"
        self.headers["Accept-Language"] = "vi"
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def send_json(self, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.post(self.base + path, json=data if data is not None else {}, **kwargs)

    def read(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.get(self.base + path, **kwargs)


@dataclass
class Site:
    url: str
    media: Path
    gateway: GatewaySimulator

    def api(self, local: str | None) -> Api:
        if local is None:
            return Api(self.url, None)
        _token, plaintext = token_services.issue_token(staff(local), "live layer")
        return Api(self.url, plaintext)

    def browser(self) -> Browser:
        return Browser(self.url)

    def staff_login(self, local: str, password: str = DEMO_PASSWORD) -> Browser:
        """Log in through the staff log-in form, as a person would."""
        session = self.browser()
        session.get("/staff/login/")
        answer = session.form("/staff/login/", {"username": f"{local}@{DEMO_DOMAIN}", "password": password})
        assert answer.status_code == 302, (answer.status_code, body_text(answer)[:2000])
        return session

    def citizen_login(self, login: str = "nguyenvanan@example.vn", password: str = DEMO_PASSWORD) -> Browser:
        session = self.browser()
        session.get("/accounts/login/")
        answer = session.form("/accounts/login/", {"login": login, "password": password})
        assert answer.status_code == 302, (answer.status_code, body_text(answer)[:2000])
        return session

    def checker(self) -> Checker:
        return Checker(self.media)


@pytest.fixture
def site(live_server, settings, tmp_path, monkeypatch) -> Site:
    """The demo province committed behind a live server, with the payment gateway simulator running."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MOTCUA_PKI_DIR = tmp_path / "pki"
    # The approval is recorded, not signed: signing has tests of its own and needs the demo PKI (slow).
    settings.MOTCUA_SIGN_RESULTS = False
    monkeypatch.setenv("MOTCUA_NATIONAL_INBOUND_TOKEN", NATIONAL_TOKEN)
    gateway = GatewaySimulator(secret=PAYMENT_SECRET).start()
    settings.MOTCUA_PAYMENT = {"base_url": gateway.base_url, "merchant_code": "MOTCUA", "secret": PAYMENT_SECRET}
    from motcua.worktime import selectors as worktime_selectors

    worktime_selectors.clear_cache()
    # The cache (a database table, or Redis) is not flushed with the tables: rate limits and look-up
    # counters of an earlier test would leak into this one.
    cache.clear()
    call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
    yield Site(url=live_server.url, media=settings.MEDIA_ROOT, gateway=gateway)
    gateway.stop()
    worktime_selectors.clear_cache()
