"""The deployment files parse, and every command they run exists in the project."""

import importlib
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _docker_commands() -> list[list[str]]:
    text = (DEPLOY / "Dockerfile").read_text()
    commands = []
    for match in re.finditer(r"^CMD (\[.*\])$", text, re.M):
        commands.append(yaml.safe_load(match.group(1)))
    for match in re.finditer(r"^RUN (.+?)(?<!\\)$", text, re.M | re.S):
        line = match.group(1).replace("\\\n", " ")
        for part in re.split(r"&&|;", line):
            words = shlex.split(part)
            while words and "=" in words[0]:
                words.pop(0)  # environment assignments
            if words:
                commands.append(words)
    return commands


def _yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _compose_commands() -> list[list[str]]:
    compose = _yaml_documents(DEPLOY / "compose.yaml")[0]
    return [svc["command"] for svc in compose["services"].values() if "command" in svc]


def _k8s_commands() -> list[list[str]]:
    commands = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in _yaml_documents(path):
            spec = doc.get("spec", {})
            pod = spec.get("template", {}).get("spec", {})
            for container in pod.get("containers", []):
                commands.append(container["command"])
    return commands


ALL = _docker_commands() + _compose_commands() + _k8s_commands()


def _check_project_command(argv: list[str]) -> None:
    program = argv[0]
    if program == "openbook":
        assert argv[1] in get_commands(), f"openbook has no command {argv[1]!r}"
    elif program == "gunicorn":
        module, _, attr = argv[1].partition(":")
        assert hasattr(importlib.import_module(module), attr or "application")
        if "--config" in argv:
            assert (ROOT / argv[argv.index("--config") + 1]).exists()
    elif program == "celery":
        assert argv[1:3] == ["-A", "openbook"]
        assert importlib.import_module("openbook.celery").app.main == "openbook"
        assert argv[3] in {"worker", "beat"}


@pytest.mark.parametrize("argv", [c for c in ALL if c[0] in {"openbook", "gunicorn", "celery"}])
def test_every_project_command_exists(argv):
    _check_project_command(argv)


def test_deploy_runs_web_worker_beat_and_migrations():
    programs = {" ".join(c[:4]) for c in _compose_commands() + _k8s_commands()}
    assert any(p.startswith("gunicorn openbook.wsgi") for p in programs)
    assert any(p.startswith("celery -A openbook worker") for p in programs)
    assert any(p.startswith("celery -A openbook beat") for p in programs)
    assert any(p.startswith("openbook migrate") for p in programs)


def test_dockerfile_copies_only_what_exists_and_runs_as_non_root():
    text = (DEPLOY / "Dockerfile").read_text()
    for match in re.finditer(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _ = match.group(1).split()
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert text.count("FROM ") >= 3  # multi-stage


def test_the_image_holds_every_app_of_ours():
    """An app left out of the image fails at start-up, not in the tests that run from the
    checkout."""
    from django.conf import settings

    text = (DEPLOY / "Dockerfile").read_text()
    copied = {m.group(1) for m in re.finditer(r"^COPY (\w+) \1$", text, re.M)}
    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()}
    assert ours and ours <= copied, f"not copied into the image: {sorted(ours - copied)}"


def test_makefile_targets_used_by_docker_exist():
    makefile = (ROOT / "Makefile").read_text()
    for argv in _docker_commands():
        if argv[0] == "make":
            for target in argv[1:]:
                assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target


def test_beat_is_a_singleton_and_workers_autoscale():
    docs = {
        (d["kind"], d["metadata"]["name"]): d
        for path in (DEPLOY / "k8s").glob("*.yaml")
        for d in _yaml_documents(path)
    }
    beat = docs[("Deployment", "openbook-beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    hpa = docs[("HorizontalPodAutoscaler", "openbook-worker")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "openbook-worker"
    assert ("Job", "openbook-migrate") in docs


def test_env_example_names_every_setting_the_code_reads():
    settings_text = (ROOT / "openbook" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"', settings_text))
    example = set(re.findall(r"^([A-Z_]+)=", (DEPLOY / ".env.example").read_text(), re.M))
    # Settings that only tests or the embedded runtime set, and the optional tuning knobs.
    internal = {
        "TEST_DATABASE_NAME", "CACHE_KEY_PREFIX", "CELERY_QUEUE", "STATICFILES_STORAGE",
        "WHITENOISE_USE_FINDERS", "PASSWORD_HASHERS", "HEALTHZ_WORKER_TIMEOUT",
        "CONN_MAX_AGE", "SESSION_COOKIE_AGE", "SECURE_HSTS_SECONDS", "STATIC_ROOT",
        "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "API_THROTTLE_ANON", "API_THROTTLE_USER",
        "OPENBOOK_HOME", "CELERY_VISIBILITY_TIMEOUT",
    }  # fmt: skip
    missing = read - example - internal
    assert not missing, f"deploy/.env.example does not mention {sorted(missing)}"


def test_collectstatic_works_with_the_production_storage(tmp_path, settings):
    """`openbook serve`/`demo` and the image collect static files with the hashed, compressed
    storage, which refuses any file that names one missing (the tests otherwise use plain
    storage, so this is the one place that would notice)."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()


def _nice_of(pid: int) -> int:
    # /proc/<pid>/stat: the name is in parentheses and may hold spaces; nice is the 17th
    # field after it.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def _children_of(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return out


def test_gunicorn_runs_its_workers_at_the_priority_it_is_given():
    """GUNICORN_NICE lowers the workers' CPU priority and not the master's (a page pool
    beside a save pool, deploy/README.md)."""
    env = os.environ | {"GUNICORN_BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "2",
                        "GUNICORN_NICE": "7"}  # fmt: skip
    gunicorn = Path(sys.executable).parent / "gunicorn"
    config = str(DEPLOY / "gunicorn.conf.py")
    master = subprocess.Popen(  # noqa: S603  (our own server, fixed arguments)
        [str(gunicorn), "openbook.wsgi:application", "--config", config],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wanted = min(19, os.nice(0) + 7)  # nice adds to what the tests run at
    try:
        deadline = time.monotonic() + 120
        workers: dict[int, int] = {}
        while time.monotonic() < deadline and master.poll() is None:
            workers = {pid: _nice_of(pid) for pid in _children_of(master.pid)}
            if len(workers) == 2 and set(workers.values()) == {wanted}:
                break
            time.sleep(0.2)
        assert workers and set(workers.values()) == {wanted}, workers
        assert _nice_of(master.pid) == os.nice(0)
    finally:
        master.terminate()
        try:
            master.wait(timeout=60)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait(timeout=60)
