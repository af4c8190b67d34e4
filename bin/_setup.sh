# Shared by bin/start and bin/test: make .venv with Python >= 3.12 and install Genboard.
# Re-installs only when pyproject.toml changed since the last install.

pick_python() {
    # .python-version makes pyenv's python3 be 3.13 inside the checkout; else try by name.
    for candidate in python3 python3.13 python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "Genboard needs Python 3.12 or newer (3.13 preferred); none was found." >&2
    return 1
}

ensure_venv() {
    local extras="$1" stamp want have
    if [ ! -x .venv/bin/python ]; then
        echo "==> Creating .venv"
        "$(pick_python)" -m venv .venv
    fi
    stamp=.venv/.genboard-installed
    want="$(sha256sum pyproject.toml | cut -c1-16)-${extras}"
    have="$(cat "$stamp" 2>/dev/null || true)"
    # bin/start (no extras) is content with a .venv that bin/test made (test extras on top).
    if [ "$have" != "$want" ] && ! { [ -z "$extras" ] && [ "${have%%-*}" = "${want%%-*}" ]; }; then
        echo "==> Installing Genboard${extras:+ with [$extras]} into .venv"
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
        echo "$want" >"$stamp"
    fi
}
