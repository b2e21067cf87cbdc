#!/bin/sh
# Print the path of a Python >= 3.12 that really runs, or explain what to install.
# Candidates are run, not just looked up: a pyenv shim on PATH exists even when no
# such version is selected, and then fails with "command not found".
ok() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

for candidate in python3.14 python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && ok "$candidate"; then
        "$candidate" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done

if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    # Oldest 3.12+ first: 3.12 is the version this project is verified on.
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$' | sort -V); do
        candidate="$root/versions/$version/bin/python"
        if [ -x "$candidate" ] && ok "$candidate"; then
            echo "$candidate"
            exit 0
        fi
    done
fi

cat >&2 <<'MSG'
error: this project needs Python 3.12 or newer, and none was found.
Install one, for example:
  Debian/Ubuntu:  sudo apt-get install python3.12 python3.12-venv
  pyenv:          pyenv install 3.12
  macOS:          brew install python@3.12
then run the make command again.
MSG
exit 1
