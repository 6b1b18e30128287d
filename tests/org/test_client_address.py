"""The client's address behind the TLS proxy (review F17): X-Forwarded-For only from MOTCUA_TRUSTED_PROXIES, used by
allauth's limits and the public look-up's; the limits live in the shared (database) cache."""

import ipaddress

import pytest
from django.core.cache import cache
from django.test import Client

from motcua.org.client_address import client_address


def nets(*entries: str):
    return tuple(ipaddress.ip_network(e) for e in entries)


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.5", None, (), "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", (), "203.0.113.5"),  # no trusted proxy: the header is ignored
        ("203.0.113.5", "198.51.100.1", ("127.0.0.1/32",), "203.0.113.5"),  # not from the proxy: ignored
        ("127.0.0.1", "198.51.100.1", ("127.0.0.1/32",), "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", ("127.0.0.1/32",), "198.51.100.1"),  # a forged left part is skipped
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", ("127.0.0.1/32", "10.0.0.0/8"), "198.51.100.1"),  # two proxies
        ("127.0.0.1", "10.1.2.3", ("127.0.0.1/32", "10.0.0.0/8"), "10.1.2.3"),  # only proxies: the first one
        ("127.0.0.1", "rác, 198.51.100.1", ("127.0.0.1/32",), "198.51.100.1"),
        ("127.0.0.1", "198.51.100.1:5123", ("127.0.0.1/32",), "198.51.100.1"),
        ("127.0.0.1", "[2001:db8::1]:443", ("127.0.0.1/32",), "2001:db8::1"),
        ("127.0.0.1", "không-phải-địa-chỉ", ("127.0.0.1/32",), "127.0.0.1"),
        ("::1", "2001:db8::7", ("::1/128",), "2001:db8::7"),
        ("", "198.51.100.1", ("127.0.0.1/32",), None),
    ],
)
def test_client_address(remote, forwarded, trusted, expected):
    assert client_address(remote, forwarded, nets(*trusted)) == expected


@pytest.mark.django_db
def test_the_cache_is_the_shared_database_cache(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    cache.set("motcua:test", 41, 60)
    assert cache.incr("motcua:test") == 42
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM motcua_cache")
        assert cursor.fetchone()[0] >= 1


def lookup(ip: str, code: str):
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ip, HTTP_ACCEPT_LANGUAGE="vi")
    return client.post("/lookup/", {"code": code, "digits": "1234"})


@pytest.mark.django_db
def test_the_look_up_limit_counts_each_citizen_behind_the_proxy(settings):
    settings.MOTCUA_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.PORTAL_LOOKUP_LIMIT_PER_IP = 3
    cache.clear()
    for n in range(3):
        assert lookup("198.51.100.1", f"H62.01-2612{n:02d}-0001").status_code == 404
    assert lookup("198.51.100.1", "H62.01-261299-0001").status_code == 429
    assert lookup("198.51.100.2", "H62.01-261299-0002").status_code == 404  # another citizen, same proxy


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_look_up_ignores_forwarded_for(settings):
    settings.MOTCUA_TRUSTED_PROXIES = []
    settings.PORTAL_LOOKUP_LIMIT_PER_IP = 3
    cache.clear()
    for n in range(3):
        lookup(f"198.51.100.{n + 10}", f"H62.01-2612{n:02d}-0003")
    assert lookup("198.51.100.99", "H62.01-261299-0003").status_code == 429


@pytest.mark.django_db
def test_allauths_limits_count_each_citizen_behind_the_proxy(settings):
    from allauth.account.adapter import get_adapter
    from django.test import RequestFactory

    settings.MOTCUA_TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.40")
    assert get_adapter().get_client_ip(request) == "198.51.100.40"
    settings.MOTCUA_TRUSTED_PROXIES = []
    assert get_adapter().get_client_ip(request) == "127.0.0.1"
