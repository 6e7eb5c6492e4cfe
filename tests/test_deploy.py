"""deploy/: what cannot run here (Docker, Kubernetes, systemd) is parsed and cross-checked; what can run, runs.

The probe path is requested from a real `anshin telegram --webhook` process (against the fake Bot API), and
the real nginx.conf is checked with `nginx -t` and then put in front of that worker. nginx tests skip when
nginx is absent, except in CI (`CI` set), where they fail: `.ci/run` installs nginx.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FIXTURE_CONTENT, PROJECT
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.updates import Updates
from tests.system import require_tool

DEPLOY = PROJECT / "deploy"
SECRET = "deploy-secret_0123456789abcdef"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TOKEN_SHAPE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")  # what bot/cli accepts as a token


def load_yaml(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def compose() -> dict[str, Any]:
    [doc] = load_yaml(DEPLOY / "compose.yaml")
    return doc


def manifests() -> dict[str, dict[str, Any]]:
    docs = [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for doc in load_yaml(path)]
    kinds = [doc["kind"] for doc in docs]
    assert len(kinds) == len(set(kinds)), kinds
    return {doc["kind"]: doc for doc in docs}


def container() -> dict[str, Any]:
    [only] = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert isinstance(only, dict)
    return only


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def dockerfile(instruction: str) -> list[str]:
    return [args for name, args in dockerfile_instructions() if name == instruction]


def docker_cmd() -> list[str]:
    [cmd] = dockerfile("CMD")
    value = json.loads(cmd)
    assert isinstance(value, list)
    return [str(part) for part in value]


def healthcheck_command() -> list[str]:
    [check] = dockerfile("HEALTHCHECK")
    value = json.loads(check.split(" CMD ", 1)[1])
    assert isinstance(value, list)
    return [str(part) for part in value]


def healthcheck_path() -> str:
    match = re.search(r"'/([^']*)'", healthcheck_command()[-1])
    assert match, "the HEALTHCHECK names no path"
    return "/" + match.group(1)


def probe_paths() -> dict[str, str]:
    c = container()
    return {"readiness": c["readinessProbe"]["httpGet"]["path"], "liveness": c["livenessProbe"]["httpGet"]["path"],
            "HEALTHCHECK": healthcheck_path()}


def test_every_probe_uses_the_health_path_not_the_counters() -> None:
    assert probe_paths() == dict.fromkeys(("readiness", "liveness", "HEALTHCHECK"), "/healthz")


def readme_deploy() -> str:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Deploy\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, "README has no '## Deploy' section"
    return match.group(1)


# --- settings: env.example lists exactly what the CLI reads -------------------------------------------------


def settings_read(source_dir: Path) -> set[str]:
    """Names passed as a constant to os.environ.get/[...], os.getenv, or bot/cli's setting/url_setting."""
    names: set[str] = set()
    for path in source_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            key: ast.expr | None = None
            if isinstance(node, ast.Call) and node.args:
                func = ast.unparse(node.func)
                if func in ("os.environ.get", "os.getenv", "environ.get", "getenv", "setting", "url_setting"):
                    key = node.args[0]
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
                key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


def settings_documented(text: str) -> set[str]:
    """NAME=value lines, set or commented out (`#NAME=default`)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.M))


def settings_mismatch(documented: set[str], read: set[str]) -> tuple[set[str], set[str]]:
    return documented - read, read - documented


def test_env_example_documents_exactly_the_settings_the_cli_reads() -> None:
    read = settings_read(PROJECT / "bot")
    documented = settings_documented((PROJECT / "env.example").read_text(encoding="utf-8"))
    not_read, undocumented = settings_mismatch(documented, read)
    assert not not_read, f"env.example documents settings nothing reads: {sorted(not_read)}"
    assert not undocumented, f"settings read by the CLI but missing from env.example: {sorted(undocumented)}"


def test_the_settings_check_can_fail(tmp_path: Path) -> None:
    source = tmp_path / "bot"
    source.mkdir()
    (source / "cli.py").write_text('import os\nos.environ.get("ANSHIN_A")\nsetting("ANSHIN_B", "1")\n'
                                   'os.environ["ANSHIN_C"]\nos.environ.get(name)\n', encoding="utf-8")
    assert settings_read(source) == {"ANSHIN_A", "ANSHIN_B", "ANSHIN_C"}
    documented = settings_documented("# comment\nANSHIN_A=\n#ANSHIN_B=1\n#ANSHIN_TYPO=x\n")
    assert settings_mismatch(documented, settings_read(source)) == ({"ANSHIN_TYPO"}, {"ANSHIN_C"})
    assert {"ANSHIN_TELEGRAM_TOKEN", "ANSHIN_WEBHOOK_SECRET", "ANSHIN_HOST", "ANSHIN_PORT"} <= settings_read(
        PROJECT / "bot")  # the scan sees the real settings


def test_an_unfilled_copy_of_env_example_does_not_start() -> None:
    """`cp env.example deploy/env` without filling it in: one line naming the token, exit 2."""
    env: dict[str, str | None] = dict.fromkeys(settings_read(PROJECT / "bot"))  # None: unset
    env.update(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (PROJECT / "env.example").read_text(encoding="utf-8"), re.M))
    result = CliRunner().invoke(main, docker_cmd()[1:], env=env)
    assert result.exit_code == 2
    assert "ANSHIN_TELEGRAM_TOKEN" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- Dockerfile -----------------------------------------------------------------------------------------


def test_dockerfile_is_slim_non_root_and_bakes_in_no_secret() -> None:
    bases = [args.split()[0] for args in dockerfile("FROM")]
    assert bases and all(base == "python:3.11-slim" for base in bases)
    [user] = dockerfile("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "USER must be a numeric non-root uid (Kubernetes runAsNonRoot)"
    for name, args in dockerfile_instructions():
        if name in ("ENV", "ARG", "LABEL"):
            assert "TOKEN" not in args and "SECRET" not in args, f"{name} {args}"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "**" in ignored, "the build context must exclude everything by default (env files, certs, .venv)"
    for args in dockerfile("COPY"):
        if args.startswith("--from="):
            continue
        *sources, _ = args.split()
        for source in sources:
            assert f"!{source}" in ignored, f"COPY {source} is excluded by Dockerfile.dockerignore"


def test_dockerfile_installs_and_runs_the_way_readme_deploy_says() -> None:
    deploy = readme_deploy()
    readme_lines = {line.strip().removeprefix("sudo ") for line in deploy.splitlines()}
    installs = [args for args in dockerfile("RUN") if "pip install" in args]
    assert installs, "the Dockerfile installs nothing with pip"
    for run in installs:
        for step in (step.strip() for step in run.split("&&")):
            assert step in readme_lines, f"Dockerfile step {step!r} is not in README's Deploy section"
            assert "-e" not in shlex.split(step), "the image installs the wheel, not an editable checkout"
    assert " ".join(docker_cmd()) in deploy
    assert docker_cmd() == ["anshin", "telegram", "--webhook"]
    help_text = CliRunner().invoke(main, [*docker_cmd()[1:], "--help"])
    assert help_text.exit_code == 0 and "--webhook" in help_text.stdout


# --- compose, nginx, Prometheus -------------------------------------------------------------------------


def workers() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in compose()["services"].items() if name.startswith("worker")}


def line_workers() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in compose()["services"].items() if name.startswith("line-")}


def test_compose_runs_workers_behind_nginx_with_prometheus_and_secrets_from_env_file() -> None:
    services = compose()["services"]
    assert len(workers()) >= 2 and {"nginx", "prometheus"} <= set(services)
    for name, spec in workers().items():
        build = spec["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile", name
        assert spec["command"] == docker_cmd(), name
        assert spec["env_file"] == "env", name
        environment = spec["environment"]
        assert environment["ANSHIN_HOST"] == "0.0.0.0", f"{name} must listen beyond its own loopback"
        assert not {"ANSHIN_TELEGRAM_TOKEN", "ANSHIN_WEBHOOK_SECRET"} & set(environment), "secrets only in env"
        assert spec["read_only"] is True and "ports" not in spec, name
    assert any(v.startswith("./nginx.conf:/etc/nginx/nginx.conf") for v in services["nginx"]["volumes"])
    prometheus = services["prometheus"]
    assert any(v.startswith("./prometheus.yml:/etc/prometheus/prometheus.yml") for v in prometheus["volumes"])
    assert all("9090" not in port or port.startswith("127.0.0.1:") for port in prometheus["ports"])
    ignored = (DEPLOY / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/env" in ignored and "/certs/" in ignored


def test_nginx_upstream_and_prometheus_targets_are_the_compose_workers() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    ports: set[str] = set()
    for upstream_name, group in (("anshin_workers", workers()), ("anshin_line_workers", line_workers())):
        [upstream] = re.findall(rf"upstream {upstream_name} \{{(.*?)\}}", nginx, re.S)
        servers = re.findall(r"^\s*server ([\d.]+):(\d+)", upstream, re.M)
        port = {str(spec["environment"]["ANSHIN_PORT"]) for spec in group.values()}
        addresses = {spec["networks"]["anshin"]["ipv4_address"] for spec in group.values()}
        assert {p for _, p in servers} == port and len(port) == 1
        assert sorted(a for a, _ in servers) == sorted(addresses)
        ports |= port
    [job] = load_yaml(DEPLOY / "prometheus.yml")[0]["scrape_configs"]
    [static] = job["static_configs"]
    [only_port] = ports
    assert sorted(static["targets"]) == sorted(f"{name}:{only_port}" for name in (*workers(), *line_workers()))
    assert job["metrics_path"] == "/metrics"


def test_nginx_passes_the_secret_header_limits_bodies_and_hides_metrics() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Telegram-Bot-Api-Secret-Token $http_x_telegram_bot_api_secret_token;" in nginx
    assert re.search(r"^\s*client_max_body_size 1m;", nginx, re.M)
    assert re.search(r"location = /metrics \{\s*return 404;", nginx)


def duration(text: str) -> float:
    """An nginx/compose/systemd duration such as 60s, 15s, 1m30s or a bare number of seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", text.strip())
    assert parts and "".join(n + u for n, u in parts) == text.strip(), text
    return sum(float(number) * units[unit or "s"] for number, unit in parts)


def test_the_webhook_deadline_and_the_shutdown_fit_the_deploy_timeouts() -> None:
    """A worker answers every update before nginx's proxy_read_timeout (else nginx passes the same update to
    another worker: answered twice), and stops after SIGTERM before Docker, Kubernetes or systemd kill it."""
    from bot.channels.delivery import OVERRUN, SHUTDOWN_GRACE, WEBHOOK_DEADLINE

    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    [telegram] = re.findall(r"location / \{(.*?)\n        \}", nginx, re.S)  # (LINE's is /line/)
    [read_timeout] = re.findall(r"^\s*proxy_read_timeout (\S+);", telegram, re.M)
    assert duration(read_timeout) >= WEBHOOK_DEADLINE + OVERRUN + 5, "answered before nginx gives up, with margin"
    assert re.search(r"proxy_next_upstream [^;]*\bhttp_503\b", telegram), "a stopping worker's 503 goes on"
    stops = {"compose stop_grace_period": duration(str(compose()["x-worker"]["stop_grace_period"])),
             "k8s terminationGracePeriodSeconds": float(
                 manifests()["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]),
             "systemd TimeoutStopSec": duration(unit_settings((DEPLOY / "anshin.service").read_text(
                 encoding="utf-8"))["TimeoutStopSec"][0])}
    for name, seconds in stops.items():
        assert seconds >= SHUTDOWN_GRACE + OVERRUN + 2, f"{name} {seconds} s: a worker needs up to " \
            f"{SHUTDOWN_GRACE + OVERRUN} s to stop"
    assert duration("1m30s") == 90 and duration("500ms") == 0.5  # the reading of durations can tell them apart


def need(tool: str) -> str:
    return require_tool(tool)


def nginx_prefix(tmp_path: Path, conf: str) -> Path:
    """A prefix holding nginx.conf and a throwaway self-signed certificate where the config looks for it."""
    (tmp_path / "certs").mkdir(exist_ok=True)
    if not (tmp_path / "certs" / "privkey.pem").exists():
        subprocess.run([need("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", str(tmp_path / "certs" / "privkey.pem"),
                        "-out", str(tmp_path / "certs" / "fullchain.pem")], check=True, capture_output=True)
    (tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
    return tmp_path


def nginx_test(prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([need("nginx"), "-t", "-e", "stderr", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
                           "-g", f"pid {prefix}/nginx.pid;"], capture_output=True, text=True, timeout=30)


def test_nginx_conf_passes_nginx_t(tmp_path: Path) -> None:
    result = nginx_test(nginx_prefix(tmp_path, (DEPLOY / "nginx.conf").read_text(encoding="utf-8")))
    assert result.returncode == 0, result.stderr


def test_nginx_t_can_fail(tmp_path: Path) -> None:
    broken = (DEPLOY / "nginx.conf").read_text(encoding="utf-8").replace("client_max_body_size 1m;",
                                                                       "client_max_body_size 1m")
    result = nginx_test(nginx_prefix(tmp_path, broken))
    assert result.returncode != 0 and "nginx.conf" in result.stderr


# --- the real webhook worker: probe paths, HEALTHCHECK, and nginx in front of it ------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def webhook_worker() -> AsyncIterator[tuple[int, FakeBotAPI]]:
    """`anshin telegram --webhook` (the image's CMD, as `python -m bot`) against the fake Bot API."""
    api = FakeBotAPI()
    await api.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT),
               ANSHIN_WEBHOOK_URL="https://bot.example.org/telegram/hook", ANSHIN_WEBHOOK_SECRET=SECRET,
               ANSHIN_HOST="127.0.0.1", ANSHIN_PORT=str(port), ANSHIN_CAMPAIGNS="spring2027")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *docker_cmd()[1:], env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await api.wait_for("setWebhook", 1, timeout=20)
        yield port, api
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=15)
        await api.stop()
        assert process.returncode == 0, err.decode()


async def test_every_probe_path_is_served_by_the_real_webhook_worker() -> None:
    paths = probe_paths()
    async with webhook_worker() as (port, _), aiohttp.ClientSession() as client:
        for probe, path in paths.items():
            async with client.get(f"http://127.0.0.1:{port}{path}") as response:
                assert response.status == 200, f"{probe} probe {path} gets {response.status}"
                assert await response.text() == "ok"
        async with client.get(f"http://127.0.0.1:{port}/no-such-probe") as response:
            assert response.status == 404  # a path the worker does not serve fails the same check


async def test_the_dockerfile_healthcheck_command_passes_on_a_live_worker_and_fails_without_one() -> None:
    command = [sys.executable, *healthcheck_command()[1:]]  # the image's python3

    async def health(port: int) -> int:
        env = {**os.environ, "ANSHIN_PORT": str(port)}
        process = await asyncio.create_subprocess_exec(*command, env=env, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(process.wait(), timeout=15)

    async with webhook_worker() as (port, _):
        assert await health(port) == 0
    assert await health(free_port()) != 0


@contextmanager
def nginx_in_front_of(worker_port: int, tmp_path: Path) -> Iterator[int]:
    """The real nginx.conf with two local edits: listen on a free port, and send the upstream to the worker."""
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    port = free_port()
    conf, listens = re.subn(r"listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;", conf)
    conf, servers = re.subn(r"server [\d.]+:\d+", f"server 127.0.0.1:{worker_port}", conf)
    assert listens == 1 and servers == len(workers()) + len(line_workers())
    conf = conf.replace("access_log /dev/stdout anshin;", "access_log off;")
    prefix = nginx_prefix(tmp_path, conf)
    assert nginx_test(prefix).returncode == 0
    process = subprocess.Popen([need("nginx"), "-e", "stderr", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
                                "-g", f"pid {prefix}/nginx.pid; daemon off;"], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=10)


async def test_nginx_forwards_telegrams_posts_with_the_secret_and_refuses_the_rest(tmp_path: Path) -> None:
    need("nginx")
    update = Updates().text("/help")
    async with webhook_worker() as (worker_port, api):
        with nginx_in_front_of(worker_port, tmp_path) as port:
            base = f"https://127.0.0.1:{port}"
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as client:
                async with client.post(f"{base}/telegram/hook", json=update) as response:
                    assert response.status == 401  # reached the worker, which wants the secret
                async with client.post(f"{base}/telegram/hook", json=update,
                                       headers={SECRET_HEADER: SECRET}) as response:
                    assert response.status == 200
                await api.wait_for("sendMessage", 1, timeout=10)
                async with client.get(f"{base}/metrics") as response:
                    assert response.status == 404
                async with client.get(f"{base}/telegram/hook") as response:
                    assert response.status == 403
                async with client.post(f"{base}/telegram/hook", data=b"{" + b" " * (1024 * 1024 + 1) + b"}",
                                       headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}) as response:
                    assert response.status == 413


# --- LINE workers (compose profile "line") behind the same nginx ---------------------------------------------


def test_compose_line_workers_run_anshin_line_on_the_path_nginx_forwards() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    [location] = re.findall(r"location (/line/) \{", nginx)
    assert len(line_workers()) >= 2
    for name, spec in line_workers().items():
        assert spec["command"] == ["anshin", "line"] and spec["profiles"] == ["line"], name
        assert spec["env_file"] == "env" and spec["read_only"] is True and "ports" not in spec, name
        environment = spec["environment"]
        assert environment["ANSHIN_HOST"] == "0.0.0.0"
        assert environment["ANSHIN_LINE_WEBHOOK_PATH"].startswith(location)
        assert not {"ANSHIN_LINE_CHANNEL_SECRET", "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN"} & set(environment)
    assert "proxy_set_header X-Line-Signature $http_x_line_signature;" in nginx


@asynccontextmanager
async def line_worker() -> AsyncIterator[tuple[int, Any]]:
    """`anshin line` (the LINE workers' command, as `python -m bot`) against the fake LINE API."""
    from tests.fakes.line_api import ACCESS_TOKEN, FakeLineAPI
    from tests.fakes.line_events import CHANNEL_SECRET

    api = FakeLineAPI()
    await api.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    [spec] = list(line_workers().values())[:1]
    env.update(ANSHIN_LINE_CHANNEL_SECRET=CHANNEL_SECRET, ANSHIN_LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN,
               ANSHIN_LINE_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT), ANSHIN_HOST="127.0.0.1",
               ANSHIN_PORT=str(port), ANSHIN_LINE_WEBHOOK_PATH=spec["environment"]["ANSHIN_LINE_WEBHOOK_PATH"])
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *spec["command"][1:], env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        for _ in range(300):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.05)
        yield port, api
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=15)
        await api.stop()
        assert process.returncode == 0, err.decode()


async def test_nginx_forwards_lines_signed_posts_to_the_line_workers(tmp_path: Path) -> None:
    from tests.fakes.line_events import LineUser, body, encode, sign

    need("nginx")
    raw = encode(body(LineUser().text("/help")))
    path = line_workers()["line-1"]["environment"]["ANSHIN_LINE_WEBHOOK_PATH"]
    async with line_worker() as (worker_port, api):
        with nginx_in_front_of(worker_port, tmp_path) as port:
            base = f"https://127.0.0.1:{port}"
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as client:
                async with client.post(f"{base}{path}", data=raw) as response:
                    assert response.status == 401  # reached the worker, which wants the signature
                async with client.post(f"{base}{path}", data=raw, headers={"X-Line-Signature": sign(raw)}) as response:
                    assert response.status == 200
                async with client.get(f"{base}{path}") as response:
                    assert response.status == 403
        assert len(api.replies()) == 1 and api.problems() == []


# --- Kubernetes -----------------------------------------------------------------------------------------------


def test_k8s_manifests_are_a_deployment_service_hpa_and_a_placeholder_secret() -> None:
    docs = manifests()
    assert set(docs) == {"Deployment", "Service", "HorizontalPodAutoscaler", "Secret"}
    deployment, service, hpa, secret = (docs[k] for k in ("Deployment", "Service", "HorizontalPodAutoscaler", "Secret"))
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": deployment["apiVersion"], "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
    values = secret["stringData"]
    assert values and all("REPLACE_ME" in v and not TOKEN_SHAPE.search(v) for v in values.values())
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in ports


def test_k8s_deployment_probes_secrets_and_security_context() -> None:
    c, pod = container(), manifests()["Deployment"]["spec"]["template"]["spec"]
    assert c["args"] == docker_cmd()
    env = {e["name"]: e for e in c["env"]}
    assert env["ANSHIN_HOST"]["value"] == "0.0.0.0"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert ports[c[probe]["httpGet"]["port"]] == int(env["ANSHIN_PORT"]["value"]), probe
    secret = manifests()["Secret"]
    for name in ("ANSHIN_TELEGRAM_TOKEN", "ANSHIN_WEBHOOK_SECRET"):
        assert "value" not in env[name], f"{name} must come from a Secret"
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    assert set(env) <= settings_read(PROJECT / "bot"), "the Deployment sets a variable the CLI does not read"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == dockerfile("USER")[0].split(":")[0]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(c["resources"]["requests"]) and "memory" in c["resources"]["limits"]


# --- systemd ----------------------------------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for key, value in re.findall(r"^([A-Za-z]+)=(.*)$", text, re.M):
        settings.setdefault(key, []).append(value)
    return settings


def verify_unit(text: str, tmp_path: Path) -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:  # not in APT_PACKAGES: it needs systemd, which containers lack; the unit's text is still checked
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    anshin = Path(sys.executable).with_name("anshin")
    unit = tmp_path / "anshin.service"  # the real unit, with ExecStart pointing at this machine's anshin
    unit.write_text(text.replace("/opt/anshin/bin/anshin", str(anshin)), encoding="utf-8")
    result = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    return (result.stdout + result.stderr).strip() + ("" if result.returncode == 0 else f" (exit {result.returncode})")


def test_systemd_unit_is_hardened_and_runs_the_image_command() -> None:
    s = unit_settings((DEPLOY / "anshin.service").read_text(encoding="utf-8"))
    assert s["ExecStart"] == ["/opt/anshin/bin/" + " ".join(docker_cmd())]
    assert s.get("DynamicUser") == ["yes"] or s.get("User")
    assert s["EnvironmentFile"] and s["Restart"] == ["on-failure"]
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes")):
        assert s.get(key) == [value], key


def test_systemd_unit_verifies_and_the_check_can_fail(tmp_path: Path) -> None:
    text = (DEPLOY / "anshin.service").read_text(encoding="utf-8")
    assert verify_unit(text, tmp_path) == ""
    assert "NoNewPrivilege" in verify_unit(text.replace("NoNewPrivileges=", "NoNewPrivilege="), tmp_path)
