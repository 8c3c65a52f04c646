"""`mailbox bench …`: every benchmark; each prints JSON figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DEV_LETTERS = REPO_ROOT.parent / "shared" / "data" / "dev-letters.jsonl"
# Hand-written letters unlike the dev set, kept with the tests that assert on them.
DEFAULT_HELDOUT_LETTERS = REPO_ROOT / "tests" / "publishing" / "data" / "heldout-letters.jsonl"


def bench_pipeline(
    letters: int = typer.Option(2000, min=1, max=20_000, help="letters of the throughput phase"),
    rate: float = typer.Option(
        20.0, "--rate", min=0.1, max=1000, help="letters put per second in the latency phase"
    ),
    latency_letters: int = typer.Option(
        200, min=1, max=20_000, help="letters of the latency phase"
    ),
    concurrency: int = typer.Option(48, min=1, max=512, help="letters the actors work at once"),
    not_accepted_share: float = typer.Option(
        0.1, min=0.0, max=1.0, help="share of letters the office does not accept"
    ),
    baseline_n: int = typer.Option(
        2000, min=1, max=100_000, help="messages and documents of each baseline loop"
    ),
    timeout_s: float = typer.Option(
        1800.0, min=5, help="longest wait for a phase's letters to be published"
    ),
    quick: bool = typer.Option(
        False, "--quick", help="a smoke run: 20 letters, 10 at 50/s, baselines of 200"
    ),
    log_dir: Path | None = typer.Option(
        None, file_okay=False, help="the services' logs (default var/log/services)"
    ),
    stored: int = typer.Option(
        0,
        min=0,
        max=200_000,
        help="letters already stored before the phases (copies of seed letters; growth runs)",
    ),
) -> None:
    """N letters through intake, routing, deadlines and publishing with scripted people (JSON)."""
    import orjson

    from devkit.bench.pipeline import PipelineOptions, pipeline_figures

    if quick:
        letters, latency_letters, rate, baseline_n = 20, 10, 50.0, 200
    options = PipelineOptions(
        letters=letters,
        rate_per_s=rate,
        latency_letters=latency_letters,
        concurrency=concurrency,
        not_accepted_share=not_accepted_share,
        baseline_n=baseline_n,
        timeout_s=timeout_s,
        stored=stored,
        log_dir=log_dir,
        progress=lambda text: typer.echo(text, err=True),
    )
    figures = pipeline_figures(options)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    if "error" in figures:
        raise typer.Exit(1)


def bench_deadlines(
    count: Annotated[int, typer.Option(min=1, help="Computations per round.")] = 200_000,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; the median is reported.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the random starts.")] = 0,
    clocks: Annotated[
        int,
        typer.Option(
            min=0,
            help="Handling clocks to open end to end on the local stack (0: skip).",
        ),
    ] = 200,
) -> None:
    """Measure the deadlines service's throughput; print JSON figures."""
    from devkit.bench.deadlines import deadlines_figures

    figures = deadlines_figures(count=count, rounds=rounds, seed=seed, clocks=clocks)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


def bench_intake(
    letters: int = typer.Option(5000, min=1, max=100_000, help="letters on the simulator"),
    page_size: int = typer.Option(500, min=1, max=500, help="letters per platform page"),
    concurrency: int = typer.Option(64, min=1, max=1024, help="publishes in flight"),
    seed: int = typer.Option(0, help="seed of the generated letters"),
    profile: Path | None = typer.Option(
        None, dir_okay=False, help="write a cProfile of the run here (pstats format)"
    ),
) -> None:
    """Letters/s from the simulator to registered-and-published, and peak memory (JSON)."""
    import orjson

    from devkit.bench.intake import intake_figures
    from services.intake.cli import logs_to_stderr

    logs_to_stderr()
    figures = intake_figures(
        letters=letters,
        page_size=page_size,
        seed=seed,
        concurrency=concurrency,
        profile=str(profile) if profile else None,
    )
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    if "error" in figures:
        raise typer.Exit(1)


def bench_redact(
    path: Annotated[
        Path, typer.Option(help="Labelled letters (JSONL) to measure with.")
    ] = DEFAULT_DEV_LETTERS,
    min_letters: Annotated[
        int, typer.Option(min=100, help="Letters redacted per measurement, at least.")
    ] = 5000,
    heldout: Annotated[
        Path | None,
        typer.Option(help="Held-out labelled letters (JSONL) for recall/keep-rate too."),
    ] = DEFAULT_HELDOUT_LETTERS,
) -> None:
    """Letters/s and characters/s through `redact`, peak memory, recall/keep-rate on both sets."""
    from devkit.bench import redact as bench

    letters = bench.load_letters(path)
    extra = bench.load_letters(heldout) if heldout is not None and heldout.exists() else None
    figures = bench.run_all(letters, min_letters=min_letters, heldout=extra)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


def bench_platforms(
    letters: int = typer.Option(6000, min=1, max=100_000, help="letters to generate and read"),
    page_size: int = typer.Option(200, min=1, max=500),
    uploads: int = typer.Option(1000, min=0, help="uploads to one platform"),
    concurrency: int = typer.Option(8, min=1, max=64, help="uploads in flight"),
    seed: int = typer.Option(0),
) -> None:
    """Letters/s polled and uploads/s through the HTTP client from a simulator process."""
    import asyncio

    import orjson

    from devkit.bench.platforms import run_platform_bench

    figures = asyncio.run(
        run_platform_bench(
            letters=letters,
            page_size=page_size,
            uploads=uploads,
            concurrency=concurrency,
            seed=seed,
        )
    )
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


def bench_console(
    letters: int = typer.Option(10_000, min=3, max=200_000, help="letters stored"),
    requests: int = typer.Option(100, min=1, max=10_000, help="requests per page measured"),
    list_requests: int = typer.Option(
        10, min=0, max=10_000, help="requests of the letters list (0: not measured)"
    ),
    open_share: float = typer.Option(
        0.05, min=0.0, max=1.0, help="share of the stored letters still open (the rest archived)"
    ),
    audit: bool = typer.Option(
        False,
        "--audit/--no-audit",
        help="copy each letter's audit trail too and measure the letter's audit fragment",
    ),
    templates: int = typer.Option(
        6, min=3, max=60, help="letters worked through the real path and copied"
    ),
) -> None:
    """The console's 待办, letters list and a letter's page with many letters stored (JSON)."""
    from devkit.bench.console import ConsoleBenchOptions, console_figures

    options = ConsoleBenchOptions(
        letters=letters,
        requests=requests,
        list_requests=list_requests,
        open_share=open_share,
        audit=audit,
        templates=templates,
        progress=lambda text: typer.echo(text, err=True),
    )
    figures = console_figures(options)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    if "error" in figures:
        raise typer.Exit(1)


def register(bench: typer.Typer) -> None:
    """Add every benchmark to the `bench` group."""
    bench.command(name="pipeline")(bench_pipeline)
    bench.command(name="deadlines")(bench_deadlines)
    bench.command(name="intake")(bench_intake)
    bench.command(name="redact")(bench_redact)
    bench.command(name="platforms")(bench_platforms)
    bench.command(name="console")(bench_console)
