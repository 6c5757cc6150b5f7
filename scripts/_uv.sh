# Sourced by the other scripts: makes sure `uv` is on PATH, installing it from PyPI when missing.
if ! command -v uv >/dev/null 2>&1; then
    echo "uv not found: installing it from PyPI (python3 -m pip install --user uv)" >&2
    python3 -m pip install --quiet --user uv
    PATH="$(python3 -m site --user-base)/bin:$PATH"
    export PATH
fi
