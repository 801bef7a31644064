"""Per-user rate limits (denial of wallet)."""

from slowapi import Limiter
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, storage_uri="redis://ratelimit:6379/0")
