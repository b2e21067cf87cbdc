"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

Every value can be changed from the environment (the systemd unit reads
/etc/complaints/env), so this file stays as it is in the repository.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# nginx on the same machine is the only client; never listen on a public address.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Synchronous workers: the app talks to PostgreSQL with blocking calls. 2 × cores + 1
# is the usual starting point; each worker keeps its own database connection
# (CONN_MAX_AGE) and loads the Chinese dictionary once (~1.5 s, ~100 MB).
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "sync"

# A request taking longer than this is killed and logged (nginx gives up at 60 s).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps connections to us open (upstream keepalive): a little longer than 0.
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak never grows.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Trust X-Forwarded-* only from nginx on this machine.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs on stdout/stderr: journald (or the caller) keeps them. The request id is the
# one nginx sets ($request_id, proxy_set_header X-Request-ID), so one request can
# be followed from nginx's log to ours.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = (
    '%({x-real-ip}i)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s ua="%(a)s" pid=%(p)s'
)
proc_name = "complaints-web"

# gunicorn's control socket (for `gunicornc`) is off: its default place is the home
# directory, read-only under the systemd unit. Set a path to have one.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
