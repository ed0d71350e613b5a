"""Base URL validation: https only, no userinfo, public addresses only (after DNS resolution)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from dashboard.core.urlsafety import HostNotResolved, URLRefused, validate_base_url


def fixed_resolver(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "Enter the vendor's base URL"),
        ("ftp://example.com/", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("example.com", "must start with https://"),
        ("http://example.com/", "must use https://"),
        ("https://user:pa55@example.com/", "user name or password"),
        ("https://user@example.com/", "user name or password"),
        ("https:///path-only", "no host name"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://example.com/api?x=1", "query string"),
        ("https://127.0.0.1/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://10.1.2.3/", "private"),
        ("https://192.168.0.10:8443/", "private"),
        ("https://172.16.5.4/", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://224.0.0.251/", "multicast"),
        ("https://240.0.0.1/", "reserved"),
        ("https://100.64.0.7/", "non-public"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[fd00::1]/", "private"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]), pytest.raises(URLRefused) as info:
        validate_base_url(url)
    assert reason in info.value.message


def test_a_dns_name_resolving_to_loopback_is_refused() -> None:
    # Real resolution through the system resolver (/etc/hosts): localhost is 127.0.0.1 / ::1.
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]), pytest.raises(URLRefused) as info:
        validate_base_url("https://localhost:8443/api")
    assert "'localhost' resolves to a loopback address" in info.value.message


def test_every_resolved_address_must_be_public() -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]):
        assert validate_base_url("https://okrs.example.com", resolver=fixed_resolver("93.184.216.34")) == "https://okrs.example.com"
        with pytest.raises(URLRefused, match="private address"):
            validate_base_url("https://okrs.example.com", resolver=fixed_resolver("93.184.216.34", "10.0.0.8"))
        with pytest.raises(URLRefused, match="link-local"):
            validate_base_url("https://rebind.example.com", resolver=fixed_resolver("fe80::1%eth0"))


def test_an_unresolvable_host_is_refused_with_its_own_error() -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]), pytest.raises(HostNotResolved, match="could not be resolved"):
        validate_base_url("https://no-such-host.invalid/")


def test_public_address_is_accepted_and_normalised() -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]):
        assert validate_base_url("  HTTPS://93.184.216.34/Api/v1/  ") == "https://93.184.216.34/Api/v1"


def test_allowed_hosts_may_use_http_and_loopback() -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=["127.0.0.1", "LocalHost", "[::1]"]):
        assert validate_base_url("http://127.0.0.1:8001/") == "http://127.0.0.1:8001"
        assert validate_base_url("http://localhost:8001") == "http://localhost:8001"
        assert validate_base_url("http://[::1]:8001/x") == "http://[::1]:8001/x"
        # Userinfo stays refused even for an allowed host.
        with pytest.raises(URLRefused, match="user name or password"):
            validate_base_url("http://admin:pw@127.0.0.1:8001/")
        # An allowed host does not open its neighbours.
        with pytest.raises(URLRefused, match="must use https"):
            validate_base_url("http://127.0.0.2:8001/")
