#!/usr/bin/env bash
# Install what the tests need, then run the linters, the type checker and the test suite.
# When a Python 3.13 interpreter is available (Raspberry Pi OS trixie's Python; $MESHART_PY313, python3.13
# on PATH, or pyenv), the suite runs a second time on it, in .venv-py313.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy"; mypy
echo "== pytest ($(python --version))"; pytest -q -p no:cacheprovider "$@"

py313="${MESHART_PY313:-$(command -v python3.13 || true)}"
if [ -z "$py313" ]; then
    py313=$(find "${PYENV_ROOT:-$HOME/.pyenv}/versions" -maxdepth 3 -path '*/3.13*/bin/python3.13' 2>/dev/null | sort | tail -1)
fi
if [ -n "$py313" ] && [ -x "$py313" ]; then
    [ -x .venv-py313/bin/python ] || "$py313" -m venv .venv-py313
    .venv-py313/bin/python -m pip install -q -e '.[dev,sim]'
    echo "== pytest ($(.venv-py313/bin/python --version))"; .venv-py313/bin/python -m pytest -q -p no:cacheprovider "$@"
else
    echo "== no Python 3.13 interpreter found: the suite ran on $(python --version) only"
fi
