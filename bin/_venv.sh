# Shared by bin/run and bin/test: make .venv with Python 3.11+ and install Hearth into it,
# again only when pyproject.toml has changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Hearth needs Python 3.11 or newer")'
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.hearth-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)-$1"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$2"
  echo "$want" > "$stamp"
fi
