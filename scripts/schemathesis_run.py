"""schemathesis against the real API: a fresh PostgreSQL demo, gunicorn, a clerk's token, every check.

    .venv/bin/python scripts/schemathesis_run.py        # what CI runs (see scripts/schemathesis.sh)

1. drops and creates ``SCHEMATHESIS_DB`` (motcua_schemathesis) on 127.0.0.1:5432, migrates it, loads the demo
   (``load_demo`` and ``demo_pki``, as ``make run`` does);
2. mints an API token for the demo clerk ``motcua.lienbao`` (``issue_api_token``);
3. serves the project with gunicorn on 127.0.0.1:<free port>, DEBUG off, with a national inbound token;
4. runs ``schemathesis run …/api/v1/openapi.json --checks all`` bounded in examples and time, with the
   settings of ``scripts/schemathesis.toml`` (auth, the relaxed checks and why);
5. stops the server whatever happened, prints a summary (requests by status, failures by kind, the
   server's exceptions) and exits non-zero on any failure.

Environment: SCHEMATHESIS_MAX_EXAMPLES (10), SCHEMATHESIS_MAX_TIME (seconds, 180), SCHEMATHESIS_PHASES
(examples,coverage,fuzzing), SCHEMATHESIS_SEED (20261208; "random" for a new one), SCHEMATHESIS_WORKERS (2),
SCHEMATHESIS_DB (motcua_schemathesis), SCHEMATHESIS_PG (postgres://postgres@127.0.0.1:5432),
SCHEMATHESIS_USER (motcua.lienbao@vinhphuc.gov.vn), SCHEMATHESIS_REPORT_DIR (var/schemathesis),
SCHEMATHESIS_ARGS (more schemathesis options, split on spaces).
"""

from __future__ import annotations

import collections
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")


def env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def say(message: str) -> None:
    print(f"[schemathesis] {message}", flush=True)


def run(args: list[str], *, environ: dict[str, str], capture: bool = False) -> str:
    result = subprocess.run(args, cwd=ROOT, env=environ, check=True, text=True, capture_output=capture)
    return result.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"no answer from {url} within {seconds:.0f} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def fresh_database(pg: str, name: str, environ: dict[str, str]) -> str:
    if not re.fullmatch(r"motcua_schemathesis\w*", name):
        raise SystemExit(f"SCHEMATHESIS_DB must start with motcua_schemathesis (it is dropped), not {name!r}")
    admin = f"{pg}/postgres"
    run(["psql", admin, "-qAt", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], environ=environ, capture=True)
    run(["psql", admin, "-qAt", "-c", f'CREATE DATABASE "{name}"'], environ=environ, capture=True)
    return f"{pg}/{name}"


#: A valid counter intake of the demo catalogue (the README's example), to give the fuzzer real dossiers.
INTAKE = {
    "procedure_code": "2.000635",
    "applicant": {"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"},
    "form_data": {
        "ho_ten": "Nguyễn Văn An",
        "so_dinh_danh": "026090001234",
        "loai_trich_luc": "Khai sinh",
        "so_ban": 1,
    },
    "documents": [{"component": 1, "file": {"name": "to-khai.pdf", "content_base64": "JVBERi0xLjcKJSVFT0YK"}}],
}
IDS = (
    "from motcua.dossiers.models import Dossier; from motcua.integrations.payments.models import Receipt; "
    "import json; print(json.dumps({{'dossiers': list(Dossier.objects.filter(code__in={codes!r})"
    ".values_list('pk', flat=True)), 'receipts': list(Receipt.objects.values_list('pk', flat=True)[:5])}}))"
)


def seed_dossiers(base: str, token: str, environ: dict[str, str], scratch: Path, count: int = 3) -> Path:
    """Receive ``count`` dossiers through the API and write a config whose path parameters draw real codes
    and ids half of the time (the rest stays generated), so the fuzzer reaches past the 404."""
    codes = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{base}/api/v1/dossiers",
            data=json.dumps(INTAKE).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            codes.append(json.loads(response.read())["code"])
    output = run([PYTHON, "manage.py", "shell", "-c", IDS.format(codes=codes)], environ=environ, capture=True)
    ids = json.loads(output.strip().splitlines()[-1])
    lines = [(ROOT / "scripts" / "schemathesis.toml").read_text(), ""]
    lines.append(f"[dictionaries.dossier_codes]\nvalues = {json.dumps(codes)}\n")
    lines.append(f"[dictionaries.dossier_ids]\nvalues = {json.dumps(ids['dossiers'])}\n")
    lines.append(f"[dictionaries.receipt_ids]\nvalues = {json.dumps(ids['receipts'] or [1])}\n")
    lines.append(
        "[[operations]]\ninclude-path-regex = '^/api/v1/dossiers/[{]code[}]'\n"
        'parameters = { "path.code" = { dictionary = "dossier_codes", probability = 0.5 } }\n'
    )
    lines.append(
        "[[operations]]\ninclude-path-regex = '^/api/v1/payments/dossiers/'\n"
        'parameters = { "path.dossier_id" = { dictionary = "dossier_ids", probability = 0.5 } }\n'
    )
    lines.append(
        "[[operations]]\ninclude-path-regex = '^/api/v1/payments/receipts/'\n"
        'parameters = { "path.receipt_id" = { dictionary = "receipt_ids", probability = 0.5 } }\n'
    )
    config = scratch / "schemathesis.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    say(f"seeded dossiers {', '.join(codes)} (ids {ids['dossiers']}), receipts {ids['receipts']}")
    return config


def summarise(report: Path, server_log: Path) -> dict[str, object]:
    """Requests by status and failures by kind from schemathesis' NDJSON events."""
    statuses: collections.Counter[int] = collections.Counter()
    failures: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    for line in report.read_text(encoding="utf-8").splitlines() if report.exists() else []:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        for kind, body in event.items():
            if kind != "ScenarioFinished" or not isinstance(body, dict):
                continue
            recorder = body.get("recorder") or {}
            for interactions in (recorder.get("interactions") or {}).values():
                response = (interactions or {}).get("response") or {}
                if response.get("status_code") is not None:
                    statuses[int(response["status_code"])] += 1
            for checks in (recorder.get("checks") or {}).values():
                for check in checks or []:
                    if str(check.get("status", "")).lower() != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    kind = f"{failure.get('code', '?')} {failure.get('title') or check.get('name', '?')}"
                    failures[kind] += 1
                    message = " ".join(str(failure.get("message", "")).split())[:160]
                    examples.setdefault(kind, f"{failure.get('operation') or recorder.get('label', '')}: {message}")
    tracebacks = collections.Counter(
        line.strip()
        for line in (server_log.read_text(errors="replace").splitlines() if server_log.exists() else [])
        if re.match(r"^\S*(Error|Exception)\b.*?:", line.strip()) and "Traceback" not in line
    )
    return {"statuses": statuses, "failures": failures, "examples": examples, "exceptions": tracebacks}


def main() -> int:
    max_examples = env("SCHEMATHESIS_MAX_EXAMPLES", "10")
    max_time = env("SCHEMATHESIS_MAX_TIME", "180")
    phases = env("SCHEMATHESIS_PHASES", "examples,coverage,fuzzing")
    seed = env("SCHEMATHESIS_SEED", "20261208")
    workers = env("SCHEMATHESIS_WORKERS", "2")
    pg = env("SCHEMATHESIS_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    db_name = env("SCHEMATHESIS_DB", "motcua_schemathesis")
    clerk = env("SCHEMATHESIS_USER", "motcua.lienbao@vinhphuc.gov.vn")
    report_dir = Path(env("SCHEMATHESIS_REPORT_DIR", str(ROOT / "var" / "schemathesis")))
    if seed == "random":
        seed = str(secrets.randbelow(2**31))

    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="motcua-schemathesis-"))
    environ = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MOTCUA_VAR_DIR": str(scratch),
        "MEDIA_ROOT": str(scratch / "media"),
        "MOTCUA_NATIONAL_INBOUND_TOKEN": "schemathesis-inbound-" + secrets.token_urlsafe(16),
        "MOTCUA_PAYMENT_SECRET": "schemathesis-payment-" + secrets.token_urlsafe(16),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    environ["DATABASE_URL"] = fresh_database(pg, db_name, environ)
    say(f"database {db_name}: migrate, load_demo, demo_pki")
    run([PYTHON, "scripts/compile_messages.py"], environ=environ, capture=True)
    run([PYTHON, "manage.py", "migrate", "--noinput"], environ=environ, capture=True)
    run([PYTHON, "manage.py", "load_demo", "--quiet-accounts"], environ=environ, capture=True)
    run([PYTHON, "manage.py", "demo_pki"], environ=environ, capture=True)
    token = run(
        [PYTHON, "manage.py", "issue_api_token", clerk, "--name", "schemathesis", "--days", "1"],
        environ=environ,
        capture=True,
    ).strip()
    environ["SCHEMATHESIS_TOKEN"] = token

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = scratch / "gunicorn.log"
    say(f"gunicorn on {base} (setup took {time.monotonic() - started:.0f} s)")
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "motcua.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "120",
                "--graceful-timeout",
                "10",
                # Generated query strings can be long; gunicorn's own 400 page for a long line is not the API's.
                "--limit-request-line",
                "0",
            ],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    report_dir.mkdir(parents=True, exist_ok=True)
    ndjson = report_dir / "events.ndjson"
    junit = report_dir / "junit.xml"
    for stale in (ndjson, junit, report_dir / "gunicorn.log"):
        stale.unlink(missing_ok=True)
    exit_code = 1
    try:
        wait_for(f"{base}/api/v1/openapi.json", server)
        config = seed_dossiers(base, token, environ, scratch)
        command = [
            str(VENV_BIN / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"{base}/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            max_examples,
            "--max-time",
            max_time,
            "--phases",
            phases,
            "--seed",
            seed,
            "--workers",
            workers,
            "--request-timeout",
            "60",
            "--generation-database",
            "none",
            "--report",
            "ndjson,junit",
            "--report-ndjson-path",
            str(ndjson),
            "--report-junit-path",
            str(junit),
            "--no-color",
            *env("SCHEMATHESIS_ARGS", "").split(),
        ]
        say(f"schemathesis: max {max_examples} examples per operation, {max_time} s, phases {phases}, seed {seed}")
        exit_code = subprocess.run(command, cwd=ROOT, env=environ).returncode
    finally:
        stop(server)
        figures = summarise(ndjson, server_log)
        statuses: collections.Counter[int] = figures["statuses"]  # type: ignore[assignment]
        failures: collections.Counter[str] = figures["failures"]  # type: ignore[assignment]
        server_errors = sum(n for code, n in statuses.items() if code >= 500)
        say("summary")
        print(
            f"  requests: {sum(statuses.values())}; by status: "
            + ", ".join(f"{c}×{n}" for c, n in sorted(statuses.items()))
        )
        print(f"  server errors (5xx): {server_errors}")
        print("  failed checks (cases): " + ("; ".join(f"{k} ×{n}" for k, n in failures.most_common()) or "none"))
        for name, example in figures["examples"].items():  # type: ignore[union-attr]
            print(f"    {name}: e.g. {example}")
        for line, count in figures["exceptions"].most_common(10):  # type: ignore[union-attr]
            print(f"  server exception ×{count}: {line[:300]}")
        print(f"  reports: {ndjson}, {junit}; server log kept in {report_dir / 'gunicorn.log'}")
        print(f"  exit code {exit_code}; took {time.monotonic() - started:.0f} s")
        if server_log.exists():
            shutil.copy(server_log, report_dir / "gunicorn.log")
        shutil.rmtree(scratch, ignore_errors=True)
    if server_errors and exit_code == 0:
        return 1
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
