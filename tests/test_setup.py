"""The README's commands work on a fresh machine: as root without sudo, and benchmarks say which
extra they need instead of crashing."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the tests", 1)[1]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()


def test_the_readme_test_command_does_not_start_with_sudo():
    command = _readme_test_command()
    assert not re.search(r"(^|&&|;)\s*sudo\b", command), command
    assert command == "scripts/setup-tests && scripts/test"


@pytest.mark.skipif(os.geteuid() != 0, reason="checks the root case; this run is not root")
def test_setup_tests_runs_as_root_where_sudo_does_not_exist(tmp_path):
    # given: a PATH with the tools setup-tests calls, and no sudo anywhere on it
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id", "dirname", "python3", "env"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    # when
    result = subprocess.run(
        [str(ROOT / "scripts" / "setup-tests"), "--dry-run"],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("apt-get install -y -qq chromium fonts-noto-cjk")
    assert not any(line.startswith("sudo") for line in lines)


def test_ci_uses_the_same_setup_and_test_commands():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/setup-tests" in ci and "scripts/test" in ci


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _requires(path: Path) -> tuple[str, ...]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "REQUIRES" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    return ()


def _dist_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_benchmark_import_is_in_the_base_install_or_declared_with_its_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = {_dist_name(r) for r in project["dependencies"]} | {"kefu"}
    bench_extra = {_dist_name(r) for r in project["optional-dependencies"]["bench"]}
    owners = importlib.metadata.packages_distributions()
    problems = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        declared = set(_requires(path))
        for name in sorted(_imports(path)):
            if name in sys.stdlib_module_names or name in ("bench", "kefu"):
                continue
            dists = {d.lower().replace("_", "-") for d in owners.get(name, [name])}
            if dists & base:
                continue
            if name in declared and dists & bench_extra:
                continue
            problems.append(f"{path.name} imports {name} ({', '.join(sorted(dists))})")
    assert problems == []


def test_kefu_bench_names_the_extra_when_a_package_is_missing():
    code = (
        "import sys; sys.modules['aiohttp'] = None\n"
        "from kefu.cli import main\n"
        "sys.exit(main(['bench', 'api', '--scale', '0.01']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "needs aiohttp" in result.stderr and ".[bench]" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_translation_uses_the_placeholders_of_its_source():
    import polib

    po = polib.pofile(str(ROOT / "src/kefu/locale/zh_Hans/LC_MESSAGES/django.po"))
    wrong = []
    for entry in po:
        wanted = set(re.findall(r"%\(\w+\)[sdf]", entry.msgid + (entry.msgid_plural or "")))
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            if text and set(re.findall(r"%\(\w+\)[sdf]", text)) - wanted:
                wrong.append((entry.msgid, text))
    assert wrong == []
