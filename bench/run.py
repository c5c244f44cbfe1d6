"""
The finger benchmarks: one command, one table (markdown, on stdout).

    python bench/run.py            # about five minutes (needs wrk: apt-get install wrk)
    python bench/run.py --quick    # shorter runs, fewer repeats, 200,000 users

Measures, side by side in one run:

  - finger queries per second and p50/p99 latency at concurrency 1, 8 and 32,
    for a bare Twisted LineReceiver answering from a dict (bench/bare_server.py)
    and for the full service (twistd finger: query log to a file, connection
    limits, timeouts), with the CPU each server and the load generator used;
  - RSS per 1,000 idle connections;
  - a 1,000,000-line users file: start-up time, RSS, reload time after an
    edit, and finger latency during the reload;
  - bench/postgres.py: finger q/s with --workers 1 and 2; lookup and first
    page latency with 1,000,000 statuses in PostgreSQL; the time from a write
    on one node to the event on another;
  - the web user page and /api/users/NAME (wrk, from Debian's package:
    apt-get install wrk), XML-RPC getUser from a sequential Python client,
    PB getUser from a Twisted client (bench/pbload.py), and the first web
    page (/) of the 1,000,000-user file.

The load generator is bench/fingerload.c (compiled with cc on first use): one
thread, epoll, far cheaper per query than either server, which the CPU
columns show.  Numbers from a shared machine are noisy: compare the columns
of one run, not runs on different days.

Adding a frontend's rows (web, XML-RPC, PB): write a function taking the
L{Bench} and returning a list of L{Row}, and append it to L{SECTIONS}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LOADGEN_SOURCE = BENCH / "fingerload.c"
LOADGEN = BENCH / ".build" / "fingerload"
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
QUERY = "user0000500"
EXPECT = "Status"
SOURCES = 8  # the load generator spreads connections over 127.0.0.1-8


@dataclass
class Row:
    """One line of the table: a measure, its value per column, its target."""

    measure: str
    bare: str = ""
    service: str = ""
    noLog: str = ""
    target: str = ""
    metrics: str = ""
    classic: str = ""


# The table's columns: (Row attribute, heading).
COLUMNS = [
    ("bare", "bare Twisted (LineReceiver / twisted.web resource)"),
    ("service", "full service, query log on"),
    ("noLog", "full service, --no-log-queries"),
    ("metrics", "full service, query log and --metrics on"),
    ("classic", "cfingerd under inetd"),
]


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def writeUsers(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            f.write(f"user{i:07d}: Status number {i} of the benchmark, all is well\n")


def buildLoadgen() -> Path:
    if not LOADGEN.exists() or LOADGEN.stat().st_mtime < LOADGEN_SOURCE.stat().st_mtime:
        LOADGEN.parent.mkdir(exist_ok=True)
        cc = os.environ.get("CC", "cc")
        progress(f"compiling {LOADGEN_SOURCE.name} with {cc}")
        subprocess.run([cc, "-O2", "-o", str(LOADGEN), str(LOADGEN_SOURCE)], check=True)
    return LOADGEN


def raiseFileLimit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 8192):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))


# /proc readings


def cpuSeconds(pid: int, children: bool = False) -> float:
    """User + system CPU of C{pid} (plus its reaped children's, with C{children})."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory(pid: int, field: str = "VmRSS") -> float:
    """C{VmRSS} (or C{VmHWM}, the peak) of C{pid}, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


# Servers


class Server:
    """A server process whose log (a file) tells its port."""

    def __init__(self, command: list[str], log: Path, listening: str) -> None:
        self.logPath = log
        self._read: dict[Path, int] = {}
        self._text = ""
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.DEVNULL,
            stdout=open(log.with_suffix(".out"), "wb"),
            stderr=subprocess.STDOUT,
        )
        self.port = int(self.waitForLog(listening, timeout=300).group(1))
        self.startupSeconds = time.monotonic() - self.started

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """Everything logged so far (read incrementally: logs grow under load)."""
        for path in (self.logPath, self.logPath.with_suffix(".out")):
            if path.exists():
                with open(path, "rb") as f:
                    f.seek(self._read.get(path, 0))
                    data = f.read()
                self._read[path] = self._read.get(path, 0) + len(data)
                self._text += data.decode("utf-8", "replace")
        return self._text

    def waitForLog(self, pattern: str, timeout: float = 120, after: int = 0) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.log(), after)
            if match:
                return match
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()[-3000:]}")
            time.sleep(0.02)
        raise RuntimeError(f"timed out waiting for {pattern!r}:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def bareServer(users: Path, work: Path) -> Server:
    return Server(
        [sys.executable, str(BENCH / "bare_server.py"), str(users)],
        work / "bare.log",
        r"listening on (\d+)",
    )


def fingerService(users: Path, work: Path, name: str, *options: str) -> Server:
    """
    The full service: query log to a file, default limits and timeouts.  It
    logs to stdout, which L{Server} sends to a file: twistd's own log file
    rotates at 1 MB, and the lines being waited for would move away.
    """
    log = work / f"{name}.log"
    return Server(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "finger", "--file", str(users),
         "--finger", "tcp:0:interface=127.0.0.1", "--web", "none", "--pb", "none", *options],
        log,
        r"finger listening on 127\.0\.0\.1:(\d+)",
    )


# Load


def load(port: int, concurrency: int, seconds: float, until=None, query: str = QUERY,
         expect: str = EXPECT) -> dict:
    """
    Run the load generator against C{port}; return its results plus the CPU
    it used.  With C{until} (a callable), stop it as soon as that returns
    true instead of after C{seconds}.
    """
    command = [str(LOADGEN), "-s", str(SOURCES), "-e", expect, "127.0.0.1", str(port),
               str(concurrency), str(seconds), query]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    try:
        if until is not None:
            while process.poll() is None and not until():
                time.sleep(0.01)
            process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return json.loads(out)


def measureLoad(server: Server, concurrency: int, seconds: float, query: str = QUERY,
                expect: str = EXPECT) -> dict:
    """Load C{server}; its CPU (with its children's: inetd's daemons) goes in C{server_cpu}."""
    cpuBefore = cpuSeconds(server.pid, children=True)
    result = load(server.port, concurrency, seconds, query=query, expect=expect)
    result["server_cpu"] = cpuSeconds(server.pid, children=True) - cpuBefore
    return result


def openIdle(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for i in range(count):
        s = socket.socket()
        s.bind((f"127.0.0.{1 + i % SOURCES}", 0))
        s.connect(("127.0.0.1", port))
        sockets.append(s)
    return sockets


def fingerOnce(port: int, query: str = QUERY) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(query.encode() + b"\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


# Sections


class Bench:
    def __init__(self, args, work: Path) -> None:
        self.args = args
        self.work = work
        self.users = work / "users-1k"
        writeUsers(self.users, 1000)
        self._scaleUsers: Path | None = None

    def scaleUsers(self) -> Path:
        """The big users file (C{--users} lines), written once."""
        if self._scaleUsers is None:
            self._scaleUsers = self.work / "users-scale"
            progress(f"writing a {self.args.users:,}-line users file")
            writeUsers(self._scaleUsers, self.args.users)
        return self._scaleUsers


def classicServer(work: Path) -> Server | None:
    """
    Debian's cfingerd under openbsd-inetd (one process per query, as
    classic finger daemons run), on a free loopback port, or C{None} if they
    are not installed (C{apt-get install cfingerd openbsd-inetd}; inetd needs
    root to run cfingerd as C{nobody}).
    """
    if not (Path("/usr/sbin/inetd").exists() and Path("/usr/sbin/cfingerd").exists()):
        progress("cfingerd or openbsd-inetd not installed: no classic daemon column")
        return None
    if os.geteuid() != 0:
        progress("not root: inetd cannot run cfingerd as nobody; no classic daemon column")
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = work / "inetd.conf"
    # nowait.N: inetd's limit of starts per minute (its default, 256, would
    # shut the service down for ten minutes under load).
    conf.write_text(f"127.0.0.1:{port} stream tcp nowait.10000000 nobody /usr/sbin/cfingerd cfingerd\n")
    return Server(["/usr/sbin/inetd", "-d", str(conf)], work / "inetd.log", rf"ADD: 127\.0\.0\.1:({port}) ")


CLASSIC_QUERY, CLASSIC_EXPECT = "root", "Username:"


def fingerThroughput(bench: Bench) -> list[Row]:
    args = bench.args
    servers: dict[str, Server] = {}
    starts = {
        "bare": lambda: bareServer(bench.users, bench.work),
        "service": lambda: fingerService(bench.users, bench.work, "service"),
        "noLog": lambda: fingerService(bench.users, bench.work, "nolog", "--no-log-queries"),
        "metrics": lambda: fingerService(bench.users, bench.work, "metrics",
                                         "--metrics", "tcp:0:interface=127.0.0.1"),
        "classic": lambda: classicServer(bench.work),
    }
    rows = []
    try:
        for name, start in starts.items():
            server = start()
            if server is not None:
                servers[name] = server
        names = [name for name, _ in COLUMNS if name in servers]
        for concurrency in (1, 8, 32):
            runs: dict[str, list[dict]] = {name: [] for name in servers}
            for _ in range(args.repeat):  # interleaved: all see the same noise
                for name, server in servers.items():
                    query, expect = (CLASSIC_QUERY, CLASSIC_EXPECT) if name == "classic" else (QUERY, EXPECT)
                    runs[name].append(measureLoad(server, concurrency, args.seconds, query, expect))
            progress(f"concurrency {concurrency}: " + ", ".join(
                f"{name} {[round(r['qps']) for r in results]} q/s" for name, results in runs.items()
            ))
            chosen = {name: median(results) for name, results in runs.items()}
            bare = chosen["bare"]["qps"]

            def qps(name: str, chosen=chosen, runs=runs, bare=bare) -> str:
                run = chosen[name]
                errors = sum(r["errors"] for r in runs[name])
                text = f"{run['qps']:.0f}" + ("" if name == "bare" else f" ({run['qps'] / bare:.2f})")
                return text + (f", {errors} errors" if errors else "")

            def cells(render) -> dict[str, str]:
                return {name: render(name) for name in names}

            rows.append(Row(f"finger q/s (ratio to bare), concurrency {concurrency}",
                            target=">= 0.85 of bare", **cells(qps)))
            rows.append(Row(f"finger p50 / p99 ms, concurrency {concurrency}", **cells(
                lambda n, chosen=chosen: f"{chosen[n]['p50_ms']:.2f} / {chosen[n]['p99_ms']:.2f}")))
            bareCpu = chosen["bare"]["server_cpu"] / max(chosen["bare"]["requests"], 1)
            rows.append(Row(
                f"server CPU per query, us (share of a core; bare's CPU per query / this), "
                f"concurrency {concurrency}",
                **cells(lambda n, chosen=chosen, bareCpu=bareCpu: cpuPerQuery(chosen[n], "server_cpu", bareCpu)),
            ))
            rows.append(Row(f"load generator CPU per query, us (share of a core), concurrency {concurrency}",
                            **cells(lambda n, chosen=chosen: cpuPerQuery(chosen[n], "cpu_seconds"))))
    finally:
        for server in servers.values():
            server.stop()
    return rows


def median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["qps"])[len(runs) // 2]


def cpuPerQuery(run: dict, key: str, baseline: float | None = None) -> str:
    perQuery = run[key] / max(run["requests"], 1)
    text = f"{perQuery * 1e6:.0f} ({run[key] / run['seconds']:.0%}"
    if baseline is not None and perQuery > 0:
        text += f"; {baseline / perQuery:.2f}"
    return text + ")"


def idleConnections(bench: Bench, count: int = 1000) -> list[Row]:
    values = {}
    for name, start in (
        ("bare", lambda: bareServer(bench.users, bench.work)),
        ("service", lambda: fingerService(
            bench.users, bench.work, "idle", "--max-connections", str(count + 10),
            "--max-connections-per-peer", str(count), "--timeout", "600",
        )),
    ):
        server = start()
        try:
            fingerOnce(server.port)
            before = memory(server.pid)
            sockets = openIdle(server.port, count)
            fingerOnce(server.port)  # queued behind them: all are accepted by now
            values[name] = memory(server.pid) - before
            for s in sockets:
                s.close()
        finally:
            server.stop()
    return [Row("RSS per 1,000 idle connections (MiB)",
                f"{values['bare'] * 1000 / count:.1f}", f"{values['service'] * 1000 / count:.1f}")]


def scale(bench: Bench) -> list[Row]:
    count = bench.args.users
    users = bench.scaleUsers()
    progress("starting the service on it")
    service = fingerService(users, bench.work, "scale", "--refresh", "0.5")
    try:
        startup = service.startupSeconds
        rss = memory(service.pid)
        steady = load(service.port, 8, bench.args.seconds)
        progress(f"start-up {startup:.1f} s, RSS {rss:.0f} MiB; editing the file")
        mark = len(service.log())
        with open(users, "a", encoding="utf-8") as f:
            f.write("newcomer: Just arrived\n")
        edited = time.monotonic()
        service.waitForLog(r"changed; reloading", after=mark)
        reloadStarted = time.monotonic()
        loadedPattern = r"Loaded \d+ users from \S+ in ([\d.]+) s"
        loadedRegex = re.compile(loadedPattern)
        during = load(service.port, 8, 600,
                      until=lambda: loadedRegex.search(service.log(), mark) is not None)
        loaded = service.waitForLog(loadedPattern, after=mark)
        seen = time.monotonic()
        peak = memory(service.pid, "VmHWM")
        after = memory(service.pid)
        assert b"Just arrived" in fingerOnce(service.port, "newcomer")
    finally:
        service.stop()
    return [
        Row(f"{count:,} users: start-up (s)", "", f"{startup:.1f}"),
        Row(f"{count:,} users: RSS after start-up (MiB)", "", f"{rss:.0f}", target="< 400"),
        Row(f"{count:,} users: RSS peak during a reload / after it (MiB)", "",
            f"{peak:.0f} / {after:.0f}", target="< 400"),
        Row(f"{count:,} users: reload after an edit (s): reading / edit to served", "",
            f"{float(loaded.group(1)):.1f} / {seen - edited:.1f}"),
        Row(f"{count:,} users: finger p50 / p99 ms, concurrency 8, no reload", "",
            f"{steady['p50_ms']:.2f} / {steady['p99_ms']:.2f}"),
        Row(f"{count:,} users: finger p50 / p99 ms, concurrency 8, during the reload", "",
            f"{during['p50_ms']:.2f} / {during['p99_ms']:.2f} ({during['requests']} queries"
            f" in {seen - reloadStarted:.1f} s)", target="p99 < 50"),
    ]


def webService(users: Path, work: Path, name: str, *options: str) -> Server:
    """The full service with its web and PB frontends only (query log to a file)."""
    log = work / f"{name}.log"
    server = Server(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "finger", "--file", str(users),
         "--finger", "none", "--setter", "none", "--web", "tcp:0:interface=127.0.0.1",
         *options],
        log,
        r"web listening on 127\.0\.0\.1:(\d+)",
    )
    return server


def wrk(url: str, connections: int, seconds: float, script: Path | None = None) -> dict:
    """Run wrk (one thread) against C{url}: requests/s, p50/p99 ms, errors."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
         *(["-s", str(script)] if script else []), url],
        capture_output=True, text=True, check=True,
    ).stdout

    def ms(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socketErrors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"), "p99": ms("99"),
        "errors": (int(errors.group(1)) if errors else 0),
        "socketErrors": socketErrors.group(1) if socketErrors else "",
    }


WEB_PATHS = (f"/{QUERY}", f"/api/users/{QUERY}")
SKIPPED_HEADERS = {"date", "server", "content-length", "connection", "transfer-encoding", "keep-alive"}


def fetchResponses(base: str) -> dict:
    """The service's responses (headers and body) to L{WEB_PATHS}, for the bare web server."""
    import urllib.request

    responses = {}
    for path in WEB_PATHS:
        with urllib.request.urlopen(base + path, timeout=60) as response:
            responses[path] = {
                "headers": [[n, v] for n, v in response.getheaders() if n.lower() not in SKIPPED_HEADERS],
                "body": response.read().decode("utf-8"),
            }
    return responses


def bareWebServer(responses: dict, work: Path) -> Server:
    path = work / "responses.json"
    path.write_text(json.dumps(responses))
    return Server([sys.executable, str(BENCH / "bare_web.py"), str(path)], work / "bareweb.log",
                  r"listening on (\d+)")


def webRows(bench: Bench) -> list[Row]:
    """
    The web user page and the JSON API against a bare twisted.web resource
    returning the same bytes; then XML-RPC and PB, on the 1,000-user file.
    """
    args = bench.args
    server = webService(bench.users, bench.work, "web", "--pb", "tcp:0:interface=127.0.0.1")
    pbPort = int(server.waitForLog(r"pb listening on 127\.0\.0\.1:(\d+)").group(1))
    base = f"http://127.0.0.1:{server.port}"
    bare = bareWebServer(fetchResponses(base), bench.work)
    bases = {"bare": f"http://127.0.0.1:{bare.port}", "service": base}
    rows = []
    try:
        for path in WEB_PATHS:
            for connections in (1, 8):
                runs: dict[str, list[dict]] = {name: [] for name in bases}
                for _ in range(args.repeat):
                    for name, url in bases.items():
                        cpuBefore = cpuSeconds((bare if name == "bare" else server).pid)
                        result = wrk(url + path, connections, args.seconds)
                        result["cpu"] = cpuSeconds((bare if name == "bare" else server).pid) - cpuBefore
                        runs[name].append(result)
                chosen = {n: sorted(r, key=lambda r: r["rps"])[len(r) // 2] for n, r in runs.items()}
                progress(f"web {path}, {connections} connections: " + ", ".join(
                    f"{n} {[round(r['rps']) for r in rs]} req/s" for n, rs in runs.items()))
                bareRps = chosen["bare"]["rps"]
                bareCpu = chosen["bare"]["cpu"] / max(chosen["bare"]["rps"] * args.seconds, 1)

                def cell(name: str, chosen=chosen, runs=runs, bareRps=bareRps, bareCpu=bareCpu) -> str:
                    run = chosen[name]
                    errors = sum(r["errors"] for r in runs[name])
                    cpu = run["cpu"] / max(run["rps"] * args.seconds, 1)
                    ratio = "" if name == "bare" else f" ({run['rps'] / bareRps:.2f})"
                    cpuRatio = "" if name == "bare" or cpu == 0 else f"; {bareCpu / cpu:.2f}"
                    note = (f", {errors} non-2xx" if errors else "") + (
                        f", socket errors: {run['socketErrors']}" if run["socketErrors"] else "")
                    return (f"{run['rps']:.0f}{ratio}, {run['p50']:.2f} / {run['p99']:.2f} ms, "
                            f"{cpu * 1e6:.0f} us CPU{cpuRatio}{note}")

                rows.append(Row(
                    f"web GET {path.replace(QUERY, 'NAME')} req/s (ratio to bare), p50 / p99, "
                    f"server CPU per request (bare's / this), wrk, {connections} keep-alive "
                    f"connection(s)",
                    bare=cell("bare"), service=cell("service"), target=">= 0.7 of bare"))
        rows.append(Row("XML-RPC getUser calls/s, one sequential python xmlrpc.client", "",
                        f"{xmlrpcRate(base, args.seconds):.0f}"))
        for callers in (1, 8):
            result = json.loads(subprocess.run(
                [sys.executable, str(BENCH / "pbload.py"), str(pbPort), QUERY, str(callers),
                 str(args.seconds)],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
            ).stdout)
            errors = f", {result['errors']} errors" if result["errors"] else ""
            rows.append(Row(f"PB getUser calls/s, one Twisted client, {callers} call(s) in flight",
                            "", f"{result['calls'] / result['seconds']:.0f}{errors}"))
    finally:
        server.stop()
        bare.stop()
    return rows


def fingerAdmin(store: Path, *args: str, stdin: str = "") -> str:
    """Run C{finger-admin --store STORE ARGS} (as the package installs it); its output."""
    return subprocess.run(
        [sys.executable, "-m", "finger.accounts.admin", "--store", str(store), *args],
        input=stdin, capture_output=True, text=True, check=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ).stdout


def wrkPut(url: str, token: str, connections: int, seconds: float, work: Path) -> dict:
    """wrk PUTting a status with a Bearer token (a wrk Lua script sets method, body, headers)."""
    script = work / "put.lua"
    script.write_text(
        'wrk.method = "PUT"\n'
        'wrk.body = \'{"status": "Status set by the benchmark"}\'\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    return wrk(url, connections, seconds, script=script)


def setRates(bench: Bench) -> list[Row]:
    """
    Statuses set per second into the SQLite store, where each acknowledged
    write is on disk (synchronous=FULL): through the setter (its line
    protocol over TCP) and through the JSON API (PUT with a Bearer token),
    with one writer and with many at once.
    """
    args = bench.args
    store = bench.work / "statuses.db"
    log = bench.work / "set.log"
    server = Server(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "finger", "--store", str(store),
         "--finger", "none", "--pb", "none", "--web", "tcp:0:interface=127.0.0.1",
         "--setter", "tcp:0:interface=127.0.0.1", "--max-connections-per-peer", "64"],
        log, r"setter listening on 127\.0\.0\.1:(\d+)",
    )
    webPort = int(server.waitForLog(r"web listening on 127\.0\.0\.1:(\d+)").group(1))
    fingerAdmin(store, "adduser", QUERY, stdin="a benchmark password 1234\n")
    token = fingerAdmin(store, "token", QUERY).strip()
    rows = []
    try:
        for writers in (1, 16):
            result = measureLoad(server, writers, args.seconds,
                                 query=f"{QUERY}\r\nStatus set by the benchmark", expect="OK")
            progress(f"setter, {writers} writer(s): {result['qps']:.0f} statuses/s")
            errors = f", {result['errors']} errors" if result["errors"] else ""
            rows.append(Row(
                f"statuses set/s through the setter into --store (SQLite, on disk before OK), "
                f"{writers} writer(s); p50 / p99 ms", "",
                f"{result['qps']:.0f} ({result['p50_ms']:.2f} / {result['p99_ms']:.2f}){errors}"))
        for writers in (1, 16):
            result = wrkPut(f"http://127.0.0.1:{webPort}/api/users/{QUERY}/status", token,
                            writers, args.seconds, bench.work)
            progress(f"JSON API, {writers} writer(s): {result['rps']:.0f} statuses/s")
            note = (f", {result['errors']} non-2xx" if result["errors"] else "") + (
                f", socket errors: {result['socketErrors']}" if result["socketErrors"] else "")
            rows.append(Row(
                f"statuses set/s through the JSON API (PUT /api/users/NAME/status, Bearer token) "
                f"into --store, {writers} keep-alive writer(s); p50 / p99 ms", "",
                f"{result['rps']:.0f} ({result['p50']:.2f} / {result['p99']:.2f}){note}"))
    finally:
        server.stop()
    return rows


def xmlrpcRate(base: str, seconds: float) -> float:
    import xmlrpc.client

    proxy = xmlrpc.client.ServerProxy(f"{base}/RPC2")
    calls, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        assert proxy.getUser(QUERY).startswith(EXPECT)
        calls += 1
    return calls / (time.monotonic() - started)


def firstPageTimes(port: int, requests: int, timeout: float) -> list[float]:
    """Milliseconds for each of C{requests} sequential C{GET /} on one keep-alive connection."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    times = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            connection.request("GET", "/")
            response = connection.getresponse()
            body = response.read()
            times.append((time.perf_counter() - started) * 1000)
            assert response.status == 200 and b"user0000000" in body, response.status
    finally:
        connection.close()
    return times


def firstPage(bench: Bench, requests: int = 200) -> list[Row]:
    """Latency of the first web page (/) of the big users file, sequential."""
    count = bench.args.users
    users = bench.scaleUsers()
    progress(f"starting the web frontend on {count:,} users")
    server = webService(users, bench.work, "firstpage")
    try:
        times = firstPageTimes(server.port, requests + 5, timeout=60)
    finally:
        server.stop()
    times = sorted(times[5:])  # the first few warm up
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99) - 1]
    return [Row(f"{count:,} users: first web page (/) p50 / p99 ms ({requests} sequential requests)",
                "", f"{p50:.2f} / {p99:.2f}", target="p50 < 10")]


def eventStreams(bench: Bench) -> list[Row]:
    """The change feed's event streams (bench/events.py)."""
    sys.path.insert(0, str(BENCH))
    from events import eventRows

    return eventRows(bench, webService, memory, Row)


# Each section: Bench -> rows.
SECTIONS = [fingerThroughput, webRows, setRates, idleConnections, scale, firstPage, eventStreams]


def table(rows: list[Row]) -> str:
    lines = [
        "| measure | " + " | ".join(heading for _, heading in COLUMNS) + " | target |",
        "| --- |" + " --- |" * len(COLUMNS) + " --- |",
    ]
    lines += [
        f"| {r.measure} | " + " | ".join(getattr(r, name) for name, _ in COLUMNS) + f" | {r.target} |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 200,000 users")
    parser.add_argument("--seconds", type=float, help="seconds per load run (default 4)")
    parser.add_argument("--repeat", type=int, help="runs per point; the median is shown (default 3)")
    parser.add_argument("--users", type=int, help="users in the scale test (default 1,000,000)")
    parser.add_argument("--section", action="append",
                        help="run only this section (repeatable), from: "
                        f"{', '.join(s.__name__ for s in allSections())}")
    args = parser.parse_args()
    args.seconds = args.seconds or (2.0 if args.quick else 4.0)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.users = args.users or (200_000 if args.quick else 1_000_000)
    buildLoadgen()
    raiseFileLimit()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="finger-bench-") as work:
        bench = Bench(args, Path(work))
        for section in allSections():
            if args.section and section.__name__ not in args.section:
                continue
            progress(f"running {section.__name__}")
            rows += section(bench)
    cores = os.cpu_count()
    loadavg = os.getloadavg()[0]
    print(table(rows))
    print(f"\n{time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, Twisted "
          f"{twistedVersion()}, {cores} cores, load average {loadavg:.1f} at the end. "
          f"Medians of {args.repeat} interleaved run(s) of {args.seconds:g} s.")


def allSections() -> list:
    """These sections and bench/postgres.py's (PostgreSQL and --workers)."""
    sys.path.insert(0, str(REPO))
    import postgres

    return SECTIONS + postgres.SECTIONS


def twistedVersion() -> str:
    import twisted

    return twisted.__version__


if __name__ == "__main__":
    main()
