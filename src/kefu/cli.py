"""The `kefu` command.

kefu demo           migrate, load the demo centre once, serve on http://127.0.0.1:8000
kefu serve          serve HTTP, WebSockets and static files (uvicorn)
kefu migrate        apply database migrations
kefu createadmin    create an administrator account
kefu worker         run a Celery worker (production)
kefu beat           run the Celery scheduler (production)
kefu bench NAME     run a benchmark from bench/ (NAME.py), e.g. `kefu bench api --scale 0.01`
kefu check          check configuration and connectivity, say what is wrong
kefu manage ...     any Django management command
kefu calls ...      hotline: import call logs, follow a queue_log, print KPIs
kefu wfm backtest   forecast accuracy on a call log (MASE, WAPE) against the weekly naive
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

SETTINGS = "kefu.config.settings"


class CliError(Exception):
    pass


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from kefu.config.env import SettingError

    try:
        import django

        django.setup()
    except SettingError as exc:
        raise CliError(f"configuration error: {exc}") from None


def _call(*args: str, **kwargs: Any) -> None:
    from django.core.management import call_command

    call_command(*args, **kwargs)


def _collectstatic() -> None:
    _call("collectstatic", interactive=False, verbosity=0)


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    _call("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    print("kefu: database is up to date.")
    return 0


def _print_accounts() -> None:
    from kefu.core.demo import demo_accounts

    accounts = demo_accounts()
    if not accounts:
        return
    width = max(len(role) for role, _login, _pw in accounts)
    print("\n  Demo accounts (staff sign in at /login/, customers at /portal/login/):")
    for role, login, password in accounts:
        print(f"    {role.ljust(width)}  {login}  /  {password}")
    print()


def cmd_demo(args: argparse.Namespace) -> int:
    if os.environ.get("KEFU_ENV", "").strip().lower() == "production":
        raise CliError(
            "`kefu demo` runs the embedded demo; unset KEFU_ENV=production or use `kefu serve`."
        )
    os.environ.setdefault("KEFU_DATA_DIR", "var")
    _setup()
    from django.conf import settings

    from kefu.core.demo import seed_demo

    print(f"kefu: data folder {settings.DATA_DIR}")
    print("kefu: preparing the database …")
    _call("migrate", interactive=False, verbosity=0)
    ctx = seed_demo(progress=lambda name: print(f"kefu:   loading demo data: {name}"))
    if ctx is None:
        print("kefu: demo data already loaded.")
    _collectstatic()
    _print_accounts()
    if args.no_serve:
        return 0
    return _serve(args.host, args.port, workers=1)


def _serve(host: str, port: int, workers: int) -> int:
    import uvicorn
    from django.conf import settings

    mode = "production" if settings.PRODUCTION else "embedded"
    print(
        f"kefu: serving on http://{host}:{port} ({mode}, {workers} worker{'s' if workers > 1 else ''}) — Ctrl+C stops."
    )
    uvicorn.run(
        "kefu.config.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        log_level="warning",
        **uvicorn_options(),
    )
    return 0


def uvicorn_options() -> dict[str, Any]:
    """What every Kefu server process passes to uvicorn.

    uvicorn's own proxy handling stays off: it would take the client's address from the
    left-most X-Forwarded-For entry, which the client writes itself. Django reads the scheme
    (SECURE_PROXY_SSL_HEADER) and ``core.middleware.client_ip`` reads the address, believing
    only the proxies in KEFU_TRUSTED_PROXIES.

    No per-message compression on sockets: Kefu's frames are a few hundred bytes, and
    compressing them was the largest cost of a server at thousands of chat sockets (and about
    50 kB of memory per socket)."""
    return {
        "proxy_headers": False,
        "ws": "wsproto",
        "ws_max_size": 1_048_576,
        "ws_per_message_deflate": False,
    }


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if not args.no_collectstatic:
        _collectstatic()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CliError("the database has unapplied migrations; run `kefu migrate` first.")
    workers = (
        args.workers
        or settings.KEFU_WEB_WORKERS
        or (os.cpu_count() or 1 if settings.PRODUCTION else 1)
    )
    if not settings.PRODUCTION and workers > 1 and not settings.REDIS_URL:
        print("kefu: embedded mode keeps live updates and jobs in one process; using 1 worker.")
        workers = 1
    return _serve(args.host, args.port, workers)


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import ValidationError

    from kefu.accounts.services import create_user
    from kefu.core.context import origin
    from kefu.core.permissions import Role

    password = args.password or os.environ.get("KEFU_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise CliError(
                "give --password or set KEFU_ADMIN_PASSWORD when not running in a terminal."
            )
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            raise CliError("the two passwords differ.")
    try:
        with origin("cli"):
            user = create_user(
                actor=None,
                username=args.username,
                display_name=args.name or args.username,
                role=Role.ADMIN,
                email=args.email or "",
                password=password,
            )
    except ValidationError as exc:
        raise CliError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from None
    print(f"kefu: administrator {user.username} created.")
    return 0


def _celery(argv: list[str]) -> int:
    _setup()
    from kefu.config.celery import app

    app.start(argv)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    return _celery(
        [
            "worker",
            "--loglevel",
            args.loglevel,
            *(["--concurrency", str(args.concurrency)] if args.concurrency else []),
        ]
    )


def cmd_beat(args: argparse.Namespace) -> int:
    return _celery(["beat", "--loglevel", args.loglevel])


def _bench_dir() -> Path:
    candidates = [Path(__file__).resolve().parents[2] / "bench", Path.cwd() / "bench"]
    for candidate in candidates:
        if (candidate / "_harness.py").is_file():
            return candidate
    raise CliError("cannot find the bench/ folder; run kefu bench from the source checkout.")


def cmd_bench(args: argparse.Namespace, extra: list[str]) -> int:
    folder = _bench_dir()
    module_name = args.name.replace("-", "_")
    path = folder / f"{module_name}.py"
    if not path.exists():
        names = sorted(
            p.stem.replace("_", "-") for p in folder.glob("*.py") if not p.stem.startswith("_")
        )
        raise CliError(f"no benchmark {args.name!r}; choose one of: {', '.join(names)}")
    if args.scale <= 0 or args.scale > 10:
        raise CliError("--scale must be between 0 and 10.")
    sys.path.insert(0, str(folder.parent))
    spec = importlib.util.spec_from_file_location(f"bench.{module_name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = []
    for package in getattr(module, "REQUIRES", ()):
        try:
            importlib.import_module(package)
        except ImportError:
            missing.append(package)
    if missing:
        raise CliError(
            f"kefu bench {args.name} needs {', '.join(missing)}, which the base install does not "
            "include: pip install -e '.[bench]' (the test extra includes it too)."
        )
    result = module.main(scale=args.scale, argv=extra)
    return int(result or 0)


def cmd_check(args: argparse.Namespace) -> int:
    if args.env_template:
        from kefu.config.env import env_template

        print(env_template())
        return 0
    from kefu.core.checks import run_checks

    problems = run_checks(print)
    if problems:
        print(f"\nkefu: {problems} problem{'s' if problems > 1 else ''} found.")
        return 1
    print("\nkefu: configuration and connectivity look good.")
    return 0


def cmd_wfm(args: argparse.Namespace, extra: list[str]) -> int:
    from kefu.wfm.cli import main as wfm_main

    return wfm_main(extra)


def cmd_calls(args: argparse.Namespace, extra: list[str]) -> int:
    _setup()
    from kefu.calls.cli import main as calls_main

    return calls_main(extra)


def cmd_manage(args: argparse.Namespace, extra: list[str]) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kefu manage", *extra])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description="Kefu (客服) service-centre platform")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="migrate, load demo data once, and serve (embedded mode)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="prepare the demo database and exit")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve HTTP, WebSockets and static files")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--no-collectstatic", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createadmin", help="create an administrator account")
    p.add_argument("--username", required=True)
    p.add_argument("--name", default="")
    p.add_argument("--email", default="")
    p.add_argument("--password", default="")
    p.set_defaults(func=cmd_createadmin)

    for name, func, help_text in (
        ("worker", cmd_worker, "run a Celery worker"),
        ("beat", cmd_beat, "run the Celery scheduler"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--loglevel", default="INFO")
        if name == "worker":
            p.add_argument("--concurrency", type=int, default=0)
        p.set_defaults(func=func)

    p = sub.add_parser("bench", help="run a benchmark (figures, then one JSON line)")
    p.add_argument("name")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of full scale (default 1.0)")
    p.set_defaults(func=cmd_bench, takes_extra=True)

    p = sub.add_parser("check", help="check configuration and connectivity")
    p.add_argument(
        "--env-template", action="store_true", help="print the documented settings template"
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("wfm", help="workforce management (kefu wfm backtest --data FILE)",
                       add_help=False)  # fmt: skip
    p.set_defaults(func=cmd_wfm, takes_extra=True)

    p = sub.add_parser("calls", help="hotline: kefu calls import|follow|kpi", add_help=False)
    p.set_defaults(func=cmd_calls, takes_extra=True)

    p = sub.add_parser("manage", help="run a Django management command", add_help=False)
    p.set_defaults(func=cmd_manage, takes_extra=True)
    return parser


def _version() -> str:
    from kefu import __version__

    return f"kefu {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if getattr(args, "takes_extra", False):
            return int(args.func(args, extra))
        if extra:
            parser.error(f"unrecognised arguments: {' '.join(extra)}")
        return int(args.func(args))
    except CliError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
