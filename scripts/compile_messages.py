"""Compile every gettext catalogue (locale/ and each app's locale/) to .mo with polib.

Django's compilemessages needs GNU msgfmt from a Debian package; polib is a pinned Python
package, so a fresh machine needs nothing outside requirements.txt. The .mo files are
build output and are not committed.
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    count = 0
    for po_path in sorted(ROOT.glob("**/locale/*/LC_MESSAGES/*.po")):
        if ".venv" in po_path.parts:
            continue
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
        count += 1
    print(f"compiled {count} message catalogues")
    return 0


if __name__ == "__main__":
    sys.exit(main())
