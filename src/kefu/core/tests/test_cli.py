import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def _kefu(
    *args: str, env: dict[str, str] | None = None, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KEFU_") and k != "DJANGO_SETTINGS_MODULE"
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
        input=input_text,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KEFU_ENV": "production"}, "KEFU_DATABASE_URL"),
        ({"KEFU_ENV": "production"}, "KEFU_ALLOWED_HOSTS"),
        (
            {"KEFU_ENV": "production", "KEFU_DATABASE_URL": "postgres://u@127.0.0.1/kefu"},
            "KEFU_REDIS_URL",
        ),
        (
            {
                "KEFU_ENV": "production",
                "KEFU_DATABASE_URL": "postgres://u@127.0.0.1/kefu",
                "KEFU_REDIS_URL": "redis://127.0.0.1:6379/0",
            },
            "KEFU_SECRET_KEY",
        ),
        (
            {
                "KEFU_ENV": "production",
                "KEFU_DATABASE_URL": "postgres://u@127.0.0.1/kefu",
                "KEFU_REDIS_URL": "redis://127.0.0.1:6379/0",
                "KEFU_SECRET_KEY": "short",
                "KEFU_ALLOWED_HOSTS": "kefu.example.com",
            },
            "KEFU_SECRET_KEY",
        ),
        ({"KEFU_DATABASE_URL": "mysql://u@h/db"}, "KEFU_DATABASE_URL"),
    ],
)
def test_start_up_stops_with_a_message_naming_the_setting(env, named, tmp_path):
    result = _kefu("migrate", env={"KEFU_DATA_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_an_unreachable_database(tmp_path):
    result = _kefu(
        "check",
        env={
            "KEFU_DATA_DIR": str(tmp_path),
            "KEFU_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        },
    )
    assert result.returncode == 1
    assert "FAIL  database" in result.stdout


def test_check_passes_on_a_migrated_embedded_install(tmp_path):
    env = {"KEFU_DATA_DIR": str(tmp_path)}
    assert _kefu("migrate", env=env).returncode == 0
    result = _kefu("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    database: sqlite" in result.stdout


def test_env_template_lists_every_setting():
    result = _kefu("check", "--env-template")
    assert result.returncode == 0
    assert "#KEFU_SECRET_KEY=" in result.stdout


def test_unknown_benchmark_lists_the_known_ones():
    result = _kefu("bench", "nonexistent")
    assert result.returncode == 2
    assert "choose one of" in result.stderr
    assert "api" in result.stderr


def test_createadmin_makes_an_administrator_and_refuses_bad_input(tmp_path):
    env = {"KEFU_DATA_DIR": str(tmp_path)}
    assert _kefu("migrate", env=env).returncode == 0
    ok = _kefu("createadmin", "--username", "boss", "--password", "Very-secret-2026", env=env)
    assert ok.returncode == 0, ok.stderr
    again = _kefu("createadmin", "--username", "boss", "--password", "Very-secret-2026", env=env)
    assert again.returncode == 2
    assert "username" in again.stderr
    weak = _kefu("createadmin", "--username", "boss2", "--password", "123", env=env)
    assert weak.returncode == 2
    assert "password" in weak.stderr
