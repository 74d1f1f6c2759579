"""Loaded by pytest before Django (``-p tests.testenv`` in pyproject.toml).

The suite runs against the production settings (DEBUG off), with a throwaway key and plain HTTP
so the test client is not redirected to HTTPS.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Links in e-mail start with it; the suite's ALLOWED_HOSTS names no host to derive it from.
os.environ.setdefault("PORTAL_BASE_URL", "http://127.0.0.1:8000")
