import pytest

from kefu.config.env import Env, SettingError, env_template


def test_production_requires_each_setting_by_name():
    env = Env({"KEFU_ENV": "production"})
    for name in ("KEFU_DATABASE_URL", "KEFU_REDIS_URL", "KEFU_SECRET_KEY", "KEFU_ALLOWED_HOSTS"):
        with pytest.raises(SettingError, match=name):
            env.string(name)


def test_embedded_mode_falls_back_to_defaults():
    env = Env({})
    assert env.production is False
    assert env.string("KEFU_DATABASE_URL") == ""
    assert env.strings("KEFU_ALLOWED_HOSTS") == ["127.0.0.1", "localhost"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KEFU_DATABASE_URL", "mysql://x@h/db", "must start with"),
        ("KEFU_DATABASE_URL", "postgres://", "no host name"),
        ("KEFU_REDIS_URL", "redis://h:notaport/0", "malformed port"),
        ("KEFU_WEB_WORKERS", "many", "whole number"),
        ("KEFU_WEB_WORKERS", "0", "between 1"),
        ("KEFU_DEBUG", "maybe", "must be 1 or 0"),
        ("KEFU_ENV", "staging", "embedded' or 'production"),
    ],
)
def test_malformed_values_are_named(name, value, message):
    env = Env({name: value})
    readers = {
        "KEFU_DATABASE_URL": lambda: env.url(name, ("postgres", "sqlite")),
        "KEFU_REDIS_URL": lambda: env.url(name, ("redis",)),
        "KEFU_WEB_WORKERS": lambda: env.integer(name, minimum=1, maximum=64),
        "KEFU_DEBUG": lambda: env.boolean(name),
        "KEFU_ENV": lambda: env.production,
    }
    with pytest.raises(SettingError) as info:
        readers[name]()
    assert message in str(info.value)
    assert name in str(info.value)


def test_password_in_a_url_is_not_echoed():
    env = Env({"KEFU_DATABASE_URL": "postgres://kefu:hunter2@/kefu"})
    with pytest.raises(SettingError) as info:
        env.url("KEFU_DATABASE_URL", ("postgres",))
    assert "hunter2" not in str(info.value)


def test_the_template_documents_every_setting():
    from kefu.config.env import SETTINGS

    text = env_template()
    for setting in SETTINGS:
        assert f"#{setting.name}=" in text
    assert text.count("REQUIRED in production") == 4


def test_the_shipped_template_is_current():
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[4] / "kefu.env.example"
    assert shipped.read_text().strip() == env_template().strip(), (
        "run: kefu check --env-template > kefu.env.example"
    )


def test_production_pushes_go_through_redis_pub_sub_on_the_configured_server():
    """Every server process holds one Redis subscription (the list-based layer could not take
    500 chat pushes a second into one process)."""
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "KEFU_ENV": "production",
        "KEFU_DATABASE_URL": "postgres://u@127.0.0.1/kefu",
        "KEFU_REDIS_URL": "redis://127.0.0.1:6379/3",
        "KEFU_SECRET_KEY": "x" * 50,
        "KEFU_ALLOWED_HOSTS": "kefu.example.com",
        "KEFU_SITE_URL": "https://kefu.example.com",
    }
    code = "import json, kefu.config.settings as s; print(json.dumps(s.CHANNEL_LAYERS['default']))"
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    layer = json.loads(done.stdout.strip().splitlines()[-1])
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"]["hosts"] == [{"address": "redis://127.0.0.1:6379/3"}]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_run_without_jit_unless_asked():
    """JIT compiling took longer than the wall board's queries themselves; Kefu's connections
    turn it off unless KEFU_DB_JIT=1."""
    from django.conf import settings
    from django.db import connection

    assert "-c jit=off" in settings.DATABASES["default"]["OPTIONS"]["options"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_database_url_s_own_options_are_kept_beside_jit_off():
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "KEFU_ENV": "production",
        "KEFU_DATABASE_URL": "postgres://u@127.0.0.1/kefu?options=-c%20search_path%3Dkefu",
        "KEFU_REDIS_URL": "redis://127.0.0.1:6379/3",
        "KEFU_SECRET_KEY": "x" * 50,
        "KEFU_ALLOWED_HOSTS": "kefu.example.com",
        "KEFU_SITE_URL": "https://kefu.example.com",
    }
    code = (
        "import json, kefu.config.settings as s; "
        "print(json.dumps(s.DATABASES['default']['OPTIONS']['options']))"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == "-c search_path=kefu -c jit=off"
