"""Export the SDL to pboss/graphql/schema.graphql, or check that it is current.

python -m pboss.graphql.export          # write it
python -m pboss.graphql.export --check  # exit 1 when the file differs from the code
"""

from __future__ import annotations

import sys
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")


def export_schema(path: Path = SCHEMA_PATH) -> bool:
    """Write the SDL; True when the file changed."""
    from pboss.graphql.schema import schema_sdl

    sdl = schema_sdl()
    if path.exists() and path.read_text(encoding="utf-8") == sdl:
        return False
    path.write_text(sdl, encoding="utf-8")
    return True


def is_current(path: Path = SCHEMA_PATH) -> bool:
    """True when the file holds exactly the SDL the code builds."""
    from pboss.graphql.schema import schema_sdl

    return path.exists() and path.read_text(encoding="utf-8") == schema_sdl()


def main(argv: list[str]) -> int:
    """Command line: write the SDL, or with --check report whether it drifted."""
    if "--check" in argv:
        if is_current():
            print(f"{SCHEMA_PATH} is current")
            return 0
        print(f"{SCHEMA_PATH} drifted from the code: run python -m pboss.graphql.export")
        return 1
    changed = export_schema()
    print(f"{'wrote' if changed else 'unchanged'}: {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
