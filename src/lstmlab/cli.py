"""The command line: parse, build a config, call one function, say where the output went."""

from __future__ import annotations

import typer

app = typer.Typer(help="lstmlab: the LSTM laboratory.", no_args_is_help=True)


@app.command()
def tour(out: str = typer.Option("report", help="folder for the report")) -> None:
    """Train a small LSTM in front of you and show how its forget gate discards information."""
    typer.echo(f"The tour is not built yet; it will write its report to {out}/.")


@app.command()
def version() -> None:
    """Print the version."""
    from lstmlab import __version__

    typer.echo(__version__)
