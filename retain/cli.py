"""The `retain` command line: one entry point for data, features, training and serving.

Each command is a thin wrapper; the work lives in the module it names, imported inside the
command so that `retain --help` stays fast. Every command reads the same settings
(`retain.settings`: `RETAIN_*` variables and `.env`), so `train`, `promote`, `score` and
`serve` agree on the registry and the playbook.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from retain.settings import Settings

app = typer.Typer(
    help="retain: churn and upsell scores with next-best-actions for customer-success teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ENGINE = typer.Option(
    None, "--engine", help="Run the feature SQL on duckdb or spark (default: RETAIN_ENGINE)."
)
SPARK_MASTER = typer.Option(
    None, "--spark-master", help="Spark master URL (default: RETAIN_SPARK_MASTER, local[2])."
)


def _use_engine(engine: str | None, spark_master: str | None) -> None:
    """Open this command's sources on --engine: DuckDB here, or Spark at --spark-master."""
    from features.engines import use_engine

    settings = read_settings()
    try:
        use_engine(engine or settings.engine, spark_master or settings.spark_master)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def fail(message: str, code: int = 2) -> NoReturn:
    """Say what to fix in one line on stderr and exit (2: a wrong argument)."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=code)


def read_settings() -> Settings:
    """The settings of this process, or a one-line error naming the `RETAIN_*` variable to fix."""
    from features.units import use_currency
    from retain.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as error:
        fail(str(error))
    use_currency(settings.currency)  # amounts in the drivers' sentences and files
    return settings


def as_of_option(value: str | None) -> datetime | None:
    """An `--as-of` read by the API's rules (`serving.as_of`), or a one-line error."""
    from serving.as_of import parse_as_of

    if not value:
        return None
    try:
        return parse_as_of(value)
    except ValueError as error:
        fail(f"--as-of: {error}")


def week_option(value: str | None) -> date | None:
    """A `--week`: a calendar date written YYYY-MM-DD, or a one-line error."""
    if not value:
        return None
    text = value.strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--week: {value!r} is not a date; give it as YYYY-MM-DD, e.g. 2026-11-16")


def quiet_mlflow() -> None:
    """MLflow's warnings and download bars to debug level; retain's own output stays."""
    from training.tracking import quiet_mlflow as quiet

    quiet()


@app.command()
def simulate(
    accounts: int = typer.Option(2000, help="How many customer accounts to simulate."),
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same world."),
    out: Path = typer.Option(..., help="Directory to write the contract tables into."),
    months: int = typer.Option(24, help="How many months of history."),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
    structure_seed: int | None = typer.Option(
        None,
        help="Draw the world's causal structure (what drives churn, what each action does,"
        " the CS team's habits, the account mix) from this seed; default: the demo's.",
    ),
) -> None:
    """Write a simulated SaaS world in the data-contract format, with ground truth."""
    from simulator.world import simulate_to_dir

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    simulate_to_dir(
        out,
        n_accounts=accounts,
        seed=seed,
        months=months,
        fmt=fmt,
        progress=True,
        structure_seed=structure_seed,
    )
    typer.echo(f"Wrote a simulated world of {accounts} accounts to {out}")


@app.command()
def validate(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
) -> None:
    """Check a source against the data contract; exit 1 listing every problem.

    Touchpoint types that are not action codes are allowed: a note counts them and says
    which action code a type looks like ("Health Check": health_check). So are subscription
    rows booked ahead (a note says they do not move the end of the data) and two terms in
    force at once (a note says which one the contract reads as the account's term), and so
    are tickets without a close date opened over a year before the end of the data (a note
    says the support signals read them as open pain today), and so are terms ended with no
    outcome recorded (a note says those accounts are not scored until one is). So are
    many renewals rising by one same share with the same seats and plan (a note names the
    share and the `upsell_min_rise` above it, as a new price list would need), and accounts
    in force for 90 days or more with no event while others had events (a note says their
    usage reads no use then). So are a loader's faults: events equal in every column,
    touchpoints equal in all but their id, an `events/` file without a column the others
    have, events dated before their account's created_at, terms at ARR 0, and earlier
    terms with no outcome though a later term began (a note says each changes the figures
    and nothing is dropped). A table whose dates run days past the latest event, or events
    stamped past their own steady stream (an export artefact, a wrong clock), is a
    warning: it does not set the end of the data.
    """
    from features.pipeline_notes import missing_columns_note
    from features.source import open_source
    from features.validate import source_notes, validate_source

    with open_source(data) as source:
        problems = validate_source(source)
        # on the source's own tables and files, before the typed views
        notes = source_notes(source) + [n for n in [missing_columns_note(source)] if n]
        warning, more = _typed_notes(source, problems)
        notes += more
    if problems:
        typer.echo(f"{data}: {len(problems)} problem(s) with the data contract:", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        for note in notes:
            typer.echo(note, err=True)
        if warning:
            typer.echo(warning, err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{data}: follows the data contract ({', '.join(sorted(source.present))}).")
    if warning:
        typer.echo(warning, err=True)
    for note in notes:
        typer.echo(note)


def _typed_notes(source: Any, problems: list[Any]) -> tuple[str | None, list[str]]:
    """`validate`'s late-activity warning and its notes on terms, tickets and dates.

    They read the typed tables: a missing table or column (a problem not about rows), or a
    value DuckDB cannot read, stops that, and then a note says the fix comes first. Beside
    problems about rows, the notes are said on the rows that could be read.
    """
    import duckdb

    from features.account_moves import moved_accounts_note
    from features.dated_notes import price_list_note, silent_accounts_note
    from features.horizon import late_activity_warning
    from features.pipeline_notes import (
        duplicate_events_note,
        duplicate_touchpoints_note,
        events_before_signup_note,
        unsettled_terms_note,
        zero_arr_terms_note,
    )
    from features.source import create_typed_views
    from features.today_values import churned_accounts_note, moved_key_flags_note
    from features.tracking_start import late_tracking_note
    from features.validate import (
        booked_ahead_note,
        concurrent_terms_note,
        expansions_past_term_note,
        lapsed_terms_note,
        price_rise_note,
        renewal_after_gap_note,
        stale_tickets_note,
    )

    waiting = [
        "Note: the checks of terms, tickets and dates run once the problems above are fixed."
    ]
    if any(not problem.rows for problem in problems):
        return None, waiting
    try:
        create_typed_views(source)
        warning = late_activity_warning(source.con)
        found = [
            booked_ahead_note(source.con),
            concurrent_terms_note(source.con),
            expansions_past_term_note(source.con),
            lapsed_terms_note(source.con),
            unsettled_terms_note(source.con),
            price_rise_note(source.con),
            price_list_note(source.con),
            renewal_after_gap_note(source.con),
            silent_accounts_note(source.con),
            stale_tickets_note(source.con),
            late_tracking_note(source.con),
            duplicate_events_note(source.con),
            duplicate_touchpoints_note(source.con),
            events_before_signup_note(source.con),
            zero_arr_terms_note(source.con),
            churned_accounts_note(source.con),
            moved_key_flags_note(source.con),
            moved_accounts_note(source.con),
            _cost_scale_note(source.con),
        ]
    except duckdb.Error:
        if not problems:
            raise
        return None, waiting
    notes = [note for note in found if note]
    if problems and (notes or warning):
        notes.insert(
            0, "Notes on the rows that could be read (fixing the problems may change them):"
        )
    return warning, notes


def _cost_scale_note(con: Any) -> str | None:
    """`validate`'s note when the packaged action costs do not look like the ARR's money."""
    from training.uplift.config import cost_scale_note, load_uplift_config

    row = con.execute(
        "SELECT median(arr) FROM subscriptions WHERE kind IN ('new', 'renewal') AND arr > 0"
    ).fetchone()
    return cost_scale_note(None if row is None else row[0], load_uplift_config())


def _recorded_touchpoints() -> Any:
    """The touchpoints recorded through the service (RETAIN_STORE_URL), or None, saying why."""
    from serving.recorded import read_touchpoints

    return read_touchpoints(read_settings().store_url, lambda said: typer.echo(said, err=True))


@app.command()
def features(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    as_of: str = typer.Option(
        ..., "--as-of", help="Snapshot date or time T (UTC), e.g. 2025-01-01."
    ),
    output: Path | None = typer.Option(
        None, help="Write the features to this .parquet or .csv file."
    ),
    engine: str | None = ENGINE,
    spark_master: str | None = SPARK_MASTER,
) -> None:
    """Compute point-in-time features of every account active at --as-of.

    The touchpoints features count the touchpoints recorded through the service
    (RETAIN_STORE_URL, default sqlite:///var/retain-store.db) with the source's, as scores do.
    """
    from features.compute import compute_features
    from features.dataset import write_frame
    from features.definitions import FEATURE_NAMES
    from features.engines.spark import FeatureEngineError
    from features.engines.spark_sources import SparkSourceError
    from features.source import ContractError, load_source

    _use_engine(engine, spark_master)
    recorded = _recorded_touchpoints()
    try:
        with load_source(data, recorded) as source:
            frame = compute_features(source.con, as_of)
    except (ContractError, SparkSourceError, FeatureEngineError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    if output is not None:
        written = write_frame(frame, output)
        typer.echo(f"Wrote {len(frame)} accounts x {len(FEATURE_NAMES)} features to {written}")
        return
    typer.echo(f"{len(frame)} accounts active as of {as_of}, {len(FEATURE_NAMES)} features:")
    summary = frame[list(FEATURE_NAMES)].describe().T[["mean", "min", "50%", "max"]]
    typer.echo(
        summary.assign(missing=frame[list(FEATURE_NAMES)].isna().mean()).round(3).to_string()
    )


@app.command()
def dataset(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    start: str = typer.Option(
        ..., "--from", help="First snapshot date (month steps start at month starts)."
    ),
    end: str = typer.Option(..., "--to", help="Last snapshot date."),
    every: str = typer.Option("1M", help="Step between snapshots: e.g. 1M, 2W, 7D."),
    output: Path | None = typer.Option(
        None, help="Write the training set to this .parquet or .csv file."
    ),
    upsell_min_rise: float = typer.Option(
        0.0,
        min=0.0,
        max=0.99,
        help="Share a renewal's ARR must rise by to be an upsell, as `upsell_min_rise` in the"
        " training config (0: any rise).",
    ),
    engine: str | None = ENGINE,
    spark_master: str | None = SPARK_MASTER,
) -> None:
    """Build a training set of snapshots with churn and upsell labels.

    The touchpoints features count the touchpoints recorded through the service
    (RETAIN_STORE_URL, default sqlite:///var/retain-store.db) with the source's, as
    `retain train` does.
    """
    from features.dataset import build_dataset, upsell_known_early, write_frame
    from features.engines.spark import FeatureEngineError
    from features.engines.spark_sources import SparkSourceError
    from features.horizon import data_horizon
    from features.labels import UPSELL_WINDOW_DAYS
    from features.snapshots import parse_every
    from features.source import ContractError, load_source

    try:
        parse_every(every)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    _use_engine(engine, spark_master)
    recorded = _recorded_touchpoints()
    try:
        with load_source(data, recorded) as source:
            frame = build_dataset(source.con, start, end, every, upsell_min_rise)
            horizon = data_horizon(source.con)
    except (ContractError, SparkSourceError, FeatureEngineError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    snapshots = frame["as_of"].nunique()
    typer.echo(
        f"{len(frame)} rows from {snapshots} snapshots; "
        f"churn known on {frame['churn'].notna().sum()} "
        f"(rate {frame['churn'].mean():.3f}), upsell known on {frame['upsell'].notna().sum()} "
        f"(rate {frame['upsell'].mean():.3f})"
    )
    early = upsell_known_early(frame, horizon)
    if early:
        typer.echo(
            f"Note: {early:,} upsell positives are snapshots from the last"
            f" {UPSELL_WINDOW_DAYS} days before the data's end ({horizon:%Y-%m-%d}): known"
            " because the expansion already came, while those months' negatives are not known"
            " yet, so their upsell rate reads high. `retain train` reads a snapshot's upsell"
            f" only once its {UPSELL_WINDOW_DAYS} days have passed."
        )
    if output is not None:
        typer.echo(f"Wrote the training set to {write_frame(frame, output)}")


@app.command()
def serve(
    data: str = typer.Option(None, help="Source to serve (default: RETAIN_DATA)."),
    host: str = typer.Option(None, help="Interface to listen on (default: RETAIN_HOST)."),
    port: int = typer.Option(None, help="Port (default: RETAIN_PORT)."),
) -> None:
    """Start the scoring API with the champion models and the source's latest features.

    Reads the champions from RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db) and
    keeps a copy in RETAIN_MODEL_CACHE (default mlruns/.serving-cache), writes touchpoints
    and the score log to RETAIN_STORE_URL (default sqlite:///var/retain-store.db), paths
    relative to the current directory, and lets in only clients sending a key listed in
    RETAIN_API_KEYS (no default: nobody).
    """
    import os

    import uvicorn

    from retain.settings import get_settings
    from serving.app import create_app
    from serving.security import check_keys

    # One OpenMP thread per LightGBM call: concurrent requests then share the cores
    # instead of spin-waiting on each other (set before LightGBM first runs).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if data:
        os.environ["RETAIN_DATA"] = data
    get_settings.cache_clear()
    settings = read_settings()
    if not settings.data:
        raise typer.BadParameter("give --data or set RETAIN_DATA")
    if not settings.api_key_list:
        typer.echo("Warning: RETAIN_API_KEYS is empty; scoring requests will get 401.", err=True)
    try:
        check_keys(settings.api_key_list)
    except ValueError as error:
        fail(str(error))
    quiet_mlflow()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@app.command()
def score(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    output: Path = typer.Option(..., help="Where to write the scores: .parquet or .csv."),
    as_of: str = typer.Option(None, "--as-of", help="Score as of this date (default: latest)."),
    engine: str | None = ENGINE,
    spark_master: str | None = SPARK_MASTER,
) -> None:
    """Score every active account (drivers and actions included) into a file for the CRM.

    As of the latest data, a note names the accounts left out because their latest term
    ended with no outcome recorded (no term in force: not active).

    Reads the champions from RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db), keeps
    a copy in RETAIN_MODEL_CACHE (default mlruns/.serving-cache) and logs every row to
    RETAIN_STORE_URL (default sqlite:///var/retain-store.db), paths relative to the current
    directory.
    """
    from features.source import ContractError
    from serving.batch import check_output, run_batch
    from serving.models import NoChampionsError
    from store import StoreUnavailable

    _use_engine(engine, spark_master)
    when = as_of_option(as_of)
    try:
        check_output(output)  # before any work: a wrong path fails now, not after scoring
    except ValueError as error:
        fail(f"--output: {error}")
    quiet_mlflow()
    try:
        count = run_batch(data, output, when, read_settings(), notes=_note)
    except (ContractError, NoChampionsError, ValueError) as error:
        fail(str(error), code=1)
    except StoreUnavailable as error:
        typer.echo(f"Wrote the scores to {output} but could not log them: {error}", err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"Wrote scores of {count} accounts to {output} (and to the score log)")


def _note(text: str) -> None:
    typer.echo(text, err=True)


@app.command()
def train(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    as_of: str = typer.Option(
        None, "--as-of", help="Use labels known at this date (default: the data's horizon)."
    ),
    config: Path | None = typer.Option(None, help="Training YAML (default: the packaged one)."),
    engine: str | None = ENGINE,
    spark_master: str | None = SPARK_MASTER,
) -> None:
    """Train the churn and upsell models, log them to MLflow and run the promotion gate.

    Writes runs and models to RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db,
    artifacts in mlruns/artifacts) and reads the touchpoints recorded through the service
    from RETAIN_STORE_URL (default sqlite:///var/retain-store.db), paths relative to the
    current directory.
    """
    from actions.playbook import PlaybookError, load_playbook
    from features.source import ContractError
    from store import Store, StoreUnavailable
    from training.config import load_config
    from training.train import summary_lines
    from training.train import train as train_models

    settings = read_settings()
    _use_engine(engine, spark_master)
    when = as_of_option(as_of)
    quiet_mlflow()
    try:
        with Store(settings.store_url) as store:  # touchpoints recorded through the service
            recorded = store.touchpoints()
        result = train_models(
            data,
            when,
            load_config(config),
            report=typer.echo,
            tracking_uri=settings.mlflow_uri,
            playbook=load_playbook(settings.playbook),
            recorded_touchpoints=recorded,
        )
    except (ContractError, PlaybookError, StoreUnavailable, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo("\n".join(summary_lines(result, reasons=False)))  # reported as they happened
    note = _train_cost_scale_note(data)
    if note:
        typer.echo(note)


def _train_cost_scale_note(data: str) -> str | None:
    """`validate`'s note on the ARR's scale against the action costs, for `train` too.

    The twentieth audit's ARR in thousands: `train` said only that the learned actions
    cost more than they save. None where the source cannot be read here.
    """
    import duckdb

    from features.source import ContractError, create_typed_views, open_source

    try:
        with open_source(data) as source:
            create_typed_views(source)
            return _cost_scale_note(source.con)
    except (ContractError, duckdb.Error, OSError, ValueError):
        return None


@app.command()
def models() -> None:
    """List the registered model versions with their aliases and test metrics.

    Reads RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db, relative to the current
    directory).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from training.credentials import describe_error
    from training.registry import list_versions
    from training.tracking import configure_mlflow

    quiet_mlflow()
    try:
        configure_mlflow(read_settings().mlflow_uri)
        versions = list_versions(MlflowClient())
    except MlflowException as error:  # the registry is unreachable: say so, without secrets
        fail(f"the model registry: {describe_error(error)}", code=1)
    if versions.empty:
        typer.echo("No registered models yet: run `retain train`.")
        return
    typer.echo(versions.to_string(index=False))


@app.command()
def promote(
    model: str = typer.Option(..., help="churn or upsell."),
    version: str = typer.Option(..., help="The version to make champion."),
) -> None:
    """Move the champion alias of a model to a version by hand.

    Writes to RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db, relative to the current
    directory).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from training.credentials import describe_error
    from training.names import model_name
    from training.registry import promote as promote_version
    from training.tracking import configure_mlflow

    quiet_mlflow()
    try:
        configure_mlflow(read_settings().mlflow_uri)
        promote_version(MlflowClient(), model, version)
    except MlflowException as error:  # the registry is unreachable: say so, without secrets
        fail(f"the model registry: {describe_error(error)}", code=1)
    except (KeyError, ValueError) as error:  # a KeyError's str() would quote its sentence
        typer.echo(str(error.args[0]) if error.args else str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"{model_name(model)} v{version} is now champion")


@app.command()
def plan(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    output: Path = typer.Option(..., help="Where to write the plan lines: .parquet or .csv."),
    week: str = typer.Option(
        None,
        "--week",
        help="Any date in the week to plan, YYYY-MM-DD; the week starts on its Monday "
        "(default: the first week that starts at or after the end of the data).",
    ),
    config: Path | None = typer.Option(
        None, help="Plan settings YAML (default: RETAIN_PLAN, else actions/plan.yaml)."
    ),
) -> None:
    """Plan the CS team's week: at most one action per account, within each CSM's hours.

    Reads the champions from RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db), keeps
    a copy in RETAIN_MODEL_CACHE (default mlruns/.serving-cache) and the plan in
    RETAIN_STORE_URL (default sqlite:///var/retain-store.db), paths relative to the current
    directory.
    """
    from actions.plan_config import PlanConfigError, load_plan_config
    from features.units import money
    from serving.models import NoChampionsError
    from serving.plan import run_plan, summary
    from store import StoreUnavailable

    settings = read_settings()
    when = week_option(week)
    plan_file = config or settings.plan
    quiet_mlflow()
    try:
        plan_config = load_plan_config(plan_file)
        built, stored = run_plan(data, output, when, settings, plan_config, str(plan_file))
    except StoreUnavailable as error:
        typer.echo(f"Wrote the plan to {output} but could not store it: {error}", err=True)
        raise typer.Exit(code=1) from error
    except (PlanConfigError, NoChampionsError, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    figures, plan = summary(built), built.plan
    chosen = (
        f"it was chosen at those values: {money(plan.value)} for its optimised lines"
        if plan_config.choose_at == "stated"
        else f"it was chosen at {money(plan.value)} with the hidden selection CSMs make taken out"
    )
    typer.echo(
        f"Plan {built.plan_id} for the week of {plan.week:%Y-%m-%d}: "
        f"{len(plan.lines)} lines {figures['lines']}; its lines to do are expected to"
        f" save {money(plan.expected_value)} ARR net of cost as history shows it; {chosen}"
        f" (controls included; greedy plan {money(plan.greedy_value)}, bound "
        f"{money(plan.bound)}); candidate lines (an account and an action each) left out: "
        + ", ".join(f"{n} {rule}" for rule, n in plan.excluded.items() if n)
        + f"; {plan.unreached} more accounts with an action worth doing wait"
        " beyond the week's hours and caps"
    )
    typer.echo(f"Wrote it to {output}" + (" and the store" if stored else " (already stored)"))
    for warning in built.warnings:
        typer.echo(f"Warning: {warning}", err=True)


@app.command()
def experiments(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    plan_files: list[Path] = typer.Option(
        None, "--plan", help="Plan files from `retain plan` (default: the store's plans)."
    ),
) -> None:
    """Per action: the effect measured on the plans' randomized slice next to the model's.

    Reads the plans from RETAIN_STORE_URL (default sqlite:///var/retain-store.db) and the
    uplift champion from RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db), paths
    relative to the current directory.
    """
    from serving.plan_experiments import run_experiments
    from store import StoreUnavailable

    quiet_mlflow()
    try:
        _, sentences = run_experiments(data, read_settings(), plan_files or None)
    except (StoreUnavailable, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo("\n".join(sentences))


@app.command("evaluate-policy")
def evaluate_policy(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    config: Path | None = typer.Option(
        None, help="Training YAML whose snapshots make the history (default: the packaged one)."
    ),
) -> None:
    """Estimate from your own history what the learned policy, the playbook and the CS team save.

    A doubly robust off-policy estimate with bootstrap intervals; says where history is too
    thin to judge (which actions, which ARR segments). Needs a registered uplift champion.

    Reads it from RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db) and the touchpoints
    recorded through the service from RETAIN_STORE_URL (default sqlite:///var/retain-store.db),
    paths relative to the current directory.
    """
    from actions.playbook import PlaybookError, load_playbook
    from store import Store, StoreUnavailable
    from training.config import load_config
    from training.uplift.offpolicy_run import ChampionMissing, load_champion
    from training.uplift.offpolicy_run import evaluate_policy as estimate

    settings = read_settings()
    quiet_mlflow()
    try:
        try:
            model = load_champion(settings.mlflow_uri)
        except ChampionMissing as missing:
            if _touchpoint_count(data, settings.store_url) == 0:
                raise ChampionMissing(
                    f"nothing to evaluate: no touchpoints (what the CS team did) in {data} or"
                    " recorded through the service, so `retain train` cannot learn action"
                    " effects and no policy can be judged; the playbook ranks actions. Record"
                    " what the team does (a `touchpoints` table in the source, or POST"
                    " /v1/touchpoints), then run `retain train` once renewals follow."
                ) from missing
            raise
        with Store(settings.store_url) as store:  # touchpoints recorded through the service
            recorded = store.touchpoints()
        playbook = load_playbook(settings.playbook)
        training = load_config(config) if config is not None else None
        estimate(data, model, playbook, report=typer.echo, recorded=recorded, config=training)
    except (ChampionMissing, PlaybookError, StoreUnavailable, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error


def _touchpoint_count(data: str, store_url: str) -> int | None:
    """Touchpoints in the source and the service's store, each once; None if unreadable."""
    from features.source import load_source
    from store import Store, combine_touchpoints
    from training.uplift.data import load_touchpoints

    try:
        with load_source(data) as source:  # read once
            from_source = load_touchpoints(source.con)
        with Store(store_url) as store:
            recorded = store.touchpoints()
        return len(combine_touchpoints(from_source, recorded))
    except Exception:  # noqa: BLE001 - only chooses which message to print
        return None


@app.command("closed-loop")
def closed_loop(
    accounts: int = typer.Option(300, help="Accounts in the simulated world."),
    seed: int = typer.Option(7, help="The world's data seed (every arm lives the same)."),
    structure_seed: int | None = typer.Option(
        None, help="Draw the world's causal structure from this seed (default: the demo's)."
    ),
    burn_in: int = typer.Option(12, help="Months of history with the world's own CS team."),
    months: int = typer.Option(12, help="Months of the closed loop."),
    follow: float = typer.Option(0.8, help="Chance the team does a planned or random line."),
    sense: float = typer.Option(
        0.0,
        help="How much that chance follows the account's true churn log-odds, which the data"
        " does not show (0: CSMs skip lines at random).",
    ),
    own_team: float = typer.Option(
        0.0, help="Chance the world's own CS team also acts, as it did, where the plan does not."
    ),
    control_share: float | None = typer.Option(
        None, help="The randomized arm's control share (default: the plan file's)."
    ),
    random_share: float | None = typer.Option(
        None, help="The randomized arm's random share (default: the plan file's)."
    ),
    output: Path = typer.Option(Path("outputs/closed-loop"), help="Folder for the results."),
) -> None:
    """Prove the loop on the simulator: plan, act, record, retrain monthly; vs the playbook.

    Arms on the same world and seeds: the learned plan with randomized slices, without
    them, and the playbook alone. Writes months.csv, report.txt and each arm's store.
    """
    from actions.plan_config import PlanConfigError, load_plan_config
    from training.closed_loop import LoopSettings, run_closed_loop
    from training.closed_loop_score import write_report

    if not 0.0 <= follow <= 1.0:
        raise typer.BadParameter("--follow must be between 0 and 1")
    try:
        settings = LoopSettings(
            accounts, seed, structure_seed, burn_in, months, follow, sense=sense,
            own_team=own_team, control_share=control_share, random_share=random_share,
        )  # fmt: skip
        report = run_closed_loop(
            settings, output, load_plan_config(read_settings().plan), report=typer.echo
        )
    except (PlanConfigError, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo(report.describe())
    written = write_report(report, output)
    typer.echo(f"Wrote {', '.join(str(path) for path in written)}")


@app.command()
def monitor(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    as_of: str = typer.Option(
        None, "--as-of", help="Judge the snapshot at this date (default: the latest)."
    ),
    thresholds: Path | None = typer.Option(
        None, help="Thresholds YAML (default: training/monitor/monitor.yaml)."
    ),
) -> None:
    """Compare today's accounts and logged scores with the champion; exit 1 on an alarm.

    Also exit 1 on a diagnosis without an alarm (a change in how events are logged).

    Reads the champion from RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db) and the
    score log from RETAIN_STORE_URL (default sqlite:///var/retain-store.db), and writes its
    results to RETAIN_MONITOR_RESULTS (default var/monitor/latest.json), paths relative to
    the current directory.
    """
    from store import StoreUnavailable
    from training.monitor.drift import MissingFeatures
    from training.monitor.run import NoChampion, run_monitor
    from training.monitor.thresholds import ThresholdsError

    settings = read_settings()
    quiet_mlflow()
    try:
        report = run_monitor(
            data,
            settings.mlflow_uri,
            settings.store_url,
            thresholds,
            as_of_option(as_of),  # the API's rules: an offset converts to UTC
            settings.monitor_results,
        )
    except (MissingFeatures, NoChampion, ThresholdsError, StoreUnavailable, ValueError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo("\n".join(report.lines()))
    if report.needs_attention:
        raise typer.Exit(code=1)


@app.command()
def retrain(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
    reports: Path = typer.Option(Path("outputs/retrain"), help="Folder of the one-page reports."),
    thresholds: Path | None = typer.Option(
        None, help="Monitor thresholds YAML (default: training/monitor/monitor.yaml)."
    ),
    config: Path | None = typer.Option(
        None, help="Training YAML, as `retain train --config` (default: the packaged one)."
    ),
) -> None:
    """For cron: retrain, promote only a better model, monitor, write the one-page report.

    Exits 1 when an alarm remains after retraining, or a diagnosis (a change in how events
    are logged) stands without one (cron then mails it). Writes to
    RETAIN_MLFLOW_URI (default sqlite:///mlruns/mlflow.db) and RETAIN_MONITOR_RESULTS
    (default var/monitor/latest.json) and reads RETAIN_STORE_URL (default
    sqlite:///var/retain-store.db), paths relative to the current directory.
    """
    from actions.playbook import PlaybookError, load_playbook
    from store import StoreUnavailable
    from training.config import load_config
    from training.monitor.drift import MissingFeatures
    from training.monitor.retrain import retrain as retrain_and_report
    from training.monitor.run import NoChampion
    from training.monitor.thresholds import ThresholdsError

    settings = read_settings()
    quiet_mlflow()
    try:
        outcome = retrain_and_report(
            data,
            settings.mlflow_uri,
            settings.store_url,
            playbook=load_playbook(settings.playbook),
            reports=reports,
            thresholds=thresholds,
            results=settings.monitor_results,
            report=typer.echo,
            train_options={"config": load_config(config)} if config is not None else None,
        )
    except (
        MissingFeatures, NoChampion, PlaybookError, StoreUnavailable, ThresholdsError, ValueError
    ) as error:  # fmt: skip
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo("\n".join(outcome.monitor.lines()))
    typer.echo(f"Report for CS ops: {outcome.page}")
    if outcome.monitor.needs_attention:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    app()
