"""Settings for the test suite: the real settings, with a scratch data folder, cheaper Argon2,
jobs run synchronously after commit, and mail kept in memory (tests that need a real SMTP
server point EMAIL_BACKEND at one)."""

import os
import tempfile

os.environ.setdefault("KEFU_DATA_DIR", tempfile.mkdtemp(prefix="kefu-test-"))
os.environ.setdefault("KEFU_ENV", "embedded")

from kefu.config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["kefu.accounts.hashers.FastArgon2PasswordHasher"]
JOBS_BACKEND = "eager"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
SITE_URL = "http://testserver"

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not shared-cache memory: threads in tests (live servers, concurrency tests) then
    # lock and wait the way the embedded server does, instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
