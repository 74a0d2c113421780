"""`pboss cutover ...`: plan, announce, execute and reverse cutovers from the command line.

`plan-file` reads a port-mapping file (CSV or NDJSON) and reports every wrong row at
file:line:column like `pboss load`; `--dry-run` shows the steps and impact and records nothing.
The other commands walk a plan through its states. They are meant for Neo4j (the embedded store
of a command lives only as long as the command). Exit codes: 0 done, 1 refused (invalid rows, a
plan that does not fit, a state that does not allow the step, a broken assumption), 2 bad
arguments or an unreachable store.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from pboss.cli.data import STORE_HELP, open_cli_store
from pboss.cutover.errors import CutoverError
from pboss.cutover.impact import Impact
from pboss.cutover.model import CutoverPlan
from pboss.cutover.plans import Draft
from pboss.inventory.errors import PbossError
from pboss.loaders.issues import LoadError, LoadRefused

cutover_app = typer.Typer(
    help="Cutover plans (资源割接): plan, approve, schedule, execute, roll back."
)

STORE = typer.Option(None, "--store", help=STORE_HELP)
URI = typer.Option(None, "--neo4j-uri", help="Neo4j bolt URI (PBOSS_NEO4J_URI)")
ACTOR = typer.Option("cli", "--actor", help="who does it, for the plan's history")
AS_JSON = typer.Option(False, "--json", help="print the plan as JSON")


def _when(value: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        typer.echo(f"error: {name}: not an ISO 8601 time: {value!r}", err=True)
        raise typer.Exit(2) from None


def _impact_lines(impact: Impact) -> list[str]:
    products = ", ".join(f"{k} {v}" for k, v in impact.by_product.items()) or "none"
    tiers = ", ".join(f"{k} {v}" for k, v in impact.by_sla_tier.items()) or "none"
    lines = [
        f"impact: {len(impact.services)} services, {impact.customers} customers, "
        f"outage about {impact.outage_minutes} min per service",
        f"  by product: {products}",
        f"  by SLA tier: {tiers}",
    ]
    if impact.gold_customers:
        lines.append(f"  gold customers: {', '.join(impact.gold_customers)}")
    if impact.partner_segments:
        lines.append(f"  partner segments: {', '.join(impact.partner_segments)}")
    return lines


def _draft_lines(draft: Draft) -> list[str]:
    out = [f"{draft.move}: {len(draft.steps)} step(s), {len(draft.riders)} rider(s)"]
    for s in draft.steps:
        to = f" -> {s.new_dst}" if s.op == "move" else ""
        extra = f" seq {s.seq} slots {s.slots}" if s.slots or s.seq else ""
        out.append(f"  {s.op} {s.type} {s.src} -> {s.dst}{to}{extra}")
    return out


def _show(plan: CutoverPlan, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{plan.id} [{plan.state}] {plan.name}")
    typer.echo(f"  window {plan.window_start.isoformat()} to {plan.window_end.isoformat()}")
    typer.echo(f"  reason: {plan.reason}")
    for line in _impact_lines(Impact.loads(plan.impact)):
        typer.echo(f"  {line}")
    ver = json.loads(plan.verification or "{}")
    if ver:
        typer.echo(
            f"  verification: {'ok' if ver['ok'] else 'FAILED'} {'; '.join(ver['problems'])}"
        )
    for h in plan.entries():
        typer.echo(f"  {h.at.isoformat()} {h.event} by {h.actor} {h.note}".rstrip())


def _refused(exc: Exception) -> typer.Exit:
    typer.echo(f"refused: {exc}", err=True)
    return typer.Exit(1)


@cutover_app.command("plan-file")
def plan_file(
    path: Path = typer.Argument(..., help="port mapping: CSV (rider,from,to) or NDJSON"),
    window_start: str = typer.Option(..., help="maintenance window start (ISO 8601)"),
    window_end: str = typer.Option(..., help="maintenance window end (ISO 8601)"),
    reason: str = typer.Option(..., help="why the move is made"),
    plan_id: str | None = typer.Option(None, "--id", help="the plan's id (generated if absent)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and show; record nothing"),
    encoding: str = typer.Option("utf-8", help="the file's encoding"),
    actor: str = ACTOR,
    store: str | None = STORE,
    neo4j_uri: str | None = URI,
    as_json: bool = AS_JSON,
) -> None:
    """Plan a re-home from a port-mapping file; every wrong row at file:line:column."""
    from pboss.cutover.service import CutoverService

    start, end = _when(window_start, "--window-start"), _when(window_end, "--window-end")
    if not path.is_file():
        typer.echo(f"error: {path}: no such file", err=True)
        raise typer.Exit(2)
    with open_cli_store(store, neo4j_uri) as opened:
        svc = CutoverService(opened)
        try:
            draft, impact, plan = svc.plan_file(
                path, window_start=start, window_end=end, reason=reason, actor=actor,
                plan_id=plan_id, dry_run=dry_run, encoding=encoding,
            )  # fmt: skip
        except LoadError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except (LoadRefused, CutoverError) as exc:
            raise _refused(exc) from None
    if plan is not None:
        _show(plan, as_json)
        return
    typer.echo("dry run: nothing recorded")
    for line in _draft_lines(draft) + _impact_lines(impact):
        typer.echo(line)


@cutover_app.command("rehome")
def rehome(
    source: str = typer.Option(..., help="splitter whose riders move"),
    target: str = typer.Option(..., help="splitter they move to"),
    window_start: str = typer.Option(...),
    window_end: str = typer.Option(...),
    reason: str = typer.Option(...),
    plan_id: str | None = typer.Option(None, "--id"),
    actor: str = ACTOR,
    store: str | None = STORE,
    neo4j_uri: str | None = URI,
    as_json: bool = AS_JSON,
) -> None:
    """Plan moving all of a splitter's riders to another splitter (automatic mapping)."""
    from pboss.cutover.service import CutoverService

    start, end = _when(window_start, "--window-start"), _when(window_end, "--window-end")
    with open_cli_store(store, neo4j_uri) as opened:
        try:
            plan = CutoverService(opened).plan_rehome(
                source=source, target=target, window_start=start, window_end=end,
                reason=reason, actor=actor, plan_id=plan_id,
            )  # fmt: skip
        except (CutoverError, PbossError) as exc:
            raise _refused(exc) from None
    _show(plan, as_json)


@cutover_app.command("reroute")
def reroute(
    link: str = typer.Option(..., help="trunk section or partner link to move circuits off"),
    window_start: str = typer.Option(...),
    window_end: str = typer.Option(...),
    reason: str = typer.Option(...),
    circuit: list[str] = typer.Option([], help="a circuit to move (all when none given)"),
    plan_id: str | None = typer.Option(None, "--id"),
    actor: str = ACTOR,
    store: str | None = STORE,
    neo4j_uri: str | None = URI,
    as_json: bool = AS_JSON,
) -> None:
    """Plan moving circuits off a link onto alternative routes with fresh slots."""
    from pboss.cutover.service import CutoverService

    start, end = _when(window_start, "--window-start"), _when(window_end, "--window-end")
    with open_cli_store(store, neo4j_uri) as opened:
        try:
            plan = CutoverService(opened).plan_reroute(
                link=link, window_start=start, window_end=end, reason=reason, actor=actor,
                circuits=circuit or None, plan_id=plan_id,
            )  # fmt: skip
        except (CutoverError, PbossError) as exc:
            raise _refused(exc) from None
    _show(plan, as_json)


def _step(
    name: str,
    plan_id: str,
    actor: str,
    note: str,
    store: str | None,
    uri: str | None,
    batch_size: int | None = None,
) -> None:
    from pboss.cutover.service import CutoverService

    with open_cli_store(store, uri) as opened:
        svc = CutoverService(opened)
        try:
            if name == "show":
                plan = svc.get(plan_id)
            elif name == "execute":
                plan = svc.execute(plan_id, actor=actor, batch_size=batch_size)
            else:
                plan = getattr(svc, name)(plan_id, actor=actor, note=note)
        except (CutoverError, PbossError) as exc:
            raise _refused(exc) from None
    _show(plan, False)


def _command(name: str, doc: str) -> None:
    def run(
        plan_id: str = typer.Argument(..., help="the plan's id"),
        note: str = typer.Option("", help="a note for the plan's history"),
        actor: str = ACTOR,
        store: str | None = STORE,
        neo4j_uri: str | None = URI,
    ) -> None:
        _step(name, plan_id, actor, note, store, neo4j_uri)

    run.__doc__ = doc
    cutover_app.command(name)(run)


for _name, _doc in (
    ("show", "Show a plan: window, impact, verification, history."),
    ("approve", "Approve a draft plan (CRM and partners hear of it)."),
    ("schedule", "Schedule an approved plan for its window."),
    ("rollback", "Roll a completed plan back to the pre-cutover graph."),
    ("cancel", "Cancel a plan not yet executed, releasing its holds."),
):
    _command(_name, _doc)


@cutover_app.command("execute")
def execute_plan(
    plan_id: str = typer.Argument(..., help="the plan's id"),
    batch_size: int | None = typer.Option(None, help="riders per transaction (all at once)"),
    actor: str = ACTOR,
    store: str | None = STORE,
    neo4j_uri: str | None = URI,
) -> None:
    """Execute a scheduled plan in its window, then verify it."""
    _step("execute", plan_id, actor, "", store, neo4j_uri, batch_size)


@cutover_app.command("expire")
def expire(store: str | None = STORE, neo4j_uri: str | None = URI) -> None:
    """Cancel plans whose window ended unexecuted, releasing what they hold."""
    from pboss.cutover.service import CutoverService

    with open_cli_store(store, neo4j_uri) as opened:
        for p in CutoverService(opened).expire_lapsed():
            typer.echo(f"{p.id}\tcancelled: its window ended {p.window_end.isoformat()}")


@cutover_app.command("list")
def list_plans(
    state: list[str] = typer.Option([], help="only plans in these states"),
    store: str | None = STORE,
    neo4j_uri: str | None = URI,
) -> None:
    """List plans with their state and window."""
    from pboss.cutover.service import CutoverService

    with open_cli_store(store, neo4j_uri) as opened:
        plans = CutoverService(opened).plans(state or None)
    for p in plans:
        typer.echo(f"{p.id}\t{p.state}\t{p.window_start.isoformat()}\t{p.name}")


def register(app: typer.Typer) -> None:
    """Add `pboss cutover` to the `pboss` command."""
    app.add_typer(cutover_app, name="cutover")
