"""`pboss schema export|check`: keep pboss/graphql/schema.graphql in step with the code."""

from __future__ import annotations

import typer

schema_app = typer.Typer(help="The GraphQL contract (SDL) in pboss/graphql/schema.graphql.")


@schema_app.command("export")
def export() -> None:
    """Write the SDL the code builds to pboss/graphql/schema.graphql."""
    from pboss.graphql.export import SCHEMA_PATH, export_schema

    changed = export_schema()
    typer.echo(f"{'wrote' if changed else 'unchanged'}: {SCHEMA_PATH}")


@schema_app.command("check")
def check() -> None:
    """Exit 1 when schema.graphql differs from the code."""
    from pboss.graphql.export import SCHEMA_PATH, is_current

    if not is_current():
        typer.echo(f"{SCHEMA_PATH} drifted from the code: run `pboss schema export`", err=True)
        raise typer.Exit(1)
    typer.echo(f"{SCHEMA_PATH} is current")


def register(app: typer.Typer) -> None:
    """Mount `pboss schema` on the main command."""
    app.add_typer(schema_app, name="schema")
