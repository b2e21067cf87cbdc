#!/bin/sh
# The embedded default: the web server and one Celery worker (beat embedded) on the
# file-system broker. Ctrl-C stops both.
set -eu
cd "$(dirname "$0")/.."
mkdir -p var/celery
.venv/bin/celery -A config worker -B --pool=solo --loglevel=warning \
    --schedule=var/celery/beat-schedule &
worker=$!
cleanup() {
    kill "$worker" 2>/dev/null || true
    wait "$worker" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
echo "Serving http://127.0.0.1:8000 (sign in as admin/admin). Ctrl-C stops."
.venv/bin/python manage.py runserver 127.0.0.1:8000
