# Sourced by scripts/demo and scripts/test (not run on its own).
#
# ensure_venv: makes sure .venv exists and holds this project (editable) with its test extra,
# at exactly the versions uv.lock pins (what CI tested), not whatever is newest today.
# The install is skipped while pyproject.toml and uv.lock are unchanged since the last one that
# succeeded (a hash of both is kept in .venv/.pyproject.sha256), so a second run starts in a
# second. After it returns, the working directory is the repository root.
#
# Upgrading a dependency: edit pyproject.toml if its range must change, run
# `.venv/bin/uv lock --upgrade-package NAME` (or `--upgrade` for all), then scripts/test and
# bench/run, and commit uv.lock with the change (CONTRIBUTING.md, "Upgrading a dependency").

TRACKER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$TRACKER_ROOT/.venv"
VENV_STAMP="$VENV/.pyproject.sha256"
# The uv that reads uv.lock; newer uv reads older locks, so raise this freely.
UV_VERSION="0.13.10"

_venv_say() {
    printf '%s\n' "$*" >&2
}

_venv_python() {
    # The interpreter that makes the venv: $PYTHON if set, else python3 (3.11 or newer).
    local python="${PYTHON:-python3}"
    if ! command -v "$python" >/dev/null 2>&1; then
        _venv_say "Python 3.11 or newer is needed and '$python' was not found."
        _venv_say "On Debian: apt-get install -y python3 python3-venv"
        return 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        _venv_say "Python 3.11 or newer is needed; '$python' is $("$python" --version 2>&1)."
        return 1
    fi
    printf '%s\n' "$python"
}

_venv_create() {
    local python
    python="$(_venv_python)" || return 1
    _venv_say "Creating .venv with $("$python" --version 2>&1)..."
    if "$python" -m venv "$VENV" 2>/dev/null; then
        return 0
    fi
    # Debian's python3 ships without ensurepip until python3-venv is installed.
    rm -rf "$VENV"
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        _venv_say "python3-venv is missing: installing it with apt-get..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$python" -m venv "$VENV"
        return
    fi
    _venv_say "Could not create .venv: Python's venv module is missing. Install it, then run me again:"
    _venv_say "    sudo apt-get install -y python3-venv"
    return 1
}

_venv_install() {
    local started=$SECONDS
    # uv.lock as a pip requirements file with hashes: every package at its locked version.
    local pinned="$VENV/requirements.lock.txt"
    _venv_say "Installing the versions in uv.lock and the project into .venv (about 10 s, longer the first time)..."
    if "$VENV/bin/python" -m pip install -qq --disable-pip-version-check "uv==$UV_VERSION" \
        && "$VENV/bin/uv" export --quiet --frozen --extra test --no-emit-project \
            --format requirements-txt --output-file "$pinned" \
        && "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --require-hashes -r "$pinned" \
        && "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e .; then
        :
    elif [ -s "$pinned" ]; then
        _venv_say "uv did not manage the install; falling back to pip with the same locked versions (slower)..."
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pinned" \
            && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e . \
            || return 1
    else
        _venv_say "Could not install uv $UV_VERSION, which reads uv.lock: is PyPI reachable?"
        return 1
    fi
    _venv_say "Installed in $((SECONDS - started)) s."
}

ensure_venv() {
    cd "$TRACKER_ROOT" || return 1
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
        rm -rf "$VENV"
        _venv_create || return 1
    fi
    local wanted
    wanted="$(cat pyproject.toml uv.lock | sha256sum | cut -d' ' -f1)"
    if [ -f "$VENV_STAMP" ] && [ "$(cat "$VENV_STAMP")" = "$wanted" ] \
        && [ -x "$VENV/bin/tracker" ]; then
        return 0
    fi
    _venv_install || return 1
    printf '%s\n' "$wanted" >"$VENV_STAMP"
}
