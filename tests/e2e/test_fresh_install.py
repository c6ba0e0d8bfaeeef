"""The README's first command, `scripts/run`, in a fresh copy of the checkout, as a newcomer runs it.

Test policy:

- A fresh copy: the files git would commit (tracked, plus untracked ones not ignored, so work in
  progress is tested too) are copied into a temporary directory: no .venv, no var/, nothing
  installed by hand. `scripts/run --port N` really runs there: it builds a brand-new .venv from
  requirements.lock alone (the package itself with --no-deps) and starts every process. A runtime
  import of a test-only package (httpx, pytest, …) therefore fails here as it would for a newcomer.
- Real: pip installs from the configured index, the system talks to the real RabbitMQ on a private
  virtual host made for this module, and every service, relay and the gateway is its own process.
  Nothing is mocked; the demo password is the one `satu run` prints.
- One copy, one .venv and one running system per module (installing the lock takes a minute or
  two); the tests share it in file order, and the last one stops it with SIGTERM and checks that no
  process it started is left. The teardown kills whatever a failed test left behind.
- Selected with `-m fresh_install` (and skipped with `-m "not fresh_install"`); it is part of
  `scripts/test` and so of CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any, cast

import httpx
import pytest

from tests.support.broker import private_vhost
from tests.support.factories import pdf_bytes
from tests.support.field_visit import record_field_visit
from tests.support.pdf import decode_qr_codes
from tests.support.system import eventually, free_port

pytestmark = [pytest.mark.fresh_install, pytest.mark.rabbit, pytest.mark.timeout(1200)]

CHECKOUT = Path(__file__).resolve().parents[2]
INSTALL_AND_START_SECONDS = 900  # a cold pip install of the lock plus the start; normally 1-3 minutes
# The line `satu run` prints once everything answers. Anchored: a traceback quotes the source line that prints it.
READY = re.compile(r"^Satu Ormas is running: http://\S+/docs")
SERVICE_COUNT = 7  # four services, two relays, the gateway
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# `satu run` prints one line per demo account: "  <role> <email>  <password>".
ACCOUNT_LINE = re.compile(r"^\s+(admin|verifier|approver|auditor|applicant)\s+(\S+@\S+)\s+(\S+)")


@dataclass
class FreshRun:
    copy: Path
    port: int
    process: subprocess.Popen[bytes] = field(repr=False)
    output: list[str] = field(default_factory=list, repr=False)
    # role -> e-mail and role -> password, as `satu run` printed them
    emails: dict[str, str] = field(default_factory=dict, repr=False)
    passwords: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def python(self) -> Path:
        return self.copy / ".venv" / "bin" / "python"

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def sign_in(self, role: str) -> str:
        response = self.client().post(
            "/api/session", json={"email": self.emails[role], "password": self.passwords[role]}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def report(self, lines: int = 40) -> str:
        """What `scripts/run` printed and the tail of every process log, for a failure message."""
        parts = ["----- scripts/run output -----", *self.output[-lines:]]
        for path in sorted((self.copy / "var" / "logs").glob("*.log")):
            parts += [f"----- {path.name} -----", *path.read_text(errors="replace").splitlines()[-lines:]]
        return "\n".join(parts)


def copy_checkout(target: Path) -> Path:
    """The files git would commit from this checkout, uncommitted work included, and nothing else."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        capture_output=True,
        check=True,
    ).stdout
    copied = 0
    for raw in filter(None, listing.split(b"\0")):
        source = CHECKOUT / os.fsdecode(raw)
        if not source.exists() and not source.is_symlink():
            continue  # tracked but deleted in the work tree: a fresh clone of this work would lack it too
        destination = target / os.fsdecode(raw)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)  # keeps scripts/* executable
        copied += 1
    assert copied and (target / "scripts" / "run").exists() and not (target / ".venv").exists()
    return target


def newcomer_env(amqp_uri: str) -> dict[str, str]:
    """This machine's environment, minus anything that would let the copy reuse the dev tree's install."""
    env = {
        name: value
        for name, value in os.environ.items()
        # No SATU_* of the developer's: the system must start on its defaults (the public base URL
        # included, which must follow --port). No virtualenv or PYTHONPATH pointing into the dev tree.
        if not name.upper().startswith("SATU_") and name not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    dev_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != dev_bin)
    env["SATU_AMQP_URI"] = amqp_uri
    return env


@dataclass(frozen=True)
class Proc:
    pid: int
    state: str
    pgid: int
    cwd: str
    cmdline: str


def read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # The command name in parentheses may hold spaces; the fields after it are fixed.
        fields = stat[stat.rindex(")") + 2 :].split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""  # a zombie has none
        return Proc(pid, fields[0], int(fields[2]), cwd, cmdline)
    except (OSError, ValueError, IndexError):
        return None  # gone while we looked


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def processes_of(run: FreshRun) -> list[Proc]:
    """Live processes that this run started: in its process group, or working in or running from the copy."""
    copy = str(run.copy)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        proc = read_proc(int(entry.name))
        if proc is None or proc.state == "Z":  # a zombie is dead; only its exit status waits to be read
            continue
        if proc.pgid == run.process.pid or proc.cwd == copy or proc.cwd.startswith(copy + "/") or copy in proc.cmdline:
            found.append(proc)
    return found


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


def _pump(stream: IO[bytes], lines: list[str], log: Path) -> None:
    with log.open("w") as sink:
        for raw in iter(stream.readline, b""):
            line = ANSI.sub("", raw.decode(errors="replace")).rstrip("\n")
            lines.append(line)
            sink.write(line + "\n")
            sink.flush()


@pytest.fixture(scope="module")
def private_amqp_uri() -> Iterator[str]:
    """A RabbitMQ virtual host of this module alone: no queue of another test's system is shared."""
    with private_vhost("satu_fresh") as uri:
        yield uri


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, private_amqp_uri: str) -> Iterator[FreshRun]:
    """`scripts/run --port N` in a fresh copy, once it says the system is running with its demo accounts."""
    workspace = tmp_path_factory.mktemp("fresh-install")
    copy = copy_checkout(workspace / "satu-ormas")
    port = free_port()
    process = subprocess.Popen(
        ["scripts/run", "--port", str(port)],
        cwd=copy,
        env=newcomer_env(private_amqp_uri),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: everything it starts is findable, and killable
    )
    run = FreshRun(copy, port, process)
    assert process.stdout is not None
    pump = threading.Thread(target=_pump, args=(process.stdout, run.output, workspace / "run-output.log"), daemon=True)
    pump.start()
    try:
        deadline = time.monotonic() + INSTALL_AND_START_SECONDS
        while not any(READY.match(line) for line in run.output):
            if process.poll() is not None:
                pump.join(5)
                pytest.fail(f"scripts/run exited with code {process.returncode} before the system ran\n{run.report()}")
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/run did not report running in {INSTALL_AND_START_SECONDS}s\n{run.report()}")
            time.sleep(0.5)
        for line in run.output:
            if match := ACCOUNT_LINE.match(line):
                run.emails[match[1]], run.passwords[match[1]] = match[2], match[3]
        yield run
    finally:
        stop_everything(run)
        pump.join(5)


def stop_everything(run: FreshRun) -> None:
    """Teardown: stop what a failed or deselected test left running (processes this module started only)."""
    if run.process.poll() is None:
        run.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.process.wait(30)
    for proc in processes_of(run):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    if run.process.poll() is None:
        run.process.wait(10)


def test_the_gateway_answers_on_the_given_port(fresh: FreshRun) -> None:
    assert fresh.client().get("/health").status_code == 200
    openapi = fresh.client().get("/openapi.json")
    assert openapi.status_code == 200
    assert "/api/session" in openapi.json()["paths"]


def test_the_printed_demo_passwords_sign_in(fresh: FreshRun) -> None:
    assert set(fresh.passwords) == {"admin", "verifier", "approver", "auditor", "applicant"}, fresh.report()
    kept = json.loads((fresh.copy / "var" / "demo-credentials.txt").read_text())
    for role, email in fresh.emails.items():
        assert kept[email] == fresh.passwords[role]
        assert fresh.sign_in(role)
    wrong = fresh.client().post("/api/session", json={"email": fresh.emails["admin"], "password": "not-the-one"})
    assert wrong.status_code == 401


def test_the_demo_ormas_has_a_half_yearly_report_due(fresh: FreshRun) -> None:
    due = fresh.client(fresh.sign_in("applicant")).get("/api/reports/due")
    assert due.status_code == 200, due.text
    assert due.json() and due.json()[-1]["status"] == "not_filed"  # the current half-year, to be reported


def test_every_process_gets_the_public_base_url_of_the_port(fresh: FreshRun) -> None:
    # scripts/run exec's `satu run`, so its pid is the launcher's, and its children are the system.
    children = children_of(fresh.process.pid)
    commands = {pid: proc.cmdline for pid in children if (proc := read_proc(pid))}
    assert len(children) == SERVICE_COUNT, commands
    for pid in children:
        # Only this variable goes into the message: the rest of a process's environment is none of the log's business.
        public_base_url = environ_of(pid).get("SATU_PUBLIC_BASE_URL")
        assert public_base_url == fresh.base, commands[pid]


def test_a_letter_qr_code_and_the_mail_links_point_at_the_port(fresh: FreshRun) -> None:
    """A short SKM journey on the demo ormas: filed, forwarded, approved, then read as a person would."""
    applicant = fresh.client(fresh.sign_in("applicant"))
    verifier = fresh.client(fresh.sign_in("verifier"))
    approver = fresh.client(fresh.sign_in("approver"))

    uploaded = applicant.post("/api/files", files={"file": ("surat.pdf", pdf_bytes(), "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    attachments = [{"file_id": uploaded.json()["file_id"], "kind": "cover_letter"}]
    filed = applicant.post("/api/cases", json={"service": "skm", "attachments": attachments})
    assert filed.status_code == 201, filed.text
    case_id, reference = filed.json()["id"], filed.json()["reference"]
    assert record_field_visit(verifier, case_id).status_code == 200
    assert verifier.post(f"/api/cases/{case_id}/forward", json={}).status_code == 200
    approved = approver.post(f"/api/cases/{case_id}/approval", json={})
    assert approved.status_code == 200, approved.text
    code = approved.json()["letter"]["verification_code"]

    # The letter's QR code opens this system's verification page, on the port it was started with.
    letter = eventually(lambda: (r := applicant.get(f"/api/cases/{case_id}/letter")).status_code == 200 and r, 60)
    [url] = decode_qr_codes(cast(httpx.Response, letter).content)
    assert url == f"{fresh.base}/verify/{code}"
    assert httpx.get(url).status_code == 200

    # Every status mail (written as .eml files: no SMTP host is configured) links to the case page there.
    def mails() -> list[EmailMessage]:
        found = []
        for path in sorted((fresh.copy / "var" / "mail").glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if reference in str(message["Subject"]):
                found.append(message)
        return found

    sent = cast(list[EmailMessage], eventually(lambda: len(found := mails()) >= 3 and found, 60))
    for message in sent:
        body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        links = re.findall(r"https?://\S+", body)
        assert links == [f"{fresh.base}/cases/{case_id}"], body


def test_pip_check_passes_in_the_fresh_venv(fresh: FreshRun) -> None:
    result = subprocess.run([fresh.python, "-m", "pip", "check"], capture_output=True, text=True, cwd=fresh.copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_fresh_venv_holds_exactly_the_runtime_lock(fresh: FreshRun) -> None:
    """pip installs a missing dependency of a locked package silently; then the lock is incomplete."""
    listed = subprocess.run(
        [fresh.python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    ).stdout
    installed = {normalise(item["name"]): item["version"] for item in json.loads(listed)}
    for tool in ("pip", "setuptools", "wheel", "satu-ormas"):
        installed.pop(tool, None)
    locked = {}
    for line in (fresh.copy / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[normalise(name)] = version.strip()
    assert installed == locked
    assert "httpx" not in installed and "pytest" not in installed  # the test tools stay out of a run


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, sys
failed, imported = {}, {}
for top in sys.argv[1:]:
    package = importlib.import_module(top)
    walk = pkgutil.walk_packages(package.__path__, top + ".", onerror=lambda n: failed.setdefault(n, "walk failed"))
    names = [top] + [m.name for m in walk]
    for name in names:
        try:
            imported[name] = importlib.import_module(name).__file__
        except BaseException as error:
            failed[name] = f"{error.__class__.__name__}: {error}"
print(json.dumps({"failed": failed, "imported": imported}))
"""


def production_packages(root: Path) -> set[str]:
    """The top-level packages the project ships: pyproject.toml's packages.find patterns, so a new one is walked too."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.rstrip("*").rstrip(".") for pattern in patterns}


def test_every_production_module_imports_from_the_runtime_lock_alone(fresh: FreshRun) -> None:
    packages = production_packages(fresh.copy)
    assert {"contracts", "infra", "services", "gateway", "ops"} <= packages
    # -I: no PYTHONPATH, no user site, not the current directory: only what the fresh .venv installed.
    result = subprocess.run(
        [fresh.python, "-I", "-c", IMPORT_EVERY_MODULE, *sorted(packages)],
        capture_output=True,
        text=True,
        cwd=fresh.copy,
        env=newcomer_env("amqp://guest:guest@127.0.0.1:5672/"),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["failed"] == {}
    imported: dict[str, str] = outcome["imported"]
    assert {name.split(".")[0] for name in imported} == packages
    assert len(imported) > 30, sorted(imported)  # the walk really went into the subpackages
    assert all(path.startswith(str(fresh.copy)) for path in imported.values())  # the copy, not the dev tree


def test_what_the_system_wrote_is_readable_by_its_own_user_alone(fresh: FreshRun) -> None:
    # Event stores and read models hold NIK and password hashes; var/keys holds private keys.
    written = [path for path in (fresh.copy / "var").rglob("*") if not path.is_symlink()]
    assert any(path.name == "registry-events.sqlite" for path in written)
    assert any(path.suffix == ".key" for path in written)
    private = [path for path in written if path.suffix != ".pub"]  # public keys are public (in a 0700 folder)
    shared = [f"{path} {oct(path.stat().st_mode & 0o777)}" for path in private if path.stat().st_mode & 0o077]
    assert shared == []


def test_sigterm_stops_every_process_it_started(fresh: FreshRun) -> None:
    """Last: stops the shared system."""
    before = processes_of(fresh)
    assert len(before) >= SERVICE_COUNT + 1, before  # `satu run` and the seven it started

    fresh.process.send_signal(signal.SIGTERM)
    assert fresh.process.wait(60) == 0, fresh.report()
    # `satu run` waits for its children before it exits; the grace period only covers /proc catching up.
    deadline = time.monotonic() + 10
    while (left := processes_of(fresh)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], left
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{fresh.base}/health", timeout=2)
    assert any("stopping" in line for line in fresh.output)
