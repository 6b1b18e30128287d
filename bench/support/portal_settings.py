"""Settings of the portal bench server: the bench settings, the portal baseline URL, no look-up rate limit."""

from bench.support.settings import *  # noqa: F403

ROOT_URLCONF = "bench.support.portal_urls"
PORTAL_LOOKUP_LIMIT_PER_IP = 10**9
PORTAL_LOOKUP_LIMIT_PER_CODE = 10**9
