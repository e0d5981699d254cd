"""The command line: parse, build a config, call one function, say where the output went.

Every command is a plain function registered on ``app``; add a command by writing one more.

Errors: one path for every command (:class:`_OneErrorPath`, the app's group class).
- A failure the user can fix prints one line, ``error: ...`` naming the argument or file and
  what was expected, on stderr, and exits with code 2: a :class:`~lstmlab.errors.UserError`
  from anywhere in lstmlab, a wrong command line (click's usage errors, made one line), and the
  operating system refusing a path of the user's (permission denied, not a folder, disk full).
  Options that name a folder to write (``--out``) are checked when parsed, before any work.
- Anything else is a bug in lstmlab: the traceback, then one line saying so, exit code 1. The
  traceback is always shown because the run that crashed may have taken hours to get there.
- ``lstmlab --debug COMMAND`` (or ``LSTMLAB_DEBUG=1``) also prints the traceback of the errors a
  user can fix, for whoever wants to see where they were raised.
"""

from __future__ import annotations

import errno
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from lstmlab import _folders as folders
from lstmlab.errors import UserError

# What the operating system says about a user's path: their folder, their disk, their rights.
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EEXIST,
                errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.ENAMETOOLONG, errno.ELOOP,
                errno.EFBIG}

# Seeds reach torch.Generator.manual_seed (at most 2**64 - 1), some plus a small offset; 32 bits
# is the range every generator accepts (numpy's legacy one included).
MAX_SEED = 2**32 - 1
# Far above any reproduction (the paper ran at most 30 trials of at most 5,000,000 sequences),
# small enough that the seeds' list and the store's integers stay bounded.
MAX_TRIALS = 100_000
MAX_BUDGET = 10**12


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def _user_message(error: BaseException) -> str | None:
    """The one line for an error the user can fix, or None for a bug."""
    if isinstance(error, UserError):
        return _one_line(str(error))
    if isinstance(error, OSError) and error.errno in _USER_ERRNOS and error.filename:
        paths = " -> ".join(str(name) for name in (error.filename, error.filename2) if name)
        return f"{paths}: {error.strerror or error}"
    if hasattr(error, "format_message") and hasattr(error, "exit_code"):  # click's usage errors
        context = getattr(error, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        return _one_line(error.format_message()) + hint
    return None


def _say(message: str, exit_code: int) -> NoReturn:
    line = Text("error: ", style="bold red")
    line.append(message)
    Console(stderr=True).print(line, soft_wrap=True, highlight=False)
    raise typer.Exit(code=exit_code)


class _OneErrorPath(TyperGroup):
    """The app's group: runs the command and turns whatever it raises into one line (a user's
    error, exit 2) or a bug report (traceback and one line, exit 1); see the module docstring."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            _say("interrupted", 130)
        except OSError as error:
            if error.errno == errno.EPIPE:  # the reader of our output went away (| head)
                raise
            self._report(ctx, error)
        except Exception as error:
            self._report(ctx, error)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: typer.Context | None = None, **extra: Any) -> typer.Context:
        # The app's own options (`lstmlab --bogus`) are parsed here, before invoke.
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as error:
            message = _user_message(error)
            if message is None or type(error).__name__ == "NoArgsIsHelpError":
                raise  # `lstmlab` alone: typer prints the help
            _say(message, 2)

    @staticmethod
    def _report(ctx: typer.Context, error: Exception) -> None:
        message = _user_message(error)
        if message is None:
            from lstmlab import __version__

            traceback.print_exception(error)
            _say(f"internal error, a bug in lstmlab {__version__}: {type(error).__name__}: "
                 f"{_one_line(str(error))}. Please report it with the traceback above.", 1)
        if ctx.params.get("debug"):
            traceback.print_exception(error)
        _say(message, 2)


app = typer.Typer(
    cls=_OneErrorPath,
    help="lstmlab: the LSTM laboratory. `tour` trains a small LSTM and shows how its forget "
    "gate discards information; `inspect` writes the same report for your own LSTM.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
console = Console()

OUT_HELP = "folder for the report (index.html, explorer.html, figures/*.png|svg)"


@app.callback()
def main(
    debug: Annotated[bool, typer.Option(
        "--debug", envvar="LSTMLAB_DEBUG",
        help="print the traceback of every error, also of those a user can fix "
        "(crashes always show theirs)")] = False,
) -> None:
    """lstmlab: the LSTM laboratory."""


def fail(message: str) -> NoReturn:
    """One clear line on stderr and exit code 2 (a usage or input error, not a crash): raises
    the UserError that the app's error path prints."""
    raise UserError(message)


def folder_to_write(path: Path) -> Path:
    """The ``--out`` options' parameter callback (``typer.Option(callback=folder_to_write)``):
    a wrong folder fails when the command line is parsed, not after minutes of work
    (``lstmlab._folders.folder_to_write``)."""
    try:
        return folders.folder_to_write(path)
    except UserError as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def tour(
    out: Annotated[Path, typer.Option(help=OUT_HELP, callback=folder_to_write)] = Path("report"),
    seed: Annotated[int, typer.Option(help="the first seed (of the corpus, the weights and the "
                                      "batches); the tour runs SEEDS seeds from it",
                                      min=0, max=MAX_SEED)] = 0,
    seeds: Annotated[int | None, typer.Option(help="how many seeds of each model (default 5; "
                                              "3 with --quick)", min=2)] = None,
    workers: Annotated[int | None, typer.Option(help="processes that train the seeds (default 2;"
                                                " 1 with --quick)", min=1)] = None,
    quick: Annotated[bool, typer.Option(help="a smoke run of a few seconds (numbers not "
                                        "meaningful)")] = False,
) -> None:
    """Train an LSTM and a simple RNN on pronoun agreement ("she ... her dog") over several
    seeds, then show how the LSTM's forget gate decides what is discarded.

    Prints a short summary (each number a mean over seeds with its 95 % interval; a finding only
    where the interval supports it) and writes OUT/index.html (the self-contained report),
    OUT/explorer.html (the interactive gate explorer) and OUT/figures/.
    """
    import dataclasses
    import time

    import torch

    from lstmlab.tour import TourConfig, run_tour, summary, write_tour_report

    # The products are tiny (batch 32, 64 units): a second thread only adds synchronisation;
    # the seeds run in separate processes instead.
    torch.set_num_threads(1)
    config = TourConfig.quick(seed) if quick else TourConfig(seed=seed)
    changes = {k: v for k, v in (("seeds", seeds), ("workers", workers)) if v is not None}
    config = dataclasses.replace(config, **changes)
    start = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"training {config.seeds} seeds x 2 models", total=config.seeds)

        def on_seed(done: int, total: int) -> None:
            progress.update(task, completed=done)

        result = run_tour(config, on_seed=on_seed)
    for line in summary(result):
        console.print("• " + line, highlight=False)
    paths = write_tour_report(result, out)
    console.print(f"Report: {paths['index']}  Explorer: {paths['explorer']}", highlight=False)
    console.print(f"(took {time.perf_counter() - start:.0f} s with {config.workers} "
                  f"process{'es' if config.workers > 1 else ''}; times vary by machine)",
                  highlight=False)


@app.command()
def inspect(
    model: Annotated[Path, typer.Argument(help="a torch.nn.LSTM or GRU state dict (.pt/.pth; "
                                          "a whole model's state dict works too) or a Keras "
                                          "LSTM (.keras, .weights.h5)")],
    text: Annotated[str | None, typer.Option(
        help="whitespace-separated tokens to feed the model: through its own embedding with "
        "--vocab when the file holds one; else one-hot per distinct token if that fits the "
        "input width, else a fixed random vector drawn from --seed (made-up inputs, the report "
        "says so)")] = None,
    ids: Annotated[str | None, typer.Option(
        "--ids", help="token ids such as '5 17 3' for the model's own embedding")] = None,
    vocab: Annotated[Path | None, typer.Option(
        help="the model's vocabulary for --text: one token per line, JSON token -> id, or the "
        "corpus the model was trained on (read as PyTorch's word-language-model example's "
        "data.Corpus: words plus <eos> per line, ids in order of first appearance)")] = None,
    vocab_format: Annotated[str, typer.Option(
        help="auto, tokens, json or corpus (auto: .json is json; one distinct token per line "
        "is tokens; anything else corpus)")] = "auto",
    input: Annotated[Path | None, typer.Option(
        "--input", help="an array (T, I) or (B, T, I) in a .npy or .pt file: the model's real "
        "inputs (or integer token ids (T,) / (B, T) for a model with an embedding)")] = None,
    model_class: Annotated[str | None, typer.Option(
        help="package.module:Class, your own nn.Module: built with --model-args, loaded with "
        "MODEL (a state dict; never unpickled) and run with its own forward; every LSTM and "
        "GRU inside it is traced on the input it receives")] = None,
    model_args: Annotated[str | None, typer.Option(
        help="the constructor arguments of --model-class as JSON: an object for keyword "
        "arguments, a list for positional ones")] = None,
    out: Annotated[Path, typer.Option(help=OUT_HELP, callback=folder_to_write)] = Path("report"),
    seed: Annotated[int, typer.Option(help="seed of the made-up --text vectors")] = 0,
) -> None:
    """Write the tour's report for your own LSTM or GRU: every layer and direction's gates,
    retention, forget events, saturation and gradient flow on your input.

    Reads MODEL with torch.load(weights_only=True) (a state dict; a whole pickled module is
    refused: save model.state_dict() instead) or with h5py (Keras). Writes OUT/index.html,
    OUT/explorer.html and OUT/figures/. Give exactly one of --text, --ids and --input.
    """
    from lstmlab.reports import inspect_model

    # a UserError (wrong file, vocabulary, input) leaves through the app's one error path
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("inspect: loading and tracing", total=None)

        def on_stage(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"inspect: {stage}", completed=done, total=total)

        paths, lines = inspect_model(
            model, text=text, input_path=input, ids=ids, vocab=vocab, vocab_format=vocab_format,
            model_class=model_class, model_args=model_args, out=out, seed=seed,
            progress=on_stage)
    for line in lines:
        console.print("• " + line, highlight=False, markup=False)
    console.print(f"Report: {paths['index']}  Explorer: {paths['explorer']}", highlight=False,
                  markup=False)


@app.command()
def version() -> None:
    """Print the installed lstmlab version."""
    from lstmlab import __version__

    typer.echo(__version__)


def _method_factories() -> dict[str, object]:
    """Method names on the command line -> the functions that build them (the one place where
    these names become objects)."""
    from lstmlab.reproduce._method_table import METHODS

    return METHODS


@app.command()
def reproduce(
    experiment: Annotated[list[str] | None, typer.Argument(
        help="experiments of Hochreiter & Schmidhuber 1997 to run: 1 2a 2b 2c 3a 3b 3c 4 5 6a "
        "6b (default: all), each optionally at one of its published settings and under a "
        "reading, EXP[@SETTING][:READING], e.g. 2c@q=1000,p=1000 or 4@T=1000:linear-output")
    ] = None,
    method: Annotated[list[str] | None, typer.Option(
        "--method", help="lstm1997 (the paper's set-up; default), modern, or a competitor: "
        "rtrl, bptt, elman, rcc, chunker, guess; repeat for several, or 'all'. A competitor's "
        "own setting (e.g. 1@hidden=3,lr=0.05) runs its method by default")] = None,
    trials: Annotated[int | None, typer.Option(help="trials per experiment and method "
                                               "(default: the paper's)",
                                               min=1, max=MAX_TRIALS)] = None,
    budget: Annotated[int | None, typer.Option(help="training sequences at most per trial "
                                               "(default: the experiment's cap)",
                                               min=1, max=MAX_BUDGET)] = None,
    quick: Annotated[bool, typer.Option(help="2 trials of 200 sequences: a smoke run of the "
                                        "whole pipeline, not a reproduction")] = False,
    out: Annotated[Path, typer.Option(help="folder for trials.sqlite (every finished trial, "
                                      "resumable), results.md and results.html",
                                      callback=folder_to_write)
                   ] = Path("reproduce"),
    recipe: Annotated[list[Path] | None, typer.Option(
        "--recipe", help="with --method modern: a recipe file of `lstmlab sweep` (e.g. "
        "results/modern/1.json) or a folder of them; each experiment with a recipe runs it, "
        "the others the default recipe; repeat for several")] = None,
    ray: Annotated[str | None, typer.Option(
        "--ray", help="run the trials as Ray tasks: 'local' starts Ray on this machine (one "
        "trial per core); 'auto' joins the cluster Ray finds; HOST:PORT joins a cluster by its "
        "GCS address (e.g. 10.0.0.5:6379), ray://HOST:10001 through Ray Client. An address that "
        "cannot be reached fails within 30 s. The stored results are the same as without")
    ] = None,
    seeds_per_task: Annotated[int, typer.Option(
        "--seeds-per-task", min=1, help="with --ray: trials per Ray task, trained side by side "
        "as one population where the method can (lstm1997: cheaper per trial on small nets; "
        "the stored results are the same)")] = 1,
    keep_nets: Annotated[bool, typer.Option(
        "--keep-nets", help="also write each finished lstm1997 trial's network, as it was at "
        "its stop, to OUT/nets/ (what the probes' --checkpoints read; the stored results are "
        "the same)")] = False,
) -> None:
    """Re-run the 1997 experiments: tasks x methods x trials, each trial committed to
    OUT/trials.sqlite as it finishes (a killed run started again skips finished trials), then
    the published numbers and ours side by side in the terminal (as Markdown where the output
    is a file or a pipe), OUT/results.md and OUT/results.html (with learning curves)."""
    from lstmlab.reproduce import (
        ReproduceConfig,
        experiments,
        markdown_report,
        progress_bar,
        rich_tables,
        run,
    )
    from lstmlab.reproduce._method_table import default_methods

    factories = _method_factories()
    names = list(method or [])
    if names == ["all"]:
        names = list(factories)
    unknown = [name for name in names if name not in factories]
    if unknown:
        fail(f"--method: expected one of {', '.join(factories)}, received {', '.join(unknown)}")
    if recipe and "modern" not in names:
        fail("--recipe: expected together with --method modern (a recipe is a modern one)")
    if seeds_per_task != 1 and ray is None:
        fail("--seeds-per-task: expected together with --ray (it sets how many trials one Ray "
             "task runs)")
    try:
        chosen = experiments(tuple(experiment or ()))
        names = names or list(default_methods(chosen))
        methods = tuple(factories[name]() for name in names)
        if recipe:
            from lstmlab.reproduce import ModernMethod
            from lstmlab.reproduce._recipe import read_recipes

            recipes = read_recipes(recipe)
            methods = tuple(ModernMethod(recipes=recipes) if m.name == "modern" else m
                            for m in methods)
        if ray is not None:
            try:
                import ray as _  # noqa: F401
            except ImportError:
                fail("--ray: needs the package ray (pip install 'lstmlab[ray]')")
            from lstmlab.reproduce._on_ray import OnRay, check_address

            if ray != "local":
                check_address(ray)  # seconds, before any work: ray.init would wait for ever
            methods = tuple(OnRay(m, address=None if ray == "local" else ray,
                                  seeds_per_task=seeds_per_task) for m in methods)
        config = ReproduceConfig(chosen, methods, trials=trials, budget=budget, quick=quick,
                                 out=out, keep_nets=keep_nets)
    except ValueError as error:
        fail(str(error))
    with progress_bar(console) as report:
        results = run(config, progress=report)
    if console.is_terminal:
        for table in rich_tables(results):
            console.print(table)
    else:  # a log file or a pipe: rich would squash the 12 columns into 80; Markdown keeps them
        console.print(markdown_report(results), soft_wrap=True, highlight=False, markup=False)
    console.print(f"Trials: {out / 'trials.sqlite'}  Tables: {out / 'results.md'}, "
                  f"{out / 'results.html'}", highlight=False)


@app.command()
def sweep(
    experiment: Annotated[list[str], typer.Argument(
        help="experiments to find a modern recipe for, EXP[@SETTING] as `reproduce` takes "
        "them, e.g. 1 6a 4@T=100")],
    samples: Annotated[int, typer.Option(help="candidate recipes drawn from the search space",
                                         min=1, max=10_000)] = 24,
    seeds: Annotated[int, typer.Option(help="validation seeds per candidate (10000, 10001, "
                                       "...: apart from reproduce's 0, 1, ...)",
                                       min=1, max=MAX_TRIALS)] = 3,
    budget: Annotated[int | None, typer.Option(
        help="training sequences at most per validation seed (default: the paper's mean for "
        "its LSTM, else the experiment's cap); a failure counts as the whole budget",
        min=1, max=MAX_BUDGET)] = None,
    sample_seed: Annotated[int, typer.Option(help="seed of the candidates' draw",
                                             min=0, max=MAX_SEED)] = 0,
    space: Annotated[str | None, typer.Option(
        help="narrow the search space, JSON of lists, e.g. '{\"cell\": [\"gru\"], "
        "\"batch_size\": [1, 2]}' (keys: cell, hidden_size, batch_size, learning_rate, "
        "clip_norm, forget_bias, loss; the others keep their default values)")] = None,
    out: Annotated[Path, typer.Option(help="folder for the Ray Tune state (out/tune/: every "
                                      "trial checkpointed; the same command resumes it)",
                                      callback=folder_to_write)] = Path("sweep"),
    recipes: Annotated[Path, typer.Option(help="folder for the chosen recipes, one "
                                          "EXP.json each (the input of `reproduce --method "
                                          "modern --recipe`)", callback=folder_to_write)
                       ] = Path("results") / "modern",
    address: Annotated[str | None, typer.Option(
        "--address", help="a Ray cluster to run on ('auto', HOST:PORT or ray://HOST:10001, as "
        "`reproduce --ray`; --out must then be a folder every node reaches); default: start "
        "Ray on this machine, one candidate per core")] = None,
    cpus: Annotated[int | None, typer.Option(
        help="with Ray started here: candidates trained at once (one CPU each; default: one "
        "per core), e.g. 1 on a machine shared with other work; the choice does not depend "
        "on it", min=1, max=4096)] = None,
) -> None:
    """Choose the modern column's recipe for each experiment by a hyperparameter sweep on Ray
    Tune: SAMPLES candidates (cell LSTM or GRU, hidden size, batch size, learning rate,
    gradient clipping, loss) each trained on SEEDS validation seeds; the best by mean sequences
    to success (a failure counted as BUDGET) is written to RECIPES/EXP.json. Then
    `lstmlab reproduce EXP --method modern --recipe RECIPES/EXP.json --trials 10` gives the
    column's trials."""
    from lstmlab.reproduce import experiments
    from lstmlab.reproduce._recipe import recipe_file, settings_of, write_recipe
    from lstmlab.reproduce._sweep import SearchSpace, SweepConfig
    from lstmlab.reproduce._sweep import sweep as run_sweep

    if address is not None:
        if cpus is not None:
            fail("--cpus: expected only without --address (a cluster has its own CPUs)")
        from lstmlab.reproduce._on_ray import check_address

        check_address(address)  # seconds, before any work
    searched = SearchSpace() if space is None else SearchSpace.from_json(space)
    for chosen in experiments(tuple(experiment)):
        paper = next((row.sequences for row in chosen.published
                      if row.method == "lstm1997" and row.sequences), None)
        cap = budget or int(paper or chosen.budget)
        try:
            config = SweepConfig(chosen, samples=samples, seeds=seeds, budget=cap, out=out,
                                 space=searched, sample_seed=sample_seed, address=address,
                                 num_cpus=cpus)
        except ValueError as error:
            fail(str(error))
        console.print(f"sweep {chosen.name}: {samples} candidates x {seeds} validation seeds, "
                      f"at most {cap:,} sequences each (Ray Tune state: {out / 'tune'})",
                      highlight=False)
        result = run_sweep(config)
        command = (f"lstmlab sweep {chosen.name} --samples {samples} --seeds {seeds} "
                   f"--budget {cap}" + (f" --sample-seed {sample_seed}" if sample_seed else "")
                   + (f" --space '{space}'" if space is not None else ""))
        best = result.best
        path = write_recipe(recipe_file(recipes, chosen.name), chosen.name,
                            settings_of(best.recipe), result.record(command))
        console.print(f"{chosen.name}: chose candidate {best.index} {best.recipe}: "
                      f"{best.successes} of {seeds} validation seeds solved, objective "
                      f"{best.objective(cap):,.0f} sequences; recipe: {path}", highlight=False,
                      markup=False)


store_app = typer.Typer(
    help="Check a trial store (OUT/trials.sqlite of `reproduce`) or copy the readable rows of a "
    "damaged one into a new store.",
    add_completion=False,
    rich_markup_mode="markdown",
)
app.add_typer(store_app, name="store")


@store_app.command("check")
def store_check(
    path: Annotated[Path, typer.Argument(help="the store, e.g. reproduce/trials.sqlite")],
) -> None:
    """Check every page and index of a trial store (SQLite's integrity_check, read-only).
    Prints the number of trials when it is intact; exit code 2 and the salvage command when it
    is damaged."""
    from lstmlab.reproduce._store import check_store

    trials = check_store(path, thorough=True)
    console.print(f"{path}: intact (integrity_check ok), {trials} trials", highlight=False)


@store_app.command("salvage")
def store_salvage(
    path: Annotated[Path, typer.Argument(help="the damaged store (read, never written)")],
    new: Annotated[Path, typer.Argument(help="the new store to create (must not exist)")],
) -> None:
    """Copy every readable trial of a damaged store into a new one, and say how many were saved
    and lost. Put NEW in place of the damaged store and `reproduce` runs only the lost trials
    again."""
    from lstmlab.reproduce import salvage

    report = salvage(path, new)
    at_least = "" if report.lost_is_exact else "at least "
    console.print(f"{report.target}: saved {report.saved} trials, lost {at_least}{report.lost}"
                  f" (config descriptions: saved {report.configs_saved}, lost"
                  f" {report.configs_lost}); {report.source} is unchanged", highlight=False)



@app.command("bench-tasks")
def bench_tasks(
    out: Annotated[Path, typer.Option(help="folder for state_tracking.trials.jsonl (every "
                                      "finished trial, resumable), state_tracking.md and "
                                      ".csv")] = Path("results"),
    seeds: Annotated[int, typer.Option(help="seeds per task and cell")] = 5,
    task: Annotated[list[str] | None, typer.Option(
        "--task", help="parity, modular, revision; repeat for several (default: all)")] = None,
    cell: Annotated[list[str] | None, typer.Option(
        "--cell", help="lstm, lstm1997, gru, slstm, mlstm, minlstm, mingru, elman; repeat "
                       "for several (default: all)")] = None,
    quick: Annotated[bool, typer.Option(help="tiny sizes, a few steps: a smoke run of the "
                                        "whole pipeline (numbers not meaningful)")] = False,
    render_only: Annotated[bool, typer.Option(help="train nothing: render the table from "
                                              "the store in OUT")] = False,
) -> None:
    """State tracking and storage revision for the whole family: train each cell on parity,
    a sum mod 5 and key-value revision at lengths 3-40, test at 40-256, and account for each
    result from the cell's trace. Writes OUT/state_tracking.md and .csv from the store."""
    import torch

    from lstmlab.bench import CELLS, TASKS, BenchConfig, read_store, render, run
    from lstmlab.errors import UserError

    torch.set_num_threads(1)  # tiny layers: a second thread only adds synchronisation
    config = BenchConfig.quick() if quick else BenchConfig()
    store = out / "state_tracking.trials.jsonl"
    if render_only:
        rows = read_store(store)
        if not rows:
            raise UserError(f"--render-only: no trials in {store}; run without it first")
    else:
        rows = run(config, store, task or list(TASKS), cell or list(CELLS), range(seeds),
                   on_trial=lambda row: console.print(
                       f"{row['task']} {row['cell']} seed {row['seed']}: final-step "
                       f"accuracy {row['accuracy']} after {row['steps']} steps",
                       highlight=False))
    markdown, table = render(rows, config.train_lengths[1])
    (out / "state_tracking.md").write_text(markdown + "\n", encoding="utf-8")
    (out / "state_tracking.csv").write_text(table, encoding="utf-8")
    console.print(f"Table: {out / 'state_tracking.md'}, {out / 'state_tracking.csv'}",
                  highlight=False)



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
    from lstmlab.reproduce._results_report import TRIALS_DIR, export_store, write

    for store in export or ():
        added = export_store(store, root / TRIALS_DIR)
        console.print(f"{store}: {added} new trial rows", highlight=False)
    for path in write(root):
        console.print(f"wrote {path}", highlight=False)


if __name__ == "__main__":
    app()
