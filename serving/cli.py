"""The `retain` command line: one entry point for data, features, training and serving.

Each command is a thin wrapper; the work lives in the module it names, imported
inside the command so that `retain --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="retain: churn and upsell scores with next-best-actions for customer-success teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def simulate(
    accounts: int = typer.Option(2000, help="How many customer accounts to simulate."),
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same world."),
    out: Path = typer.Option(..., help="Directory to write the contract tables into."),
    months: int = typer.Option(24, help="How many months of history."),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
) -> None:
    """Write a simulated SaaS world in the data-contract format, with ground truth."""
    from simulator.world import simulate_to_dir

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    simulate_to_dir(out, n_accounts=accounts, seed=seed, months=months, fmt=fmt, progress=True)
    typer.echo(f"Wrote a simulated world of {accounts} accounts to {out}")


@app.command()
def validate(
    data: str = typer.Option(..., help="A directory of CSV/Parquet files or a database URL."),
) -> None:
    """Check a source against the data contract; exit 1 listing every problem."""
    from features.source import open_source
    from features.validate import validate_source

    with open_source(data) as source:
        problems = validate_source(source)
    if problems:
        typer.echo(f"{data}: {len(problems)} problem(s) with the data contract:", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{data}: follows the data contract ({', '.join(sorted(source.present))}).")


if __name__ == "__main__":
    app()
