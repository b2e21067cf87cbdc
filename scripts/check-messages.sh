#!/bin/sh
# Fail when the zh-Hans catalogue misses a string of the code, or the compiled
# catalogue is out of date. `make messages` fixes both (then translate the new entries).
set -eu
cd "$(dirname "$0")/.."
po=locale/zh_Hans/LC_MESSAGES/django.po
mo=locale/zh_Hans/LC_MESSAGES/django.mo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$po" "$tmp/before.po"
.venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete >/dev/null
missing=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid ' || true)
cp "$tmp/before.po" "$po"
if [ "$missing" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
    echo "zh-Hans catalogue incomplete: $missing untranslated, $fuzzy fuzzy (run make messages)" >&2
    exit 1
fi
msgfmt -o "$tmp/check.mo" "$po"
if ! cmp -s "$tmp/check.mo" "$mo"; then
    echo "locale/zh_Hans/LC_MESSAGES/django.mo is out of date (run make messages)" >&2
    exit 1
fi
echo "zh-Hans catalogue complete and compiled"
