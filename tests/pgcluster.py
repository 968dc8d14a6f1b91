"""A throwaway PostgreSQL + PostGIS cluster on loopback, for the store tests.

Debian's ``postgresql-15-postgis-3`` (installed by ``.ci/run``) provides the
binaries. The cluster lives in a temporary folder, listens on 127.0.0.1 only, on a
free port, trusts local connections (it holds nothing but test data) and is
removed when the tests end. PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` user that the Debian package creates.

``.ci/run`` starts one before the tests (``python tests/pgcluster.py start`` prints its
folder) and hands it to them in ``BORDERMON_TEST_PG_CLUSTER``; the tests then use that
server, restarts included, and ``.ci/run`` removes it at the end
(``python tests/pgcluster.py remove FOLDER``). Without that variable the tests start
their own. Set ``BORDERMON_TEST_PG`` to a ``postgresql://`` URL to use a server of your
own instead (its database is emptied by the tests).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


def available() -> str | None:
    """Return why no cluster can be started here, or ``None`` when one can."""
    if not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 is not installed ({PG_BIN}/pg_ctl missing)"
    if not POSTGIS_CONTROL.exists():
        return "PostGIS 3 is not installed (postgresql-15-postgis-3)"
    return None


def when_unavailable(reason: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Return what the PostGIS tests do without a server: ``("skip"|"fail", message)``.

    They are skipped, saying why, except on CI (``CI=true``), which must run them.
    """
    environ = os.environ if environ is None else environ
    if environ.get("CI") == "true":
        return "fail", f"CI must run the PostGIS tests, but: {reason}"
    return "skip", reason


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """A PostgreSQL server in a temporary folder (start, stop, restart, kill).

    Attributes
    ----------
    port
        The loopback port it listens on.
    url
        ``postgresql://`` URL of its test database (user ``postgres``, no password).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        """Make a new cluster in a temporary folder, or take the one in ``root``.

        ``root``: a folder this class made before (it holds ``port``), e.g. by
        ``python tests/pgcluster.py start``; its server is not started again here.
        """
        attach = root is not None
        self.root = Path(root) if attach else Path(tempfile.mkdtemp(prefix="bordermon-pg-"))
        self.data = self.root / "data"
        self.port = int((self.root / "port").read_text()) if attach else _free_port()
        self.database = "bordermon_test"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"
        self._as_postgres = os.geteuid() == 0
        if attach:
            return
        (self.root / "port").write_text(str(self.port))
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
            "--encoding", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip

    def _run(self, *args: object, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self, *, durable: bool = False) -> None:
        """Start the server and wait until it accepts connections; create the database.

        ``durable``: write to disk as a production server does (fsync on); the tests
        leave it off (quicker), a benchmark turns it on.
        """
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=60"
        )
        self._durable = durable
        if not durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l",
                  self.root / "server.log", "-w", "-t", "60", "start")  # fmt: skip
        for _ in range(100):
            ready = self._run(PG_BIN / "pg_isready", "-h", "127.0.0.1", "-p", self.port,
                              check=False)  # fmt: skip
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        exists = self._psql(
            "postgres", f"SELECT 1 FROM pg_database WHERE datname='{self.database}'"
        )
        if "1" not in exists:
            self._psql("postgres", f"CREATE DATABASE {self.database}")

    def _psql(self, database: str, sql: str) -> str:
        done = self._run(
            PG_BIN / "psql", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "-d",
            database, "-Atc", sql,
        )  # fmt: skip
        return done.stdout

    def sql(self, sql: str) -> str:
        """Run ``sql`` in the test database as the superuser; return psql's output."""
        return self._psql(self.database, sql)

    def database_url(self, database: str, user: str = "postgres", password: str = "") -> str:
        """Return the URL of ``database`` on this server (``password`` written in if given)."""
        login = f"{user}:{password}" if password else user
        return f"postgresql://{login}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database (no PostGIS); return its URL (user postgres)."""
        self._psql("postgres", f"CREATE DATABASE {name}")
        return self.database_url(name)

    def require_password(self, user: str, password: str) -> None:
        """Create login ``user`` whose connections must give ``password`` (SCRAM).

        Its rule goes first in ``pg_hba.conf`` (every other login stays trusted); the
        server reloads it.
        """
        self._psql("postgres", f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        hba = self.data / "pg_hba.conf"
        rule = f"host all {user} 127.0.0.1/32 scram-sha-256\n"
        self._run("sh", "-c", f"printf '{rule}' | cat - {hba} > {hba}.new && mv {hba}.new {hba}")
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "reload")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` or ``immediate``)."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop and start the server again (connections are dropped)."""
        self.stop()
        self.start(durable=getattr(self, "_durable", False))

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop("immediate")
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root)


class OwnServer:
    """A server given by ``BORDERMON_TEST_PG``: the tests make and drop schemas in it.

    Attributes
    ----------
    url
        The URL as given.
    """

    def __init__(self, url: str) -> None:
        self.url = url

    def sql(self, sql: str) -> str:
        """Run ``sql`` in the database of :attr:`url`; return the first column, one a line."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            cursor = con.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        return "".join(f"{row[0]}\n" for row in rows)


def main(argv: list[str]) -> int:
    """``start``: start a cluster with PostGIS, print its folder; ``remove FOLDER``."""
    if argv[:1] == ["start"] and len(argv) == 1:
        reason = available()
        if reason:
            print(f"cannot start PostgreSQL: {reason}", file=sys.stderr)
            return 1
        cluster = PgCluster()
        cluster.start()
        cluster.sql("CREATE EXTENSION IF NOT EXISTS postgis")
        print(cluster.root)
        return 0
    if argv[:1] == ["remove"] and len(argv) == 2:
        PgCluster(argv[1]).remove()
        return 0
    print("usage: python tests/pgcluster.py start | remove FOLDER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
