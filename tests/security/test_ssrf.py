"""Base URL validation against internal addresses: literal addresses in every spelling, DNS
names that resolve to them (also when the answer changes after the URL was saved), and
redirects (the vendor answers 302 to an internal address: it must not be followed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from werkzeug.wrappers import Request, Response

from connectors.sandbox_kit import RunningServer, serve
from dashboard.integrations.models import Connector, Credential
from tests.factories import AdminFactory, UserFactory
from tests.reliability.helpers import sync

pytestmark = pytest.mark.django_db

INTERNAL_URLS = [
    "http://127.0.0.1:8000",
    "https://127.0.0.1",
    "https://localhost",  # a DNS name (/etc/hosts) resolving to loopback
    "https://LOCALHOST.",  # case and a trailing dot
    "https://[::1]",
    "https://[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "https://2130706433",  # 127.0.0.1 as one decimal number
    "https://0x7f.0.0.1",  # hexadecimal
    "https://127.1",  # shortened
    "https://0.0.0.0",
    "https://169.254.169.254/latest/meta-data",  # cloud metadata
    "https://10.0.0.5",
    "https://192.168.1.1",
    "https://172.16.0.1",
    "https://100.64.0.1",  # carrier-grade NAT
    "https://[fd00::1]",  # unique local IPv6
    "https://user:pass@okrs.example.com",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
]


@pytest.fixture
def production_hosts(settings: Any) -> None:
    """Production's rule: no host is exempt (the dev/test default exempts the loopback sandboxes)."""
    settings.CONNECTOR_ALLOWED_HOSTS = []


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names under .attacker.test resolve to whatever the test says (there is no DNS server here)."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[host], port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def admin_client() -> Client:
    client = Client()
    client.force_login(AdminFactory(username="admin"))
    return client


def add_connector(client: Client, base_url: str) -> Any:
    return client.post(
        "/connectors/add/",
        {"vendor": "ogsm", "name": f"probe {base_url}"[:100], "base_url": base_url, "interval_minutes": 60, "enabled": "on"},
    )


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_the_admin_form_refuses_internal_base_urls(url, production_hosts):
    response = add_connector(admin_client(), url)
    assert response.status_code == 200, "the form must answer with an error, not save"
    assert response.context["form"].errors.get("base_url"), response.context["form"].errors
    assert not Connector.objects.exists()


def test_the_cli_refuses_internal_base_urls(production_hosts):
    from django.core.management import CommandError, call_command

    with pytest.raises((CommandError, SystemExit)) as refused:
        call_command("connector", "add", "--vendor", "ogsm", "--name", "meta", "--base-url", "https://169.254.169.254")
    assert "link-local" in str(refused.value)
    assert not Connector.objects.exists()


def test_a_dns_name_resolving_to_an_internal_address_is_refused(production_hosts, fake_dns):
    fake_dns["okrs.attacker.test"] = "10.1.2.3"
    response = add_connector(admin_client(), "https://okrs.attacker.test")
    assert "private address (10.1.2.3)" in str(response.context["form"].errors["base_url"])
    fake_dns["okrs.attacker.test"] = "93.184.216.34"  # a public answer is accepted
    assert add_connector(admin_client(), "https://okrs.attacker.test").status_code == 302


def test_dns_rebinding_after_save_is_caught_at_sync_time(production_hosts, fake_dns):
    """Saved while the name pointed at a public address; by the time of the sync it points at
    loopback: the sync refuses to connect, says why, and sends nothing."""
    fake_dns["rebind.attacker.test"] = "93.184.216.34"
    assert add_connector(admin_client(), "https://rebind.attacker.test").status_code == 302
    connector = Connector.objects.get()
    credential = Credential(connector=connector, owner=UserFactory(username="rebound"))
    credential.set_secret({"username": "u", "password": "rebinding-password"})
    credential.save()
    fake_dns["rebind.attacker.test"] = "127.0.0.1"

    run = sync(credential)

    assert run.status == "failed" and "loopback address (127.0.0.1)" in run.error and run.requests_made == 0


class TcpCanary:
    """A loopback port standing for an internal service: counts every TCP connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def test_dns_rebinding_between_the_check_and_the_connection_is_caught_at_connect_time(production_hosts, fake_dns, monkeypatch):
    """The name answers with a public address for every check before the sync, then with
    loopback when the client connects: the connection is dialled only to an address vetted at
    that moment, so the internal port never sees a connection."""
    from dashboard.integrations.services import connectors as connector_services

    canary = TcpCanary()
    try:
        host = "late-rebind.attacker.test"
        fake_dns[host] = "93.184.216.34"
        assert add_connector(admin_client(), f"https://{host}:{canary.port}").status_code == 302
        credential = Credential(connector=Connector.objects.get(), owner=UserFactory(username="late"))
        credential.set_secret({"username": "u", "password": "late-rebinding-password"})
        credential.save()
        real_check = connector_services.validate_base_url

        def check_then_rebind(url: str) -> str:
            checked = real_check(url)  # passes: the name still answers with the public address
            fake_dns[host] = "127.0.0.1"  # ...and now points inside
            return checked

        monkeypatch.setattr(connector_services, "validate_base_url", check_then_rebind)

        run = sync(credential)

        assert fake_dns[host] == "127.0.0.1", "the pre-sync check ran"
        assert run.status == "failed" and "loopback address (127.0.0.1)" in run.error, run.error
        assert canary.connections == 0
    finally:
        canary.close()


def test_a_write_back_is_pinned_too(production_hosts, fake_dns, monkeypatch):
    """Write-backs carry the user's secret as well: the same rebinding between the checks and
    the connection is refused at connect time, nothing reaches the internal port, and the
    audit log records the refusal."""
    from dashboard.integrations.services import connectors as connector_services
    from dashboard.writeback.models import AuditLog
    from dashboard.writeback.services import ItemRef, WriteFailed, WriteSpec, perform, write_access

    canary = TcpCanary()
    try:
        host = "late-write.attacker.test"
        fake_dns[host] = "93.184.216.34"
        assert add_connector(admin_client(), f"https://{host}:{canary.port}").status_code == 302
        connector = Connector.objects.get()
        user = UserFactory(username="writer")
        credential = Credential(connector=connector, owner=user)
        credential.set_secret({"username": "u", "password": "late-write-password"})
        credential.save()
        real_check = connector_services.validate_base_url

        def check_then_rebind(url: str) -> str:
            checked = real_check(url)
            fake_dns[host] = "127.0.0.1"
            return checked

        monkeypatch.setattr(connector_services, "validate_base_url", check_then_rebind)
        spec = WriteSpec("update_action", ItemRef("action", "1", "Probe"), {"progress": 50}, call=lambda c, _theirs: c.check())

        with pytest.raises(WriteFailed):
            perform(user, write_access(user, connector), spec)

        assert fake_dns[host] == "127.0.0.1", "the pre-write check ran"
        assert canary.connections == 0
        audit = AuditLog.objects.get()
        assert audit.outcome != AuditLog.Outcome.SUCCEEDED and "loopback address (127.0.0.1)" in audit.vendor_summary
    finally:
        canary.close()


def test_the_pinned_client_dials_the_vetted_address_not_the_name():
    """connectors.http.PinnedBackend: the socket goes to what the guard returned (here a
    loopback server under a name no resolver knows), and a guard's refusal reaches the caller."""
    from connectors.http import make_client
    from connectors.sandbox_kit import serve as serve_app
    from dashboard.core.urlsafety import URLRefused

    def hello(environ: dict[str, Any], start_response: Any) -> Any:
        return Response('{"ok": true}', mimetype="application/json")(environ, start_response)

    server = serve_app(hello)
    try:
        port = int(server.url.rsplit(":", 1)[1])
        asked: list[tuple[str, int]] = []

        def guard(host: str, guard_port: int) -> list[str]:
            asked.append((host, guard_port))
            return ["127.0.0.1"]

        with make_client(f"http://no-such-name.invalid:{port}", connect_guard=guard) as client:
            assert client.get("x").json() == {"ok": True}
        assert asked == [("no-such-name.invalid", port)]

        def refuse(host: str, guard_port: int) -> list[str]:
            raise URLRefused(f"{host} is refused")

        with make_client(f"http://no-such-name.invalid:{port}", connect_guard=refuse) as client, pytest.raises(URLRefused):
            client.get("x")
    finally:
        server.stop()


class Canary:
    """An internal service that must never be reached: counts every request."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.hits.append(environ.get("PATH_INFO", ""))
        return Response('[{"id": 1, "title": "internal secret"}]', mimetype="application/json")(environ, start_response)


@pytest.fixture
def redirect_to_canary() -> Iterator[tuple[RunningServer, Canary]]:
    canary = Canary()
    canary_server = serve(canary)

    def redirector(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        target = f"{canary_server.url}{request.path}"
        return Response("", status=302, headers={"Location": target})(environ, start_response)

    vendor = serve(redirector)
    yield vendor, canary
    vendor.stop()
    canary_server.stop()


def test_a_redirect_to_an_internal_address_is_not_followed(redirect_to_canary):
    """The vendor's base URL passed validation; its answers redirect to 127.0.0.1. Neither a sync
    nor "test connection" may follow the redirect (httpx clients are built with
    follow_redirects=False): the internal service sees no request, and the user is told."""
    vendor, canary = redirect_to_canary
    connector = Connector.objects.create(vendor="ogsm", name="redirecting", base_url=vendor.url)
    owner = UserFactory(username="redirected")
    credential = Credential(connector=connector, owner=owner)
    credential.set_secret({"username": "u", "password": "redirect-password"})
    credential.save()

    run = sync(credential)
    client = Client()
    client.force_login(owner)
    tested = client.post(f"/connections/{credential.pk}/test/", HTTP_HX_REQUEST="true")

    assert canary.hits == []
    assert run.status == "failed" and run.error
    assert "internal secret" not in run.error
    assert tested.status_code == 200 and "internal secret" not in tested.content.decode()
