"""`python -m pboss`: the same command as `pboss` (for machines where the script is not on PATH)."""

from __future__ import annotations

from pboss.cli.main import app


def main() -> None:
    """Run the `pboss` command line."""
    app(prog_name="pboss")


if __name__ == "__main__":
    main()
