#!/usr/bin/env bash
# Install what the tests need, then run the linters, the type checker and the test suite.
# With MESHART_PY313=/path/to/python3.13 (Raspberry Pi OS trixie's Python) the suite runs a second time on
# it, in .venv-py313. It is opt-in: two full runs do not fit CI's time budget on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy"; mypy
echo "== pytest ($(python --version))"; pytest -q -p no:cacheprovider "$@"

py313="${MESHART_PY313:-}"
if [ -n "$py313" ] && [ -x "$py313" ]; then
    [ -x .venv-py313/bin/python ] || "$py313" -m venv .venv-py313
    .venv-py313/bin/python -m pip install -q -e '.[dev,sim]'
    echo "== pytest ($(.venv-py313/bin/python --version))"; .venv-py313/bin/python -m pytest -q -p no:cacheprovider "$@"
else
    echo "== MESHART_PY313 not set: the suite ran on $(python --version) only"
fi
