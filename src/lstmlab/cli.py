"""The command line: parse, build a config, call one function, say where the output went.

Every command is a plain function registered on ``app``; add a command by writing one more.
Errors the user can fix (a wrong file, a mismatched input) print one line and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(
    help="lstmlab: the LSTM laboratory. `tour` trains a small LSTM and shows how its forget "
    "gate discards information; `inspect` writes the same report for your own LSTM.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
console = Console()

OUT_HELP = "folder for the report (index.html, explorer.html, figures/*.png|svg)"


def fail(message: str) -> None:
    """One clear line on stderr and exit code 2 (a usage or input error, not a crash)."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=2)


@app.command()
def tour(
    out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("report"),
    seed: Annotated[int, typer.Option(help="seed of the corpus, the weights and the batches")] = 0,
    quick: Annotated[bool, typer.Option(help="a few seconds of training (numbers not "
                                        "meaningful)")] = False,
) -> None:
    """Train an LSTM and a simple RNN on pronoun agreement ("she ... her dog") in front of you,
    then show how the LSTM's forget gate decides what is discarded.

    Prints a short summary (each sentence a measured number) and writes OUT/index.html (the
    self-contained report: equations, gate heatmaps, gender units, retention, forget events,
    saturation, gradient flow), OUT/explorer.html (the interactive gate explorer) and
    OUT/figures/.
    """
    import torch

    from lstmlab.tour import TourConfig, run_tour, summary
    from lstmlab.tour.report import write_tour_report

    # The products are tiny (batch 32, 64 units): a second thread only adds synchronisation,
    # and one thread keeps the run steady when the machine is shared.
    torch.set_num_threads(1)
    config = TourConfig.quick(seed) if quick else TourConfig(seed=seed)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[loss]}"),
                  TimeElapsedColumn(), console=console) as progress:
        tasks: dict[str, int] = {}

        def on_step(name: str, step: int, total: int, loss: float) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(f"training {name}", total=total, loss="")
            progress.update(tasks[name], completed=step + 1, loss=f"loss {loss:.3f}")

        result = run_tour(config, on_step=on_step)
    for line in summary(result):
        console.print("• " + line, highlight=False)
    paths = write_tour_report(result, out)
    console.print(f"Report: {paths['index']}  Explorer: {paths['explorer']}", highlight=False)


@app.command()
def inspect(
    model: Annotated[Path, typer.Argument(help="a torch.nn.LSTM state dict (.pt/.pth) or a "
                                          "Keras LSTM (.keras, .weights.h5)")],
    text: Annotated[str | None, typer.Option(
        help="whitespace-separated tokens to feed the model (one-hot per distinct token if it "
        "fits the input width, else a fixed random embedding drawn from --seed)")] = None,
    input: Annotated[Path | None, typer.Option(
        "--input", help="an array (T, I) or (B, T, I) in a .npy or .pt file: the model's real "
        "inputs")] = None,
    out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("report"),
    seed: Annotated[int, typer.Option(help="seed of the --text embedding")] = 0,
) -> None:
    """Write the tour's report for your own LSTM: gate heatmaps, retention, forget events,
    saturation and gradient flow on your input.

    Reads MODEL with torch.load(weights_only=True) (a state dict; a whole pickled module is
    refused: save model.state_dict() instead) or with h5py (Keras). Writes OUT/index.html,
    OUT/explorer.html and OUT/figures/.
    """
    from lstmlab.interop import InteropError
    from lstmlab.reports.inspection import InspectError, inspect_model

    if (text is None) == (input is None):
        fail("give exactly one of --text and --input")
    try:
        paths, lines = inspect_model(model, text=text, input_path=input, out=out, seed=seed)
    except (InteropError, InspectError) as error:
        fail(str(error))
    for line in lines:
        console.print("• " + line, highlight=False)
    console.print(f"Report: {paths['index']}  Explorer: {paths['explorer']}", highlight=False)


@app.command()
def version() -> None:
    """Print the installed lstmlab version."""
    from lstmlab import __version__

    typer.echo(__version__)


def _method_factories() -> dict[str, object]:
    """Method names on the command line -> the functions that build them (the one place where
    these names become objects)."""
    from lstmlab.competitors.methods import COMPETITORS
    from lstmlab.reproduce import METHODS

    return {**METHODS, **COMPETITORS}


@app.command()
def reproduce(
    experiment: Annotated[list[str] | None, typer.Argument(
        help="experiments of Hochreiter & Schmidhuber 1997 to run: 1 2a 2b 2c 3a 3b 3c 4 5 6a "
        "6b (default: all)")] = None,
    method: Annotated[list[str] | None, typer.Option(
        "--method", help="lstm1997 (the paper's set-up; default), modern, or a competitor: "
        "rtrl, bptt, elman, rcc, chunker, guess; repeat for several, or 'all'")] = None,
    trials: Annotated[int | None, typer.Option(help="trials per experiment and method "
                                               "(default: the paper's)")] = None,
    budget: Annotated[int | None, typer.Option(help="training sequences at most per trial "
                                               "(default: the experiment's cap)")] = None,
    quick: Annotated[bool, typer.Option(help="2 trials of 200 sequences: a smoke run of the "
                                        "whole pipeline, not a reproduction")] = False,
    out: Annotated[Path, typer.Option(help="folder for trials.sqlite (every finished trial, "
                                      "resumable), results.md and results.html")
                   ] = Path("reproduce"),
    ray: Annotated[str | None, typer.Option(
        "--ray", help="run the trials as Ray tasks: 'local' starts Ray on this machine (one "
        "trial per core), or a cluster address ('auto', 'ray://HOST:10001'); the stored "
        "results are the same as without")] = None,
) -> None:
    """Re-run the 1997 experiments: tasks x methods x trials, each trial committed to
    OUT/trials.sqlite as it finishes (a killed run started again skips finished trials), then
    the published numbers and ours side by side in the terminal, OUT/results.md and
    OUT/results.html (with learning curves)."""
    from lstmlab.reproduce import ReproduceConfig, experiments, progress_bar, rich_tables, run

    factories = _method_factories()
    names = method or ["lstm1997"]
    if names == ["all"]:
        names = list(factories)
    unknown = [name for name in names if name not in factories]
    if unknown:
        fail(f"--method: expected one of {', '.join(factories)}, received {', '.join(unknown)}")
    try:
        chosen = experiments(tuple(experiment or ()))
        methods = tuple(factories[name]() for name in names)
        if ray is not None:
            from lstmlab.reproduce.on_ray import OnRay

            methods = tuple(OnRay(m, address=None if ray == "local" else ray) for m in methods)
        config = ReproduceConfig(chosen, methods, trials=trials, budget=budget, quick=quick,
                                 out=out)
    except ValueError as error:
        fail(str(error))
    with progress_bar(console) as report:
        results = run(config, progress=report)
    for table in rich_tables(results):
        console.print(table)
    console.print(f"Trials: {out / 'trials.sqlite'}  Tables: {out / 'results.md'}, "
                  f"{out / 'results.html'}", highlight=False)


@app.command()
def results(
    export: Annotated[list[Path] | None, typer.Option(
        "--export", help="a run's trials.sqlite whose rows are first copied into "
        "results/trials/*.csv (repeat for several)")] = None,
    root: Annotated[Path, typer.Option(help="the repository (holds results/ and RESULTS.md)")
                    ] = Path("."),
) -> None:
    """Render RESULTS.md and results/summary.csv from the trials committed under
    results/trials/ (and results/template.md): the same files, byte for byte, on every run."""
    from lstmlab.reproduce.results import TRIALS_DIR, export_store, write

    try:
        for store in export or ():
            added = export_store(store, root / TRIALS_DIR)
            console.print(f"{store}: {added} new trial rows", highlight=False)
        for path in write(root):
            console.print(f"wrote {path}", highlight=False)
    except (ValueError, OSError) as error:
        fail(str(error))
