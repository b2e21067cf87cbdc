"""deploy/ stays in step with the settings: every variable the settings read is in
the environment template, the units run what the README says, nginx's upload limit
matches the attachment limit. (scripts/prod-smoke.sh runs all of it for real.)"""

import configparser
import re
import runpy
from pathlib import Path

import pytest

from complaints.views.public.forms import MAX_FILES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ["complaints-web.service", "complaints-worker.service", "complaints-beat.service"]
# Read only by the test settings.
TEST_ONLY = {"TEST_CELERY_BROKER_URL", "TEST_EMAIL_URL", "CELERY_TASK_ALWAYS_EAGER"}


def _env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def _names_read_by_the_app() -> set[str]:
    pattern = re.compile(
        r"env(?:\.(?:bool|int|float|list|path|db|cache_url))?\(\s*\"([A-Z][A-Z0-9_]+)\""
    )
    names = set()
    for path in [
        *(ROOT / "config" / "settings").glob("*.py"),
        *(ROOT / "complaints").rglob("*.py"),
    ]:
        names |= set(pattern.findall(path.read_text()))
    # The mailbox settings are read with getattr(settings, "MAIL_IMAP_…").
    mailfetch = (ROOT / "complaints" / "services" / "mailfetch.py").read_text()
    names |= set(re.findall(r"\"(MAIL_IMAP_[A-Z]+)\"", mailfetch))
    return names - TEST_ONLY


def test_env_template_lists_every_setting():
    template = _env_example()
    missing = sorted(_names_read_by_the_app() - set(template))
    assert not missing, f"deploy/env.example lacks {missing}"
    assert template["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert template["DEBUG"] == "false"


def test_env_template_lines_are_plain_assignments():
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line), line


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name)
    return parser


@pytest.mark.parametrize("name", UNITS)
def test_units_run_as_a_dedicated_user_with_the_env_file(name):
    service = _unit(name)["Service"]
    assert service["User"] == "complaints"
    assert service["EnvironmentFile"] == "/etc/complaints/env"
    assert service["WorkingDirectory"] == "/srv/complaints/app"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ExecStart"].startswith("/srv/complaints/venv/bin/")


def test_the_web_unit_uses_the_gunicorn_config():
    exec_start = _unit("complaints-web.service")["Service"]["ExecStart"]
    assert "--config deploy/gunicorn.conf.py config.wsgi" in exec_start


def test_beat_keeps_its_schedule_in_its_state_directory():
    service = _unit("complaints-beat.service")["Service"]
    assert service["StateDirectory"] == "complaints"
    assert "--schedule /var/lib/complaints/" in service["ExecStart"]


def test_gunicorn_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["workers"] == 3
    assert config["bind"] == "127.0.0.1:8000"
    assert config["control_socket_disable"] is True
    assert "%({x-request-id}i)s" in config["access_log_format"]

    monkeypatch.setenv("GUNICORN_WORKERS", "")
    assert runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["workers"] >= 3


def test_nginx_upload_limit_matches_the_attachment_limit():
    conf = (DEPLOY / "nginx" / "complaints.conf").read_text()
    limit = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    per_file = int(_env_example()["ATTACHMENT_MAX_MB"])
    assert limit == MAX_FILES * per_file + 5


def test_nginx_sends_the_proxy_headers_the_settings_trust():
    conf = (DEPLOY / "nginx" / "complaints.conf").read_text()
    for header in ("X-Forwarded-Proto $scheme", "X-Real-IP $remote_addr", "X-Forwarded-For"):
        assert f"proxy_set_header {header}" in conf
    assert _env_example()["CLIENT_IP_HEADER"] == "HTTP_X_REAL_IP"
    # Uploads are served by the app (it checks who may see them), never by nginx.
    assert re.search(r"location /media/ \{\s*return 404;", conf)
