"""The SMS carrier stub (`causeway sms-stub`) as a child process, its control API, and raw
webhook requests (signed, forged, stale, replayed) to causeway's HTTP listener.

The stub speaks the carrier API the SMS bridge uses and a control API for tests
(docs/sms-carrier-api.md): POST /control/inbound makes it sign and post an inbound-text
webhook, GET /control/sent lists what it was asked to send, POST /control/failures makes it
bounce numbers, fail requests or answer slowly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .waiting import free_port, stop_process, tail, wait_until

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# /control/inbound waits for the webhook, which the stub retries with backoff: allow for it.
CONTROL_TIMEOUT = 60.0

TIMESTAMP_HEADER = "X-Carrier-Timestamp"
SIGNATURE_HEADER = "X-Carrier-Signature"


# --- raw HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def describe(self) -> str:
        return f"HTTP {self.status}: {self.text.strip()[:500]!r}"


def http_request(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpAnswer:
    """One HTTP request with urllib; error statuses are answers too (never raised).
    Connection failures raise URLError/OSError."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read(), dict(response.headers.items()))
    except urllib.error.HTTPError as err:
        return HttpAnswer(err.code, err.read() or b"", dict(err.headers.items()) if err.headers else {})


def post_json(url: str, value: Any, timeout: float = 10.0) -> HttpAnswer:
    return http_request(
        url, "POST", json.dumps(value).encode(), {"Content-Type": "application/json"}, timeout=timeout
    )


# --- webhook signatures --------------------------------------------------------------------


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def message_webhook(sender: str, to: str, text: str, message_id: str | None = None) -> bytes:
    """The body of an inbound-text webhook, as the carrier sends it."""
    return json.dumps({
        "type": "message",
        "id": message_id or f"SM-test-{time.monotonic_ns()}",
        "from": sender,
        "to": to,
        "text": text,
        "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }).encode()


def status_webhook(message_id: str, status: str = "delivered", error: dict[str, str] | None = None) -> bytes:
    value: dict[str, Any] = {"type": "status", "id": message_id, "status": status}
    if error is not None:
        value["error"] = error
    return json.dumps(value).encode()


def post_webhook(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> HttpAnswer:
    """POST a webhook body with exactly these headers (signed or not) to causeway."""
    return http_request(url, "POST", body, headers, timeout=timeout)


# --- the stub ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarrierAccount:
    """An account at the stub carrier: id, API token, its numbers, where its webhooks go."""

    id: str
    token: str
    numbers: tuple[str, ...]
    webhook_base_url: str

    def argument(self) -> str:
        """`ID:TOKEN:+1555…[,+1555…]:WEBHOOK_BASE_URL` for --account."""
        return f"{self.id}:{self.token}:{','.join(self.numbers)}:{self.webhook_base_url}"


@dataclass
class StubCarrier:
    """`causeway sms-stub` as a child on a free port, stopped by PID."""

    binary: Path
    workdir: Path
    webhook_secret: str
    accounts: list[CarrierAccount] = field(default_factory=list)
    host: str = HOST
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "sms-stub.log"

    def command(self) -> list[str]:
        args = [str(self.binary), "sms-stub", "--host", self.host, "--port", str(self.port),
                "--webhook-secret", self.webhook_secret]
        for account in self.accounts:
            args += ["--account", account.argument()]
        return args

    def start(self, timeout: float = START_TIMEOUT) -> None:
        assert not self.running, "the stub carrier is already running"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the stub carrier exited with status {self.proc.returncode} while starting\n{self.diagnostics()}"
                )
            try:
                return http_request(f"{self.url}/control/sent", timeout=1.0).status < 500
            except OSError:
                return False

        try:
            wait_until(answers, timeout, f"the stub carrier to answer HTTP on {self.url}")
        except TimeoutError as err:
            self.stop()
            raise AssertionError(f"{err}\n{self.diagnostics()}") from None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if self.proc is not None:
            stop_process(self.proc, term_timeout=timeout)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def diagnostics(self, lines: int = 40) -> str:
        return f"--- {self.log_path} (tail) ---\n{tail(self.log_path, lines)}"

    # --- control API ---------------------------------------------------------------------

    def _control(self, method: str, path: str, value: Any = None, timeout: float = 10.0) -> HttpAnswer:
        body = None if value is None else json.dumps(value).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return http_request(f"{self.url}{path}", method, body, headers, timeout=timeout)

    def _expect_ok(self, answer: HttpAnswer, what: str) -> Any:
        assert 200 <= answer.status < 300, f"stub carrier: {what}: {answer.describe()}\n{self.diagnostics()}"
        return answer.json() if answer.body.strip() else None

    def add_account(self, account: CarrierAccount) -> None:
        """POST /control/accounts: one more account (or a replacement) while running."""
        self._expect_ok(
            self._control("POST", "/control/accounts", {
                "id": account.id, "token": account.token, "numbers": list(account.numbers),
                "webhook_url": account.webhook_base_url,
            }),
            f"adding account {account.id}",
        )
        self.accounts.append(account)

    def inbound(self, sender: str, to: str, text: str, timeout: float = CONTROL_TIMEOUT, **extra: Any) -> InboundResult:
        """POST /control/inbound: the stub signs an inbound-text webhook and posts it to the
        account's webhook URL (retrying on failure); the answer says how that went."""
        answer = self._control("POST", "/control/inbound", {"from": sender, "to": to, "text": text, **extra}, timeout=timeout)
        # 200: causeway took it; 502: it did not, after the stub's retries. Anything else is a
        # mistake in the test (unknown number, bad sender).
        assert answer.status in (200, 502), f"stub carrier: inbound from {sender} to {to}: {answer.describe()}"
        try:
            value = answer.json()
        except ValueError:
            value = {"raw": answer.text}
        return InboundResult(answer.status, value if isinstance(value, dict) else {"value": value})

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        """GET /control/sent[?to=]: every text the carrier accepted, oldest first, each
        {"id", "account", "from", "to", "text", "segments", "idempotency_key", "status"}."""
        query = "?" + urllib.parse.urlencode({"to": to}) if to is not None else ""
        value = self._expect_ok(self._control("GET", f"/control/sent{query}"), "listing sent texts")
        return (value or {}).get("messages", [])

    def webhooks(self) -> list[dict[str, Any]]:
        """GET /control/webhooks: every webhook the stub posted (all attempts of each), oldest first."""
        value = self._expect_ok(self._control("GET", "/control/webhooks"), "listing webhooks")
        return (value or {}).get("webhooks", [])

    def reset(self) -> None:
        """POST /control/reset: forget sent texts, idempotency keys, the webhook log, the failure plan."""
        self._expect_ok(self._control("POST", "/control/reset"), "reset")

    def wait_sent(self, predicate, what: str, timeout: float = 15.0, to: str | None = None) -> dict[str, Any]:
        """The first sent text matching `predicate`, waiting (bounded) for it."""

        def find():
            return next((item for item in self.sent(to) if predicate(item)), None)

        try:
            return wait_until(find, timeout, what)
        except TimeoutError as err:
            raise AssertionError(f"{err}\nsent so far: {self.sent()}") from None

    def set_failures(self, bounce_numbers: list[str] | None = None, server_errors: int | None = None,
                     delay_ms: int | None = None, unroutable_numbers: list[str] | None = None) -> None:
        """POST /control/failures (replaces the whole plan): numbers whose texts bounce (a failed
        status webhook), numbers refused at once (422 unroutable), how many next send requests
        get a 503, and a delay before every carrier API answer."""
        value: dict[str, Any] = {}
        if bounce_numbers is not None:
            value["bounce_numbers"] = bounce_numbers
        if unroutable_numbers is not None:
            value["unroutable_numbers"] = unroutable_numbers
        if server_errors is not None:
            value["server_errors"] = server_errors
        if delay_ms is not None:
            value["delay_ms"] = delay_ms
        self._expect_ok(self._control("POST", "/control/failures", value), f"setting failures {value}")


@dataclass(frozen=True)
class InboundResult:
    """The stub's answer to /control/inbound: its own HTTP status and its JSON."""

    http_status: int
    value: dict[str, Any]

    @property
    def message_id(self) -> str | None:
        """The id the webhook carried (`in_…`)."""
        value = self.value.get("id")
        return value if isinstance(value, str) else None

    @property
    def webhook_status(self) -> int | None:
        """The HTTP status causeway last answered the webhook with (None: it never answered)."""
        status = self.value.get("webhook_status")
        return status if isinstance(status, int) else None

    @property
    def attempts(self) -> int:
        return int(self.value.get("attempts") or 0)

    @property
    def delivered(self) -> bool:
        """Whether causeway accepted the webhook (2xx); the stub answers 200 then, else 502."""
        status = self.webhook_status
        return self.http_status == 200 and status is not None and 200 <= status < 300

    def describe(self) -> str:
        return f"stub answered HTTP {self.http_status}: {json.dumps(self.value)}"
