#!/usr/bin/env bash
# Install what the tests need, then run the linters, the type checker and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy"; mypy
echo "== pytest"; pytest -q -p no:cacheprovider "$@"
