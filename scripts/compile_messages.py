"""Compile every gettext catalogue of the project (see motcua/l10n.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motcua.l10n import compile_catalogues

if __name__ == "__main__":
    print(f"compiled {compile_catalogues()} message catalogues")
