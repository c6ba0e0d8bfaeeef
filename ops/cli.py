"""`satu`: run the system, its relays, and the read-model rebuild/check."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import infra.quiet  # noqa: F401,I001 - before anything imports nameko/eventlet
from infra.part_status import STATUS_FILE
from infra.private_files import keep_files_private
from infra.settings import Settings, load_settings

app = typer.Typer(help="Satu Ormas operations", no_args_is_help=True, add_completion=False)
console = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line in logs


@app.callback()
def private_files() -> None:
    """Every command (and every process `satu run` starts) writes files for this user alone."""
    keep_files_private()


@app.command()
def run(
    seed: bool = typer.Option(True, help="create the demo accounts and ormas"),
    host: str = typer.Option("127.0.0.1", help="gateway address"),
    port: int = typer.Option(8000, help="gateway port"),
) -> None:
    """Start every service, both relays and the gateway; stop them all with Ctrl-C."""
    from ops.broker import ensure_broker
    from ops.launcher import System

    settings = load_settings()
    problem = ensure_broker(settings.amqp_uri, Path("docker-compose.yml"), console.print)
    if problem:
        console.print(f"[red]satu run:[/red] {problem}")
        raise typer.Exit(1)
    _make_keys(settings)
    if _upgrade(settings):  # before any service opens the read models: they refuse an older schema
        raise typer.Exit(1)
    part_uris = _broker_users(settings)
    system = System(
        settings.amqp_uri, settings.var_dir / "logs", host=host, port=port, part_uris=part_uris,
        status_file=settings.var_dir / STATUS_FILE,
    )  # fmt: skip
    # SIGTERM and SIGINT both stop everything (SIGINT is ignored in background jobs unless restored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        console.print("starting services, relays and gateway …")
        system.start()
        if seed:
            _seed_and_print()
        console.print(f"[green]Satu Ormas is running[/green]: http://{host}:{port}/docs (logs in {system.log_dir})")
        while True:
            system.supervise(console.print)  # a part that exits is started again, with growing pauses
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping …")
    except RuntimeError as error:
        console.print(f"[red]satu run:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        system.stop()


@app.command()
def relay(source: str = typer.Argument(..., help="registry or submissions")) -> None:
    """Publish one event store's events to RabbitMQ (one relay per store at a time)."""
    from infra.locks import AlreadyRunningError
    from ops.relay import run_relay

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        run_relay(source, load_settings())
    except AlreadyRunningError as error:
        console.print(f"[red]relay {source}:[/red] {error}")
        raise typer.Exit(1) from None
    except ValueError as error:
        console.print(f"[red]relay:[/red] {error}")
        raise typer.Exit(2) from None


@contextmanager
def _progress_bars() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A bar per read model, advanced by the log position its rebuild reached."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:

        def progress_for(name: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(name, total=max(total, 1))
            return lambda position: bar.update(task, completed=position)

        yield progress_for


def _rebuild_or_check(apply: bool, only: str | None) -> int:
    from ops.rebuild import READ_MODELS, run_all
    from ops.shadow import ShadowInUse

    settings = load_settings()
    specs = [spec for spec in READ_MODELS if only in (None, spec.name)]
    if not specs:
        console.print(f"[red]unknown read model '{only}'[/red]; known: {', '.join(s.name for s in READ_MODELS)}")
        return 2
    failed = 0
    try:
        with _progress_bars() as progress_for:
            outcomes = run_all(specs, settings, apply, progress_for)
    except ShadowInUse as error:
        console.print(f"[red]satu {'rebuild' if apply else 'check'}:[/red] {error}")
        return 1
    for outcome in outcomes:
        if apply:
            console.print(f"{outcome.name}: rebuilt from {outcome.events} events")
        elif outcome.differences:
            failed += 1
            console.print(f"[red]{outcome.name}: differs from a rebuild[/red]")
            for line in outcome.differences:
                console.print(f"  {line}")
        else:
            console.print(f"[green]{outcome.name}: equal to a rebuild ({outcome.events} events)[/green]")
    return 1 if failed else 0


def _upgrade(settings: Settings) -> int:
    from infra.topology import READ_MODELS
    from ops.rebuild import needs_upgrade, upgrade

    outdated = [spec for spec in READ_MODELS if needs_upgrade(spec, settings)]
    if not outdated:
        return 0
    console.print(f"upgrading read models to this release's schema: {', '.join(s.name for s in outdated)}")
    try:
        with _progress_bars() as progress_for:
            outcomes = [upgrade(spec, settings, progress_for) for spec in outdated]
    except RuntimeError as error:
        console.print(f"[red]satu upgrade:[/red] {error}")
        return 1
    for outcome in outcomes:
        console.print(f"{outcome.name}: upgraded, rebuilt from {outcome.events} events")
    return 0


def _broker_users(settings: Settings) -> dict[str, str]:
    """Every part's own broker user (SATU_AMQP_URI is the administrator's); a local system whose broker
    cannot be administered here runs every part as the given user, and says so."""
    from ops.broker_users import ProvisioningError, provision

    try:
        return provision(settings.amqp_uri, settings.var_dir / "broker-users.json", settings.amqp_ca_file)
    except ProvisioningError as error:
        if settings.exposed:
            console.print(f"[red]satu run:[/red] {error}; every part must have its own broker user here")
            raise typer.Exit(1) from None
        console.print(f"[yellow]{error}: every part connects as the user of SATU_AMQP_URI[/yellow]")
        return {}


def _make_keys(settings: Settings, directory: Path | None = None) -> None:
    from infra.keys import ensure_keys, keys_dir

    target = directory or keys_dir(settings)
    created = ensure_keys(target)
    if created:
        console.print(f"created the signing keys of {', '.join(created)} in {target}")


@app.command()
def keys(
    directory: Path = typer.Option(None, "--dir", help="where to write them (default: SATU_KEYS_DIR or var/keys)"),
) -> None:
    """Create the Ed25519 key pair of every part that has none (<part>.key private, mode 600; <part>.pub).
    Existing keys are kept; to rotate one, see docs/security.md."""
    _make_keys(load_settings(), directory)
    console.print("[green]every part has its signing key[/green]")


@app.command("mail-status")
def mail_status() -> None:
    """How the mail outbox stands: mails sent, waiting to be sent, and possibly delivered twice (see
    docs/operations.md, "Mail")."""
    from infra.readmodel import ReadModel
    from infra.storage import read_model_engine
    from services.notifications.outbox import MailOutbox, OutboxProjection

    engine = read_model_engine(load_settings(), "notifications")
    try:
        stats = MailOutbox(ReadModel(OutboxProjection(), engine)).stats()
    finally:
        engine.dispose()
    console.print(
        f"{stats['sent']} sent, {stats['waiting']} waiting, {stats['possibly_sent_twice']} possibly delivered twice"
    )


@app.command("uploads-sweep")
def uploads_sweep() -> None:
    """Remove the uploads never attached to a case and older than SATU_UPLOAD_UNATTACHED_HOURS (every
    gateway does this hourly)."""
    from gateway.scanner import Scanner
    from gateway.upload_sweep import sweep_unattached
    from gateway.uploads import UploadStore

    settings = load_settings()
    store = UploadStore(settings.var_dir / "uploads", settings.upload_max_bytes, scanner=Scanner(""))
    with Progress(TextColumn("{task.description}"), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("uploads looked at", total=None)
        swept = sweep_unattached(store, settings.upload_unattached_hours, lambda: bar.advance(task))
    console.print(f"removed {swept.files} upload(s) never attached to a case ({swept.bytes} bytes)")


@app.command("compose-secrets")
def compose_secrets(
    directory: Path = typer.Option(Path("secrets"), "--dir", help="the folder docker-compose.yml reads"),
) -> None:
    """Write what docker-compose needs and must not hold itself: the session key, database and broker
    passwords (one broker user per part), the broker's TLS certificate, the parts' signing keys. Existing
    files are kept."""
    from ops.compose_secrets import write_compose_secrets

    written = write_compose_secrets(directory)
    console.print(f"{len(written)} file(s) written under {directory}" if written else f"{directory} is complete")


@app.command()
def upgrade() -> None:
    """Bring every read model to this release's schema: a model whose schema version changed is rebuilt
    beside the old tables, then switched to in one transaction (with progress). `satu run` does this first."""
    code = _upgrade(load_settings())
    if code == 0:
        console.print("[green]every read model is at this release's schema[/green]")
    raise typer.Exit(code)


@app.command()
def rebuild(
    read_model: str = typer.Option(None, "--only", help="one read model, e.g. submissions.cases"),
) -> None:
    """Rebuild every read model from the event stores (with progress)."""
    raise typer.Exit(_rebuild_or_check(apply=True, only=read_model))


@app.command()
def check(
    read_model: str = typer.Option(None, "--only", help="one read model, e.g. submissions.cases"),
) -> None:
    """Rebuild into a shadow copy and report whether it equals the live read models (exit 1 if not)."""
    raise typer.Exit(_rebuild_or_check(apply=False, only=read_model))


@app.command("relay-reset")
def relay_reset(
    store: str = typer.Argument(..., help="registry or submissions"),
    publish_from: str = typer.Option(
        None, "--from", help="start or end: where to publish from when the store holds none of the relay's checkpoints"
    ),
) -> None:
    """After an event store was restored from a backup (its relay refuses it): rebuild the store's read models
    from what it holds, and let its relay publish again from before the backup's end (with progress)."""
    from infra.topology import EVENT_STORE_NAMES
    from ops.relay_reset import FROM_END, FROM_START, ResetRefused, reset_relay
    from ops.shadow import ShadowInUse

    if publish_from not in (None, FROM_START, FROM_END):
        console.print(f"[red]satu relay-reset:[/red] --from must be {FROM_START} or {FROM_END}, not '{publish_from}'")
        raise typer.Exit(2)
    if store not in EVENT_STORE_NAMES:
        console.print(
            f"[red]satu relay-reset:[/red] unknown event store '{store}' (known: {', '.join(EVENT_STORE_NAMES)})"
        )
        raise typer.Exit(2)
    try:
        with _progress_bars() as progress_for:
            reset = reset_relay(store, load_settings(), progress_for, publish_from)
    except (ResetRefused, ShadowInUse) as error:
        console.print(f"[red]satu relay-reset:[/red] {error}")
        raise typer.Exit(1) from None
    if reset is None:
        console.print(f"relay {store}: the event store holds the event it published last; nothing to reset")
        return
    console.print(f"rebuilt from the {store} event store: {', '.join(reset.rebuilt)}")
    console.print(
        f"[green]relay {store}: publishes from position {reset.position} (the store ends at {reset.end})[/green]"
    )


@app.command()
def remind(
    today: str = typer.Option(None, help="sweep as if it were this ISO date (local and test systems only)"),
) -> None:
    """Record what is due today: reminders of periodic reports (their mails follow), cases past their
    service level. A timer in the submissions service does this too."""
    from contracts.errors import ServiceError
    from contracts.identity import system_caller
    from infra.keys import load_signer
    from infra.nameko_support import PartRpcProxy, SigningProxy

    settings = load_settings()
    signer = load_signer(settings, "cli")
    try:
        with PartRpcProxy(settings.amqp_config(), "cli", timeout=settings.rpc_timeout_seconds) as rpc:
            submissions = SigningProxy(rpc.submissions, "submissions", signer)
            result = submissions.send_due_reminders(system_caller("cli"), today)
    except ServiceError as error:
        console.print(f"[red]satu remind:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"{result['reminders']} reminder(s) and {result['overdue_cases']} overdue case(s) recorded")


@app.command("demo-data")
def demo_data(
    organisations: int = typer.Option(200, "--organisations", min=1, help="how many ormas"),
    cases: int = typer.Option(1_000, "--cases", min=0, help="how many cases in all"),
    seed_value: int = typer.Option(1, "--seed", help="the same seed (and --until) gives the same dataset"),
    until: str = typer.Option(None, help="the dataset's present day, ISO date (default: now)"),
    years: int = typer.Option(None, min=1, help="how far back organisations were recorded (default: enough)"),
) -> None:
    """Write realistic demo data through the applications, in bulk, into a stopped system's stores: ormas of
    the region's kecamatan, every service and state, the read models built (nothing is mailed). Every generated
    account signs in with the password kept in var/demo-data-password.txt."""
    import datetime as dt
    import secrets
    from zoneinfo import ZoneInfo

    from infra.catalogue import load_catalogue
    from ops.demo_data.generator import GenerationError, generate
    from ops.demo_data.stores import GenerationRefused
    from ops.demo_data.writer import WriterFailed

    settings = load_settings()
    present = None
    if until is not None:
        try:
            day = dt.date.fromisoformat(until)
        except ValueError:
            console.print("[red]satu demo-data:[/red] --until must be an ISO date, e.g. 2026-06-30")
            raise typer.Exit(2) from None
        zone = ZoneInfo(load_catalogue(settings.region_dir).region.timezone)
        present = dt.datetime.combine(day, dt.time(16), zone)  # the office closes: the day is done
    password_file = settings.var_dir / "demo-data-password.txt"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
    password = password_file.read_text().strip()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("organisations", total=organisations)
        try:
            summary = generate(
                settings, organisations, cases, seed_value, present, years, password,
                progress=lambda done: bar.update(task, completed=done),
            )  # fmt: skip
        except (GenerationRefused, GenerationError, WriterFailed) as error:
            console.print(f"[red]satu demo-data:[/red] {error}")
            raise typer.Exit(1) from None
    events = sum(summary.events.values())
    console.print(
        f"{summary.organisations} organisations, {summary.cases} cases, {events} events "
        f"({', '.join(f'{name} {count}' for name, count in summary.events.items())}) in {summary.seconds:.0f} s: "
        f"{summary.events_per_second:.0f} events/s, read models built "
        f"({', '.join(f'{phase} {seconds:.0f} s' for phase, seconds in summary.phases.items())}; "
        f"{summary.cpu_seconds:.0f} s of CPU)"
    )
    console.print(f"every generated account's password is in {password_file}; for example:")
    for role, email in summary.sign_in.items():
        console.print(f"  {role:<10} {email}")


@app.command()
def seed() -> None:
    """Create the demo accounts and ormas in a running system, and print their passwords."""
    _seed_and_print()


def _seed_and_print() -> None:
    from ops.seed import APPLICANT, STAFF
    from ops.seed import seed as seed_demo

    settings = load_settings()
    passwords = seed_demo(settings)
    console.print(f"[bold]demo accounts[/bold] (kept in {settings.var_dir / 'demo-credentials.txt'}):")
    for email, _name, role in STAFF:
        console.print(f"  {role:<10} {email}  {passwords[email]}")
    console.print(
        f"  {'applicant':<10} {APPLICANT[0]}  {passwords[APPLICANT[0]]}  (ormas: Perkumpulan Pemuda Peduli Balikpapan)"
    )


if __name__ == "__main__":
    sys.exit(app())
