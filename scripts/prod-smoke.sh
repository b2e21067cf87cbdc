#!/usr/bin/env bash
# The production smoke test: the service as deploy/ describes it, with real services.
#
# PostgreSQL and Redis (local), gunicorn started with deploy/gunicorn.conf.py, a
# Celery worker and beat started with the command lines of deploy/systemd/*.service,
# nginx with deploy/nginx/complaints.conf (only paths and ports changed) and a
# self-signed certificate on 127.0.0.1, an SMTP sink; the environment comes from
# deploy/env.example with the values filled in. Then a complaint goes in through the
# public form over HTTPS, its acknowledgment reaches the sink through the worker,
# beat has the worker run the SLA sweep, /healthz reports the database, broker and
# worker, nginx serves the static files with their cache header. Everything started
# here is stopped at the end, whatever happens (trap on EXIT).
#
# Needs root (apt-get, nginx as www-data). Idempotent; bounded (about 2 minutes).
# Ports and names can be changed from the environment (see the defaults below).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

VENV=${VENV:-$ROOT/.venv}
PG=${SMOKE_PG:-postgres://postgres@127.0.0.1:5432}
DB=${SMOKE_DB:-complaints_smoke}
DB_ROLE=${SMOKE_DB_ROLE:-complaints_smoke}
REDIS=${SMOKE_REDIS:-redis://127.0.0.1:6379}
BROKER_DB=${SMOKE_BROKER_DB:-13}
CACHE_DB=${SMOKE_CACHE_DB:-14}
HTTPS_PORT=${SMOKE_HTTPS_PORT:-8443}
HTTP_PORT=${SMOKE_HTTP_PORT:-8080}
WEB_PORT=${SMOKE_WEB_PORT:-18000}
SMTP_PORT=${SMOKE_SMTP_PORT:-2525}
SITE="https://127.0.0.1:${HTTPS_PORT}"

started=$(date +%s)
log() { printf '%s +%3ss  %s\n' "$(date '+%H:%M:%S')" "$(($(date +%s) - started))" "$*"; }
step() { printf '\n'; log "== $*"; }
fail() {
    log "FAIL: $*"
    exit 1
}

if [ "$(id -u)" != 0 ]; then
    echo "prod-smoke: run as root (it installs nginx and runs it as www-data)" >&2
    exit 2
fi

WORK=$(mktemp -d /tmp/complaints-smoke.XXXXXX)
chmod 755 "$WORK" # nginx's workers (www-data) read the static files below it
mkdir -p "$WORK"/{static,media,mail/tmp,mail/new,mail/cur,state,tls,logs,nginx/tmp}

names=()
pids=()
ok=0

# Start a command in its own process group: stopping the group stops its children too
# (gunicorn's workers, Celery's pool, nginx's workers).
start() {
    local name=$1
    shift
    setsid "$@" >"$WORK/logs/$name.log" 2>&1 </dev/null &
    names+=("$name")
    pids+=("$!")
    log "started $name (pid $!): $*"
}

alive() { kill -0 "$1" 2>/dev/null; }

stop_all() {
    local i pid name
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid=${pids[i]}
        name=${names[i]}
        kill -TERM -- "-$pid" 2>/dev/null || continue
        for _ in $(seq 1 100); do # up to 20 s: warm shutdowns finish their work
            pgrep -g "$pid" >/dev/null || break
            sleep 0.2
        done
        if pgrep -g "$pid" >/dev/null; then
            log "$name did not stop in 20 s: killed"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
        log "stopped $name"
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [ "$ok" != 1 ] && [ -d "$WORK/logs" ]; then
        for f in "$WORK"/logs/*.log "$WORK"/nginx/*.log; do
            [ -s "$f" ] || continue
            printf '\n----- last lines of %s\n' "$f"
            tail -n 40 "$f"
        done
    fi
    step "stopping everything"
    stop_all
    local left=0 pid
    for pid in "${pids[@]}"; do
        if pgrep -g "$pid" >/dev/null; then
            log "left behind: process group $pid"
            left=1
        fi
    done
    drop_database
    redis-cli -u "$REDIS/$BROKER_DB" flushdb >/dev/null 2>&1
    redis-cli -u "$REDIS/$CACHE_DB" flushdb >/dev/null 2>&1
    rm -rf "$WORK"
    if [ "$left" = 1 ]; then
        status=1
    fi
    if [ "$status" = 0 ] && [ "$ok" = 1 ]; then
        log "production smoke test passed; nothing left running"
    else
        log "production smoke test FAILED"
        [ "$status" = 0 ] && status=1
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drop_database() {
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ${DB}_restored WITH (FORCE)" >/dev/null 2>&1
    psql "$PG/postgres" -qc "DROP ROLE IF EXISTS $DB_ROLE" >/dev/null 2>&1
}

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
    local limit=$1 what=$2
    shift 2
    local until=$(($(date +%s) + limit))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$until" ] || fail "$what: not within ${limit} s"
        sleep 0.5
    done
    log "$what"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

step "system packages"
need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    # Installing nginx must not start Debian's default site: services stay down
    # during the install (the standard policy-rc.d switch), unless one was there.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f "$policy"
fi
log "$(nginx -v 2>&1), $(openssl version)"
[ -x "$VENV/bin/gunicorn" ] || fail "no virtualenv at $VENV (run make setup)"

step "services and ports"
pg_isready -q -d "$PG/postgres" || fail "PostgreSQL is not reachable at $PG"
[ "$(redis-cli -u "$REDIS/$BROKER_DB" ping)" = PONG ] || fail "Redis is not reachable at $REDIS"
for port in "$HTTPS_PORT" "$HTTP_PORT" "$WEB_PORT" "$SMTP_PORT"; do
    port_free "$port" || fail "port $port is in use (set SMOKE_*_PORT)"
done
log "PostgreSQL and Redis answer; ports $HTTPS_PORT $HTTP_PORT $WEB_PORT $SMTP_PORT are free"

step "a fresh database owned by its own role, and empty Redis databases"
drop_database
# As the README does: an unprivileged role owning the database (the migrations
# create the pg_trgm extension, trusted since PostgreSQL 13).
DB_PASSWORD=$(openssl rand -hex 16)
psql "$PG/postgres" -qc "CREATE ROLE $DB_ROLE LOGIN PASSWORD '$DB_PASSWORD'"
psql "$PG/postgres" -qc "CREATE DATABASE $DB OWNER $DB_ROLE TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8'"
redis-cli -u "$REDIS/$BROKER_DB" flushdb >/dev/null
redis-cli -u "$REDIS/$CACHE_DB" flushdb >/dev/null
log "database $DB owned by $DB_ROLE; broker $REDIS/$BROKER_DB, cache $REDIS/$CACHE_DB"

step "environment file from deploy/env.example"
ENV_FILE=$WORK/env
cp deploy/env.example "$ENV_FILE"
set_env() {
    grep -q "^$1=" "$ENV_FILE" || fail "deploy/env.example has no $1="
    local value=${2//\\/\\\\}
    value=${value//&/\\&}
    sed -i "s#^$1=.*#$1=${value//#/\\#}#" "$ENV_FILE"
}
set_env SECRET_KEY "$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
set_env DEBUG false
set_env ALLOWED_HOSTS 127.0.0.1
set_env SITE_URL "$SITE"
set_env DATABASE_URL "postgres://$DB_ROLE:$DB_PASSWORD@${PG#*@}/$DB"
set_env CACHE_URL "$REDIS/$CACHE_DB"
set_env CELERY_BROKER_URL "$REDIS/$BROKER_DB"
set_env STATIC_ROOT "$WORK/static"
set_env MEDIA_ROOT "$WORK/media"
set_env EMAIL_URL "smtp://127.0.0.1:$SMTP_PORT"
set_env DEFAULT_FROM_EMAIL complaints@smoke.test
set_env SERVER_EMAIL complaints@smoke.test
set_env COMPLAINT_MAIL_DOMAIN smoke.test
set_env GUNICORN_BIND "127.0.0.1:$WEB_PORT"
set_env GUNICORN_WORKERS 2
if grep -q "CHANGE-ME" "$ENV_FILE"; then
    fail "values left to change: $(grep CHANGE-ME "$ENV_FILE" | cut -d= -f1 | tr '\n' ' ')"
fi
# Every process below gets exactly this environment, as with EnvironmentFile=.
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
log "DJANGO_SETTINGS_MODULE=$DJANGO_SETTINGS_MODULE DEBUG=$DEBUG SITE_URL=$SITE_URL"

step "deploy checks, migrate, collectstatic (deploy/complaints-manage)"
export COMPLAINTS_ENV=$ENV_FILE COMPLAINTS_APP=$ROOT COMPLAINTS_VENV=$VENV
manage() { deploy/complaints-manage "$@"; }
manage check --deploy --fail-level ERROR
manage migrate --noinput >"$WORK/logs/migrate.log" 2>&1 ||
    fail "migrate: $(tail -n 20 "$WORK/logs/migrate.log")"
log "migrated ($(grep -c ' OK$' "$WORK/logs/migrate.log") migrations)"
manage collectstatic --noinput -v 0
log "collected $(find "$WORK/static" -type f | wc -l) static files"
[ -f locale/zh_Hans/LC_MESSAGES/django.mo ] || fail "the compiled catalogue is not committed"

step "SMTP sink on 127.0.0.1:$SMTP_PORT"
start smtp-sink "$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$WORK/mail"
wait_for 15 "the sink accepts connections" bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"

# The command line of a systemd unit, with the machine's paths replaced by ours.
unit_command() {
    local unit=deploy/systemd/$1
    grep -q '^WorkingDirectory=/srv/complaints/app$' "$unit" || fail "$unit: unexpected WorkingDirectory"
    grep -q '^EnvironmentFile=/etc/complaints/env$' "$unit" || fail "$unit: unexpected EnvironmentFile"
    sed -n 's/^ExecStart=//p' "$unit" | sed \
        -e "s#/srv/complaints/venv/#$VENV/#g" \
        -e "s#/var/lib/complaints/#$WORK/state/#g" \
        -e 's/%%/%/g'
}

step "worker and beat, as deploy/systemd runs them"
read -ra cmd <<<"$(unit_command complaints-worker.service)"
start worker "${cmd[@]}"
read -ra cmd <<<"$(unit_command complaints-beat.service)"
start beat "${cmd[@]}"
beat_started=$(date +%s)

step "gunicorn with deploy/gunicorn.conf.py"
read -ra cmd <<<"$(unit_command complaints-web.service)"
start web "${cmd[@]}"
wait_for 60 "gunicorn answers on 127.0.0.1:$WEB_PORT" \
    curl -fsS -m 5 "http://127.0.0.1:$WEB_PORT/healthz"

step "nginx with deploy/nginx/complaints.conf and a self-signed certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$WORK/tls/privkey.pem" -out "$WORK/tls/fullchain.pem" 2>/dev/null
CA=$WORK/tls/fullchain.pem
sed -e "s#server 127.0.0.1:8000;#server 127.0.0.1:$WEB_PORT;#" \
    -e "s#listen 80;#listen 127.0.0.1:$HTTP_PORT;#" \
    -e "s#listen 443 ssl#listen 127.0.0.1:$HTTPS_PORT ssl#" \
    -e '/listen \[::\]/d' \
    -e "s#https://\$host\$request_uri#https://\$host:$HTTPS_PORT\$request_uri#" \
    -e "s#/etc/complaints/tls/#$WORK/tls/#g" \
    -e "s#/srv/complaints/static/#$WORK/static/#g" \
    -e "s#/var/log/nginx/#$WORK/nginx/#g" \
    deploy/nginx/complaints.conf >"$WORK/nginx/complaints.conf"
diff deploy/nginx/complaints.conf "$WORK/nginx/complaints.conf" | sed -n "s/^> /    /p" || true
# What /etc/nginx/nginx.conf gives the site on Debian, with our own files.
cat >"$WORK/nginx/nginx.conf" <<EOF
user www-data;
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    gzip on;
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/nginx/complaints.conf;
}
EOF
nginx -q -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" || fail "nginx refuses the configuration"
start nginx nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
wait_for 15 "nginx answers over HTTPS (certificate verified)" \
    curl -fsS -m 5 --cacert "$CA" "$SITE/healthz"

step "HTTP goes to HTTPS"
redirect=$(curl -sS -m 5 -o /dev/null -w '%{http_code} %{redirect_url}' \
    "http://127.0.0.1:$HTTP_PORT/submit/?x=1")
[ "$redirect" = "301 $SITE/submit/?x=1" ] || fail "http://…/submit/ answered: $redirect"
log "http://127.0.0.1:$HTTP_PORT/submit/ → $redirect"

step "/healthz reports database, broker and worker"
health_ok() {
    curl -sS -m 10 --cacert "$CA" "$SITE/healthz?full=1" >"$WORK/health.json" || return 1
    "$VENV/bin/python" - "$WORK/health.json" <<'EOF'
import json, sys
body = json.load(open(sys.argv[1]))
expected = {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}
sys.exit(0 if body == expected else 1)
EOF
}
wait_for 60 "healthz: database, broker and worker ok" health_ok
log "$SITE/healthz?full=1 → $(cat "$WORK/health.json")"

step "submit a complaint through the public form over HTTPS"
jar=$WORK/cookies
curl -fsS -m 20 --cacert "$CA" -c "$jar" -b "$jar" "$SITE/submit/" -o "$WORK/form.html"
csrf=$(grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' "$WORK/form.html" | head -1 | sed 's/.*value="//; s/"$//')
form_token=$(grep -o 'name="form_token" value="[^"]*"' "$WORK/form.html" | head -1 | sed 's/.*value="//; s/"$//')
[ -n "$csrf" ] || fail "no CSRF token in the form"
[ -n "$form_token" ] || fail "no form token in the form"
# A browser's POST: Origin and Referer of the site, the honeypot left empty.
curl -sS -m 30 --cacert "$CA" -c "$jar" -b "$jar" -o "$WORK/submitted.html" \
    -w '%{http_code} %{url_effective}\n' -L --max-redirs 3 \
    -H "Origin: $SITE" -e "$SITE/submit/" \
    --data-urlencode "csrfmiddlewaretoken=$csrf" \
    --data-urlencode "form_token=$form_token" \
    --data-urlencode "name=张伟 (smoke test)" \
    --data-urlencode "phone=" \
    --data-urlencode "email=zhang.wei@example.com" \
    --data-urlencode "order_number=SMOKE-$(date +%s)" \
    --data-urlencode "product=" \
    --data-urlencode "description=电水壶底座漏水，用了三天。The kettle leaks after three days." \
    --data-urlencode "demand=replacement" \
    --data-urlencode "demand_detail=" \
    --data-urlencode "website=" \
    "$SITE/submit/" >"$WORK/submit.txt"
read -r code landed <"$WORK/submit.txt"
[ "$code" = 200 ] || fail "the form answered $code at $landed"
tracking=$(grep -A1 'id="tracking-number"' "$WORK/submitted.html" | grep -oE '[A-Z]+-[0-9]{8}-[0-9A-Z]{5}' | head -1 || true)
[ -n "$tracking" ] || fail "no tracking number on the confirmation page ($landed)"
log "complaint $tracking submitted; confirmation at $landed"

step "the worker delivers the acknowledgment to the SMTP sink"
mail_arrived() {
    "$VENV/bin/python" - "$WORK/mail" "$tracking" <<'EOF'
import email, email.policy, pathlib, sys
folder, tracking = pathlib.Path(sys.argv[1]), sys.argv[2]
for path in sorted((folder / "new").glob("*")):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = str(message["Subject"])
    for part in message.walk():
        if part.get_content_maintype() == "text":
            text += part.get_content()
    if tracking in text and "zhang.wei@example.com" in str(message["To"]):
        print(f"{message['To']}: {message['Subject']}")
        sys.exit(0)
sys.exit(1)
EOF
}
wait_for 60 "the acknowledgment arrived" mail_arrived
log "$(mail_arrived)"

step "beat has the worker run the SLA sweep"
sweep_ran() { grep -qE 'complaints\.tasks_sla\.sla_sweep_task\[[^]]+\] succeeded' "$WORK/logs/worker.log"; }
# Beat sends the sweep every 60 s, the first one a minute after it starts.
wait_for $((100 - ($(date +%s) - beat_started))) "the SLA sweep ran" sweep_ran
log "beat: $(grep -m1 'sla-sweep' "$WORK/logs/beat.log" | sed 's/^.*\] //' || true)"
log "worker: $(grep -m1 -E 'sla_sweep_task\[[^]]+\] succeeded' "$WORK/logs/worker.log" | sed 's/^.*\] //')"

step "nginx serves the static files with a long cache"
asset=$(grep -oE '/static/[^"]+\.css' "$WORK/form.html" | head -1)
[ -n "$asset" ] || fail "the form links no stylesheet"
curl -fsS -m 10 --cacert "$CA" -D "$WORK/static.headers" -o /dev/null -H 'Accept-Encoding: gzip' "$SITE$asset"
grep -qi '^cache-control: .*max-age=31536000' "$WORK/static.headers" ||
    fail "no long cache on $asset: $(cat "$WORK/static.headers")"
if grep -qF "GET $asset" "$WORK/logs/web.log"; then
    fail "$asset was served by gunicorn, not nginx"
fi
log "$asset: $(grep -i '^cache-control' "$WORK/static.headers" | tr -d '\r'), $(grep -i '^content-encoding' "$WORK/static.headers" | tr -d '\r' || echo 'not compressed'); gunicorn never saw it"
grep -q "rid=[0-9a-f]\{32\}" "$WORK/logs/web.log" || fail "gunicorn's access log has no request id"
log "gunicorn's access log carries nginx's request id: $(grep -m1 -o 'rid=[0-9a-f]\{32\}' "$WORK/logs/web.log")"

step "an upload over the size limit is refused by nginx"
code=$(head -c $((56 * 1024 * 1024)) /dev/zero | curl -sS -m 30 --cacert "$CA" -o /dev/null \
    -w '%{http_code}' -H 'Content-Type: application/octet-stream' --data-binary @- "$SITE/submit/" || true)
[ "$code" = 413 ] || fail "a 56 MB body answered $code, not 413"
log "56 MB body → 413"

step "backup and restore as the README does it (pg_dump, pg_restore)"
psql "$PG/postgres" -qc "CREATE DATABASE ${DB}_restored OWNER $DB_ROLE TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8'"
pg_dump --format=custom --file="$WORK/backup.dump" "$PG/$DB"
pg_restore --no-owner --role="$DB_ROLE" --exit-on-error -d "$PG/${DB}_restored" "$WORK/backup.dump"
restored=$(psql "$PG/${DB}_restored" -Atc "SELECT count(*) FROM complaints_complaint WHERE tracking_number = '$tracking'")
[ "$restored" = 1 ] || fail "the restored database lacks $tracking"
log "dump of $(du -h "$WORK/backup.dump" | cut -f1) restored; $tracking is in the copy"

for i in "${!pids[@]}"; do
    alive "${pids[i]}" || fail "${names[i]} exited early"
done
ok=1
