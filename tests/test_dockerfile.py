"""The Dockerfile and deploy/compose.yaml, checked without a Docker engine (there is none here).

What is checked, and only that (docs/deploy.md, "Docker"):

- The build stage: the files `.dockerignore` lets into the context and the stage's `COPY`
  lines make the source the wheel is built from; a wheel built from exactly that tree holds
  the same files as the one tests/test_wheel_install.py builds from the checkout, installs
  and runs (marker `wheel`, as that test: two wheel builds, some seconds).
- The final stage installs that wheel the way tests/test_wheel_install.py does (a virtual
  environment, not editable, no package index), puts its `bin` on PATH, and starts the same
  console script with options its `serve` command has; the port, health check, user and
  CHATBOT_HOME agree with each other; every CHATBOT_* it sets is a real setting, no secret
  is baked in, and it defaults to production.
- Every setting docs/deploy.md's "Production settings" table names is a real setting and is
  set by the image or compose, or listed in deploy/env.example with no value committed.
- deploy/compose.yaml (parsed with PyYAML, whose merge keys compose also follows): the
  services and volumes docs/deploy.md describes, the instances' port and health check are
  the image's, nginx's environment fills every placeholder of deploy/nginx/chatbot.conf and
  names the instances, the trusted proxy is nginx's fixed address, the database and Redis
  URLs name the services that provide them.

Not checked: that the images pull, that the build's dependency wheels resolve, that the
containers start. Those need a Docker engine.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from chatbot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "chatbot.conf"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETTINGS = {f"CHATBOT_{name.upper()}" for name in Settings.model_fields}
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z0-9_]+)\}")
# Secrets: never in the image or in compose.yaml, only in deploy/.env.
SECRETS = {"CHATBOT_SECRET_KEY", "CHATBOT_DATA_KEY", "CHATBOT_DATA_KEY_OLD", "CHATBOT_SMS_WEBHOOK_TOKEN",
           "CHATBOT_WECHAT_TOKEN", "CHATBOT_WECHAT_AES_KEY", "CHATBOT_WECHAT_SECRET"}


# --- reading the Dockerfile -----------------------------------------------------------------

@dataclass
class Stage:
    image: str
    alias: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [args for instruction, args in self.instructions if instruction == name]

    def one(self, name: str) -> str:
        found = self.all(name)
        assert len(found) == 1, f"{name}: expected once in the stage from {self.image}, found {found}"
        return found[0]

    def env(self) -> dict[str, str]:
        pairs = [item.split("=", 1) for args in self.all("ENV") for item in shlex.split(args)]
        assert all(len(pair) == 2 for pair in pairs), f"ENV in the legacy `ENV name value` form: {pairs}"
        return dict(pairs)


def dockerfile_stages(text: str) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments and the syntax line dropped."""
    logical, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[Stage] = []
    for line in logical:
        instruction, _, args = line.strip().partition(" ")
        instruction, args = instruction.upper(), " ".join(args.split())
        if instruction == "FROM":
            words = args.split()
            stages.append(Stage(words[0], words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        else:
            assert stages, f"{instruction} before FROM"
            stages[-1].instructions.append((instruction, args))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    found = dockerfile_stages(DOCKERFILE.read_text())
    assert len(found) == 2, f"a build stage and the image: {[s.image for s in found]}"
    return found


def exec_form(args: str) -> list[str]:
    command = json.loads(args)
    assert isinstance(command, list) and all(isinstance(word, str) for word in command), args
    return command


def option(words: list[str], name: str) -> str:
    assert name in words, f"{name} not in {words}"
    return words[words.index(name) + 1]


# --- the build context: .dockerignore and COPY ------------------------------------------------

def dockerignore_patterns(text: str) -> list[tuple[bool, re.Pattern]]:
    """(exception?, regex) per line, as Docker reads them: cleaned paths, `*` and `?` within one
    path element, `**` across elements, the last matching line wins."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        cleaned = str(PurePosixPath(line.removeprefix("!").lstrip("/")))
        regex, i = "", 0
        while i < len(cleaned):
            if cleaned.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif cleaned.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif cleaned[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif cleaned[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(cleaned[i]), i + 1
        patterns.append((negated, re.compile(regex)))
    return patterns


def ignored(relative: str, patterns: list[tuple[bool, re.Pattern]]) -> bool:
    """Docker's rule: a line matching the path or one of its parent directories decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, regex in patterns:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def test_the_dockerignore_reading_follows_docker_on_the_projects_own_lines():
    patterns = dockerignore_patterns((ROOT / ".dockerignore").read_text())
    assert not ignored("chatbot/cli.py", patterns) and not ignored("pyproject.toml", patterns)
    assert ignored("tests/conftest.py", patterns) and ignored(".git/HEAD", patterns)
    assert ignored("chatbot/__pycache__/cli.cpython-311.pyc", patterns)
    assert ignored("data/.faq.yaml.lock", patterns) and ignored("data/faq.yaml.lock", patterns)
    assert not ignored("api/static/index.html", patterns) and not ignored("data/faq.yaml", patterns)


def build_stage_source(build: Stage, checkout: Path, target: Path) -> None:
    """The build stage's WORKDIR as its COPY lines fill it from the context .dockerignore lets
    into it from `checkout`."""
    patterns = dockerignore_patterns((checkout / ".dockerignore").read_text())
    workdir = PurePosixPath(build.one("WORKDIR"))
    for args in build.all("COPY"):
        words = args.split()
        assert not any(word.startswith("--") for word in words), f"COPY options this check does not model: {args}"
        *sources, destination = words
        into = target / PurePosixPath(workdir, destination).relative_to(workdir)
        as_directory = destination.endswith("/") or len(sources) > 1
        for source in sources:
            path = checkout / source
            assert path.exists() and not ignored(source, patterns), \
                f"COPY {source}: not in the build context (missing, or left out by .dockerignore)"
            if path.is_file():
                copied = into / path.name if as_directory else into
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copied)
                continue
            for file in sorted(p for p in path.rglob("*") if p.is_file()):  # a directory: its contents
                relative = file.relative_to(checkout).as_posix()
                if not ignored(relative, patterns):
                    copied = into / file.relative_to(path)
                    copied.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, copied)


def _wheel_of(source: Path, dist: Path) -> Path:
    """As tests/test_wheel_install.py's `_build_wheel` builds it, from `source` as it is."""
    from tests.test_wheel_install import _setuptools_builds_wheels

    local = importlib.util.find_spec("wheel") or _setuptools_builds_wheels()
    command = [sys.executable, "-m", "pip", "wheel", str(source), "-w", str(dist), "--no-deps", "--quiet",
               *(["--no-build-isolation"] if local else [])]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if built.returncode and "setuptools" in built.stderr and "No matching distribution" in built.stderr:
        pytest.skip(f"no package index to install the build requirements from: {built.stderr.strip()[-300:]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("bank_chatbot-*.whl")
    return wheel


def _contents(wheel: Path) -> dict[str, int]:
    """Name -> CRC of every file but the RECORD (it lists hashes, not files)."""
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: info.CRC for info in archive.infolist() if not info.filename.endswith("/RECORD")}


@pytest.mark.wheel
def test_the_build_stage_builds_the_wheel_that_the_wheel_install_test_runs(stages, tmp_path):
    from tests.test_wheel_install import _not_source

    build = stages[0]
    run = shlex.split(build.one("RUN"))
    assert run[:3] == ["pip", "wheel", "--no-cache-dir"] and run[-1] == ".", run
    # One copy of the checkout for both builds (others edit this working tree meanwhile), made
    # as tests/test_wheel_install.py makes the source it builds, installs and runs.
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=_not_source)
    source = tmp_path / "docker" / "src"
    build_stage_source(build, checkout, source)
    in_image = _contents(_wheel_of(source, tmp_path / "docker" / "dist"))
    tested = _contents(_wheel_of(checkout, tmp_path / "dist"))
    assert in_image.keys() == tested.keys(), (
        f"only in the image's wheel: {sorted(in_image.keys() - tested.keys())[:20]}; "
        f"only in the tested one: {sorted(tested.keys() - in_image.keys())[:20]}")
    differing = sorted(name for name in in_image if in_image[name] != tested[name])
    assert not differing, f"files that differ: {differing[:20]}"
    data_files = {p.name for p in (ROOT / "data").iterdir() if p.is_file() and not p.name.startswith(".")}
    assert {f"chatbot/default_data/{name}" for name in data_files} <= in_image.keys()


# --- the image -------------------------------------------------------------------------------

def test_the_image_installs_the_wheel_from_the_build_stage_into_a_virtual_environment(stages):
    build, image = stages
    assert build.alias and image.image == build.image, "both stages on the same Python image"
    version = re.match(r"python:(\d+\.\d+)", image.image)
    assert version and SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(version.group(1) + ".0")
    wheel_dir = option(shlex.split(build.one("RUN")), "--wheel-dir")

    run = image.one("RUN")
    mount = re.match(r"--mount=(\S+) (.*)", run)
    assert mount, f"the wheels are mounted from the build stage for the install: {run}"
    mounted = dict(item.split("=", 1) for item in mount.group(1).split(","))
    assert mounted["type"] == "bind" and mounted["from"] == build.alias and mounted["source"] == wheel_dir
    steps = [shlex.split(step) for step in mount.group(2).split("&&")]
    venv = next(step for step in steps if step[:3] == ["python", "-m", "venv"])[3]
    install = next(step for step in steps if step[0] == f"{venv}/bin/pip")
    assert install[1] == "install" and "--no-index" in install and "-e" not in install and "--editable" not in install
    assert option(install, "--find-links") == mounted["target"]
    assert canonicalize_name(install[-1]) == canonicalize_name(PYPROJECT["project"]["name"])
    assert image.env()["PATH"].split(":")[0] == f"{venv}/bin"  # where the console script is


def test_the_image_starts_the_console_script_the_wheel_install_test_runs(stages):
    import typer.main

    from chatbot.cli import app

    image = stages[1]
    command = exec_form(image.one("CMD"))
    assert command[0] in PYPROJECT["project"]["scripts"]
    assert PYPROJECT["project"]["scripts"][command[0]] == "chatbot.cli:main"
    serve = typer.main.get_command(app).commands[command[1]]
    known = {opt for param in serve.params for opt in param.opts}
    given = [word for word in command[2:] if word.startswith("--")]
    assert given and set(given) <= known, f"{given} against serve's {known}"
    port = option(command, "--port")
    assert option(command, "--host") == "0.0.0.0"  # reachable from nginx's container
    assert image.one("EXPOSE") == port
    health = image.one("HEALTHCHECK")
    assert f"http://127.0.0.1:{port}/healthz" in health, health


def test_the_image_sets_real_settings_no_secret_and_production_by_default(stages):
    image = stages[1]
    env = image.env()
    chatbot_env = {name: value for name, value in env.items() if name.startswith("CHATBOT_")}
    assert chatbot_env.keys() <= SETTINGS, f"not settings: {chatbot_env.keys() - SETTINGS}"
    assert not chatbot_env.keys() & SECRETS
    assert chatbot_env["CHATBOT_ENV"] == "production"  # a bare `docker run` refuses, naming what is missing
    assert chatbot_env["CHATBOT_LOG_FORMAT"] == "json"
    home = chatbot_env["CHATBOT_HOME"]
    assert image.one("WORKDIR") == home and image.one("USER") == "chatbot"
    useradd = next(shlex.split(step) for step in image.one("RUN").split("&&") if "useradd" in step)
    assert useradd[-1] == "chatbot" and option(useradd, "--home-dir") == home


def production_table() -> list[str]:
    """The setting names of docs/deploy.md's "Production settings" table (`_TOKEN` after
    `CHATBOT_SMS_WEBHOOK_URL` is CHATBOT_SMS_WEBHOOK_TOKEN, `_APPID` after `CHATBOT_WECHAT_TOKEN`
    and `_AES_KEY` is CHATBOT_WECHAT_APPID)."""
    section = DEPLOY_DOC.read_text().split("## Production settings", 1)[1].split("\n## ", 1)[0]
    names = []
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        full = None
        for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1]):
            if name.startswith("_"):
                assert full, row
                names.append(full.rsplit("_", 1)[0] + name)
            else:
                names.append(full := name)
    return names


def env_example() -> tuple[dict[str, str], set[str]]:
    """deploy/env.example's settings (name -> value committed) and the commented-out ones."""
    given, commented = {}, set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line.strip()):
            given[match.group(1)] = match.group(2)
        elif match := re.fullmatch(r"#\s*([A-Z_][A-Z0-9_]*)=.*", line.strip()):
            commented.add(match.group(1))
    return given, commented


INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, values: dict[str, str]) -> str:
    """compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` (and `-`/`?` without the
    colon), from `values` as deploy/.env would give them; an unsatisfied `?` fails."""
    def one(match: re.Match) -> str:
        name, kind, word = match.groups()
        value = values.get(name)
        unset = value is None or (kind is not None and kind.startswith(":") and value == "")
        if kind and kind.endswith("?"):
            assert not unset, f"compose.yaml needs {name}: {word}"
        if kind and kind.endswith("-") and unset:
            return word
        return value or ""
    assert "$$" not in text, "escaped dollars: not modelled here"
    return INTERPOLATION.sub(one, text)


def deploy_env() -> dict[str, str]:
    """deploy/env.example as an operator fills it in: every empty value given one."""
    given, _ = env_example()
    return {name: value or f"filled-{name.lower().replace('_', '-')}" for name, value in given.items()}


@pytest.fixture(scope="module")
def compose() -> dict:
    """compose.yaml as `docker compose` reads it with a filled-in deploy/.env."""
    return yaml.safe_load(interpolate(COMPOSE.read_text(), deploy_env()))


def test_compose_takes_every_variable_from_deploy_env_or_a_default():
    given, commented = env_example()
    for match in INTERPOLATION.finditer(COMPOSE.read_text()):
        name, kind, _ = match.groups()
        assert name in given or (kind or "").endswith("-"), \
            f"${{{name}}}: neither in deploy/env.example nor given a default"
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD"):  # left empty, compose refuses
        interpolate(COMPOSE.read_text(), {name: value for name, value in given.items()})


def chatbot_services(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items()
            if service.get("build", {}).get("dockerfile") == "Dockerfile"}


def test_every_production_setting_of_the_docs_is_real_and_set_or_listed(stages, compose):
    table = production_table()
    assert len(table) >= 10 and {"CHATBOT_ENV", "CHATBOT_SECRET_KEY", "CHATBOT_DATA_KEY"} <= set(table), table
    assert set(table) <= SETTINGS, f"not settings: {set(table) - SETTINGS}"
    image = stages[1].env()
    environments = [service["environment"] for service in chatbot_services(compose).values()]
    given, commented = env_example()
    for name in table:
        assert (name in image or all(name in environment for environment in environments)
                or name in given or name in commented), f"{name}: not in the image, compose.yaml or deploy/env.example"
    for name in SECRETS:
        assert all(name not in environment for environment in environments), f"{name} in compose.yaml"
        assert not given.get(name), f"deploy/env.example commits a value for {name}"
    assert SECRETS & set(table) <= set(given) | commented  # where an operator finds them to fill in


# --- compose ---------------------------------------------------------------------------------

def test_compose_has_the_services_of_the_docs_built_from_this_dockerfile(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "prepare", "app1", "app2", "nginx"}
    instances = chatbot_services(compose)
    assert set(instances) == {"prepare", "app1", "app2"}
    for service in instances.values():
        assert (COMPOSE.parent / service["build"]["context"]).resolve() == ROOT
        assert service["env_file"] == [".env"]
    doc = DEPLOY_DOC.read_text()
    for name in services:
        assert f"`{name}`" in doc, f"docs/deploy.md does not mention the service {name}"


def test_the_instances_run_the_image_command_on_its_port_with_its_health_check(stages, compose):
    image_command = exec_form(stages[1].one("CMD"))
    port = option(image_command, "--port")
    for name in ("app1", "app2"):
        service = compose["services"][name]
        command = service["command"]
        assert command[:len(image_command)] == image_command, f"{name}: {command}"
        assert "healthcheck" not in service  # the image's HEALTHCHECK, which nginx waits for
        assert service["depends_on"]["prepare"] == {"condition": "service_completed_successfully"}
    assert compose["services"]["nginx"]["depends_on"] == {name: {"condition": "service_healthy"} for name in ("app1", "app2")}
    assert {option(command, "--port") for command in (compose["services"][n]["command"] for n in ("app1", "app2"))} == {port}


def test_prepare_migrates_and_leaves_a_promoted_model_and_faq_index_in_the_shared_home(stages, compose):
    home = stages[1].env()["CHATBOT_HOME"]
    script = " ".join(compose["services"]["prepare"]["command"])
    assert script.index("chatbot db upgrade") < script.index("chatbot faq build-index")
    assert f"{home}/models/promoted.json" in script and "chatbot train" in script
    mounts = {name: service["volumes"] for name, service in chatbot_services(compose).items()}
    assert all(volumes == [f"chatbot-home:{home}"] for volumes in mounts.values()), mounts
    assert "chatbot-home" in compose["volumes"]


def test_nginx_in_compose_fills_every_placeholder_of_the_site_file_and_names_the_instances(stages, compose):
    nginx = compose["services"]["nginx"]
    environment = nginx["environment"]
    placeholders = set(PLACEHOLDER.findall(NGINX_TEMPLATE.read_text()))
    assert placeholders == {name for name in environment if name.startswith("NGINX_")}
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in nginx["volumes"])
    assert mounts["./nginx/chatbot.conf"].startswith("/etc/nginx/templates/")
    assert mounts["./nginx/chatbot.conf"].endswith(".conf.template")  # the image fills *.template
    tls = mounts["./tls"]
    assert environment["NGINX_TLS_CERT"].startswith(tls + "/") and environment["NGINX_TLS_KEY"].startswith(tls + "/")
    port = option(exec_form(stages[1].one("CMD")), "--port")
    upstreams = sorted(value for name, value in environment.items() if name.startswith("NGINX_UPSTREAM_"))
    assert upstreams == [f"app1:{port}", f"app2:{port}"]
    published = {mapping.split(":")[1] for mapping in nginx["ports"]}
    assert published == {environment["NGINX_HTTP_PORT"], environment["NGINX_HTTPS_PORT"]}


def test_the_instances_trust_nginx_and_reach_postgres_and_redis_by_their_services(compose):
    services = compose["services"]
    nginx = services["nginx"]
    address = nginx["networks"]["chatbot"]["ipv4_address"]
    subnet = compose["networks"]["chatbot"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    postgres = services["postgres"]["environment"]
    for name, service in chatbot_services(compose).items():
        environment = service["environment"]
        assert environment["CHATBOT_TRUSTED_PROXIES"] == address, name
        assert environment["CHATBOT_ENV"] == "production", name  # unless deploy/.env says otherwise
        assert environment["CHATBOT_LOG_FORMAT"] == "json", name
        assert environment["CHATBOT_PUBLIC_BASE_URL"] == nginx["environment"]["NGINX_PUBLIC_BASE_URL"], name
        database = urlsplit(environment["CHATBOT_DATABASE_URL"])
        assert database.scheme == "postgresql+psycopg" and database.hostname == "postgres" and database.port == 5432
        assert database.username == postgres["POSTGRES_USER"] and database.path == f"/{postgres['POSTGRES_DB']}"
        assert database.password == postgres["POSTGRES_PASSWORD"] == deploy_env()["POSTGRES_PASSWORD"]
        redis = urlsplit(environment["CHATBOT_REDIS_URL"])
        assert redis.scheme == "redis" and redis.hostname == "redis" and redis.port == 6379
        assert set(service["depends_on"]) >= {"postgres", "redis"}, name


def test_the_docs_say_the_image_was_never_built_here():
    docker = DEPLOY_DOC.read_text().split("## Docker", 1)[1].split("\n## ", 1)[0]
    assert "never been built" in docker and "tests/test_dockerfile.py" in docker
