"""N replicas of the app behind HAProxy on this machine (loopback only), or the Compose config.

    python -m deploy.replicas                      # 2 replicas behind http://127.0.0.1:8080
    python -m deploy.replicas --replicas 3 --port 9000
    python -m deploy.replicas --write-compose-config   # re-render deploy/haproxy.cfg

Each replica is `streamlit run app.py --server.port P` on a free loopback port, started with
the same `server.cookieSecret` (environment variable STREAMLIT_SERVER_COOKIE_SECRET, a new
random one per deployment unless one is set in the environment, never written to disk), and
HAProxy runs with a config rendered from deploy/haproxy.cfg.in, the same template as the
Docker Compose deployment's deploy/haproxy.cfg. The browser test (tests/e2e/test_proxy.py)
and the load test (benchmarks/load_test.py --through-proxy) use the `Deployment` class.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "haproxy.cfg.in"
COMPOSE_CONFIG = DEPLOY / "haproxy.cfg"
HOST = "127.0.0.1"  # loopback only: nothing started here is reachable from outside
SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
COOKIE = "SERVERID"
REPLICA_HEADER = "X-Replica"

# The Compose deployment (deploy/compose.yaml): services app1, app2 on Streamlit's port.
COMPOSE_SERVERS = [("app1", "app1:8501"), ("app2", "app2:8501")]
COMPOSE_BIND = ":8080"


# -- the config --------------------------------------------------------------------------
# Compose: replicas are found by name through Docker's DNS, again after a container restart
# (which may give it a new address); HAProxy starts even before they resolve.
DOCKER_RESOLVERS = """# Docker's embedded DNS server (Compose networks).
resolvers docker
    nameserver dns 127.0.0.11:53
    hold valid 10s
"""


def render(servers: list[tuple[str, str]], bind: str, stats_bind: str | None = None,
           resolvers: str | None = None) -> str:
    """HAProxy's config for these (name, host:port) replicas; `stats_bind` adds HAProxy's
    statistics page (CSV at /stats;csv) on that address; `resolvers` (a resolvers section)
    makes HAProxy look the replicas' names up at run time."""
    text = TEMPLATE.read_text()
    extra = " resolvers docker init-addr last,libc,none" if resolvers else ""
    lines = [f"    server {name} {address} cookie {name}{extra}" for name, address in servers]
    stats = ""
    if stats_bind:
        stats = ("\n# Per-replica state and counters (for the tests): /stats, /stats;csv\n"
                 f"frontend stats\n    bind {stats_bind}\n    stats enable\n    stats uri /stats\n"
                 "    stats refresh 5s\n")
    fields = (("@BIND@", bind), ("@SERVERS@", "\n".join(lines)), ("@STATS@", stats),
              ("@RESOLVERS@", resolvers or ""))
    for token, value in fields:
        if token not in text:
            raise ValueError(f"{TEMPLATE.name} has no {token}")
        text = text.replace(token, value)
    return text.rstrip("\n") + "\n"


def compose_config() -> str:
    header = ("# GENERATED from haproxy.cfg.in by `python -m deploy.replicas --write-compose-config`;\n"
              "# edit the template, not this file. Used by deploy/compose.yaml.\n")
    return header + render(COMPOSE_SERVERS, COMPOSE_BIND, resolvers=DOCKER_RESOLVERS)


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)), None)


def check_config(path: Path) -> subprocess.CompletedProcess:
    """`haproxy -c -f path` (checks the config without starting anything)."""
    return subprocess.run([haproxy_binary() or "haproxy", "-c", "-f", str(path)],
                          capture_output=True, text=True, timeout=30)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def new_secret() -> str:
    return secrets.token_hex(32)


# -- processes ---------------------------------------------------------------------------
def _stop_group(process: subprocess.Popen | None, timeout_s: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout_s)


def _get(url: str, timeout: float = 2, headers: dict | None = None):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout)


@dataclass
class Replica:
    """One `streamlit run app.py` on a loopback port, in a process group of its own."""
    name: str
    port: int
    log_path: Path
    secret: str
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, append_log: bool = False) -> "Replica":
        command = [sys.executable, "-m", "streamlit", "run", "app.py",
                   "--server.port", str(self.port), "--server.address", HOST,
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        env = {**os.environ, SECRET_ENV: self.secret}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab" if append_log else "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def healthy(self) -> bool:
        try:
            with _get(f"{self.base_url}/_stcore/health") as reply:
                return reply.status == 200 and reply.read().strip() == b"ok"
        except (urllib.error.URLError, OSError):
            return False

    def wait_healthy(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.2)
        raise TimeoutError(f"replica {self.name} not healthy in {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        _stop_group(self.process)

    def rss_mb(self) -> float:
        return _rss_mb(self.process)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _rss_mb(process: subprocess.Popen | None) -> float:
    if process is None:
        return 0.0
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Deployment:
    """`replicas` replicas and HAProxy in front of them, all on loopback.

    Use as a context manager. `url` is the proxy's address; `stats()` reads HAProxy's view
    of each replica (status UP/DOWN, current and total sessions).
    """

    def __init__(self, replicas: int = 2, port: int | None = None, log_dir: Path | None = None,
                 secret: str | None = None):
        if replicas < 1:
            raise ValueError("at least one replica")
        self.port = port or free_port()
        self.stats_port = free_port()
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="shrinkage-lab-replicas-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # One secret for every replica of this deployment, made here, kept in memory only.
        self.secret = secret or os.environ.get(SECRET_ENV) or new_secret()
        self.replicas = [Replica(f"app{i + 1}", free_port(), self.log_dir / f"app{i + 1}.log", self.secret)
                         for i in range(replicas)]
        self.config_path = self.log_dir / "haproxy.cfg"
        self.proxy_log = self.log_dir / "haproxy.log"
        self.proxy: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def replica(self, name: str) -> Replica:
        return next(r for r in self.replicas if r.name == name)

    def config(self) -> str:
        return render([(r.name, f"{HOST}:{r.port}") for r in self.replicas], f"{HOST}:{self.port}",
                      stats_bind=f"{HOST}:{self.stats_port}")

    def start(self, timeout_s: float = 120) -> "Deployment":
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError("haproxy is not installed (Debian: apt-get install haproxy)")
        self.config_path.write_text(self.config())
        checked = check_config(self.config_path)
        if checked.returncode != 0:
            raise RuntimeError(f"haproxy rejected {self.config_path}:\n{checked.stdout}{checked.stderr}")
        try:
            for replica in self.replicas:  # all start at once; each takes seconds to import
                replica.start()
            with open(self.proxy_log, "wb") as log:
                # -db: stay in the foreground (no daemon), so stopping this process ends it.
                self.proxy = subprocess.Popen([binary, "-db", "-f", str(self.config_path)], stdout=log,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True)
            for replica in self.replicas:
                replica.wait_healthy(timeout_s)
            self.wait_up([r.name for r in self.replicas], timeout_s=30)
        except BaseException:
            self.stop()
            raise
        return self

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's statistics for each replica of the backend: name -> CSV row."""
        with _get(f"http://{HOST}:{self.stats_port}/stats;csv") as reply:
            text = reply.read().decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {row["svname"]: row for row in rows
                if row["pxname"] == "streamlit" and row["svname"] not in ("FRONTEND", "BACKEND")}

    def status(self, name: str) -> str:
        """UP, DOWN, ... as HAProxy's health checks see that replica."""
        return self.stats()[name]["status"]

    def wait_up(self, names: list[str], timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proxy is not None and self.proxy.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.proxy.returncode}:\n{self.proxy_log_tail()}")
            try:
                states = {name: self.status(name) for name in names}
            except (urllib.error.URLError, OSError, KeyError):
                states = {}
            if states and all(s.startswith("UP") for s in states.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"replicas not UP behind haproxy in {timeout_s:.0f} s: {states}\n"
                                   f"{self.proxy_log_tail()}")
            time.sleep(0.2)

    def wait_down(self, name: str, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.status(name).startswith("DOWN"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"haproxy still sees {name} as {self.status(name)}")
            time.sleep(0.2)

    def restart_replica(self, name: str, timeout_s: float = 90) -> None:
        """Start a stopped replica again on the same port and wait until HAProxy sends to it."""
        replica = self.replica(name)
        replica.start(append_log=True)
        replica.wait_healthy(timeout_s)
        self.wait_up([name], timeout_s=30)

    def proxy_log_tail(self, chars: int = 3000) -> str:
        try:
            return self.proxy_log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def proxy_rss_mb(self) -> float:
        return _rss_mb(self.proxy)

    def stop(self) -> None:
        _stop_group(self.proxy)
        for replica in self.replicas:
            replica.stop()

    def __enter__(self) -> "Deployment":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- command line ------------------------------------------------------------------------
def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="how many app processes (default 2)")
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port on 127.0.0.1 (default 8080)")
    parser.add_argument("--log-dir", type=Path, default=None, help="logs and the rendered config (default: a temp dir)")
    parser.add_argument("--write-compose-config", action="store_true",
                        help=f"render {COMPOSE_CONFIG.relative_to(ROOT)} for deploy/compose.yaml and exit")
    args = parser.parse_args(argv)
    if args.write_compose_config:
        COMPOSE_CONFIG.write_text(compose_config())
        print(f"wrote {COMPOSE_CONFIG}")
        return 0
    deployment = Deployment(args.replicas, port=args.port, log_dir=args.log_dir)
    # `kill` (SIGTERM) stops the replicas and HAProxy too, as Ctrl-C does: they run in
    # process groups of their own and would outlive this process otherwise.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"starting {args.replicas} replicas and haproxy (logs and config in {deployment.log_dir}) ...", flush=True)
    with deployment:
        print(f"open {deployment.url}  (HAProxy statistics: http://{HOST}:{deployment.stats_port}/stats); "
              "Ctrl-C stops everything", flush=True)
        for replica in deployment.replicas:
            print(f"  {replica.name}: {replica.base_url}", flush=True)
        try:
            while deployment.proxy.poll() is None:
                time.sleep(1)
            print(f"haproxy exited:\n{deployment.proxy_log_tail()}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
