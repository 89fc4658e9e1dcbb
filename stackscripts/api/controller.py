"""The Controller: runs template phases on servers and records everything in the audit store."""

from __future__ import annotations

import getpass
import socket
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..catalog.library import Catalog
from ..errors import BadInput, Conflict, ConnectionFailed, RunFailed, StackscriptsError
from ..events import EventBus, Subscriber
from ..executor import Cancel, Executor
from ..inputs.creds import Credentials
from ..inputs.materialize import masked, materialize, secret_values
from ..inputs.resolve import Layer
from ..masking import SecretSet
from ..model import Phase, Plan, RunResult, RunState, ServerState
from ..plan import ResolvedTemplate, build_plan, resolve_inputs, resolve_template
from ..recorder import StoreRecorder
from ..render.bundle import step_env
from ..store.base import RunRecord, ServerRecord, Store
from ..templates import load_template
from ..transport.base import HostSpec, Session, Transport, transports
from . import pinning
from .inputs import Inputs, input_layers, recorded_layer
from .resume_point import resume_point
from .retemplate import check_retemplate
from .servers import env_lookup, host_spec, new_server

DECOMMISSION_BUDGET = 600.0  # seconds for every Decommission script of a run


def check_budget(budget: float) -> float:
    """A decommission time budget must be a number of seconds above 0 (0 would mean no limit, a negative or NaN
    budget would skip every script)."""
    if not (isinstance(budget, (int, float)) and 0 < budget < float("inf")):
        raise BadInput(f"a decommission budget of {budget!r} seconds is not a number of seconds above 0",
                       hint="Give the seconds all Decommission scripts may take in all, e.g. --budget 600.")
    return float(budget)


def describe(exc: BaseException) -> str:
    """Why a run ended outside its steps, one line."""
    return str(exc).strip() or type(exc).__name__


def who() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


class Controller:
    """One controller over one audit store; safe to use from several threads (one server each)."""

    def __init__(self, db: str | Path | None = None, *, libraries: Sequence[str] | None = None,
                 credentials: Credentials | None = None, transport: str = "ssh",
                 subscribers: Sequence[Subscriber] = (), store: Store | None = None) -> None:
        if store is None:
            from ..store import open_store  # a postgresql:// DSN or a SQLite file (None: $STACKSCRIPTS_DB, default)

            store = open_store(db)
        self.store: Store = store
        self.catalog = Catalog.from_specs(list(libraries or []))
        self.creds = credentials or Credentials()
        self._given_creds = credentials is not None
        if transport not in transports.names():
            transports.get(transport)  # NotFound naming the known transports, now rather than at first use
        self._transport_name = transport
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()
        self.bus = EventBus([StoreRecorder(self.store), *subscribers])
        self._secrets: dict[str, SecretSet] = {}  # host:port -> the secrets of the runs there now
        self._secrets_lock = threading.Lock()

    @property
    def transport(self) -> Transport:
        """Made at first use: a command that only reads the store never imports the SSH stack (paramiko, Fabric)."""
        with self._transport_lock:
            made = self._transport
            if made is None:
                made = self._transport = transports.get(self._transport_name)()
                if self._given_creds and hasattr(made, "credentials"):
                    made.credentials = self.creds  # a server's cred: key comes from the caller's backends too
            return made

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Controller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # servers
    def add_server(self, name: str, host: str, port: int = 22, key: str | None = None) -> ServerRecord:
        """Record an existing server reached as `user@host` (user root if left out); Conflict if the name is taken."""
        record = new_server(name, host, port, key)
        try:
            self.store.get_server(name)
        except BadInput:
            self.store.put_server(record)
            return self.store.get_server(name)  # as stored: in the store's team
        raise Conflict(f"server {name} already exists", hint=f"Remove it first with 'stackscripts servers remove {name}'.")

    def forget_key(self, name: str) -> ServerRecord:
        return self.store.update_server(name, host_key=None)

    # runs
    def boot(self, server: str, template: str | Path, inputs: Inputs = (),
             layers: Sequence[Layer] = (), cancel: Cancel | None = None, force: bool = False) -> RunResult:
        """Run the Boot phase; the server ends operational, or stranded at the failing step. The template (a file,
        or a kept `sha256:...`) is kept as a revision, run from it, and the server and run pinned to it. A server
        booted from another template or revision is refused unless `force` (then kept in its history)."""
        record = self.store.get_server(server)
        all_layers = [*layers, *input_layers(inputs)]
        pin = pinning.pin(self.store, self.catalog, template, who=who(), message=f"boot {server}",
                          check=lambda resolved: build_plan(resolved, Phase.BOOT, all_layers, server=server))
        plan = build_plan(pin.resolved, Phase.BOOT, all_layers, server=server)
        check_retemplate(self.store, record, pin.revision, pin.source, force=force, who=who())
        view = masked(resolve_inputs(pin.resolved, all_layers).values())
        return self.execute(record, plan, view, revision=pin.revision, template=pin.source, record_server={
            "template": pin.source, "template_sha256": pin.sha256, "inputs": view, "revision": pin.revision},
            cancel=cancel)

    def run(self, server: str, script: str, inputs: Inputs = ()) -> RunResult:
        """Run one Operational script of the server's template on an operational server."""
        record = self.operational(self.store.get_server(server))
        resolved = self.server_template(record)
        layers = [recorded_layer(record.inputs, "server"), *input_layers(inputs)]
        plan = build_plan(resolved, Phase.OPERATIONAL, layers, server=server, only=script)
        return self.execute(record, plan, masked(step_input for s in plan.steps for step_input in s.inputs),
                             revision=record.revision, template=record.template)

    def resume(self, run_id: str, inputs: Inputs = (), budget: float = DECOMMISSION_BUDGET,
               cancel: Cancel | None = None) -> RunResult:
        """Continue a failed or interrupted run from its failing step, with the same inputs.

        A Decommission run goes on as Decommission does: from its first failed script, past any failure, within
        `budget` seconds."""
        run = self.store.get_run(run_id)
        if run.state not in (RunState.FAILED, RunState.INTERRUPTED, RunState.CANCELLED):
            raise Conflict(f"run {run.id} is {run.state}; only failed, interrupted or cancelled runs can be resumed")
        record = self.store.get_server(run.server)
        if run.template is None and run.revision is None:
            raise BadInput(f"run {run.id} has no template recorded")
        if run.revision is not None:  # the run's own revision, whatever the template on disk says now
            resolved = pinning.load(self.store, run.revision)
        else:
            resolved = resolve_template(load_template(str(run.template)), self.catalog)
        phase = Phase(run.phase)
        layers = [recorded_layer(run.inputs, f"run {run.id}"), *input_layers(inputs)]
        only = None
        if phase is Phase.OPERATIONAL:  # an operational run ran one script: resume that one, not the phase
            if not run.steps:
                raise Conflict(f"run {run.id} started no script", hint="Run the script again with 'stackscripts run'.")
            self.operational(record)
            only = run.steps[0].name
            layers.insert(0, recorded_layer(record.inputs, "server"))  # it recorded its script's inputs only
        plan = build_plan(resolved, phase, layers, server=run.server, only=only)
        start = resume_point(self.store, run)
        # record what the steps get: the recorded inputs with any -i override applied on top
        if phase is Phase.OPERATIONAL:
            view = masked(step_input for s in plan.steps for step_input in s.inputs)
        else:
            view = masked(resolve_inputs(resolved, layers).values())
        decommission = phase is Phase.DECOMMISSION
        return self.execute(record, plan, view, start=start, resumed_from=run.id, revision=run.revision,
                             template=run.template,
                             record_server={"inputs": view} if phase is Phase.BOOT else None,
                             keep_going=decommission, budget=budget if decommission else None, cancel=cancel)

    def decommission(self, server: str, budget: float = DECOMMISSION_BUDGET) -> RunResult:
        """Every Decommission script, each recorded, within a time budget; failures do not stop the rest."""
        check_budget(budget)
        record = self.store.get_server(server)
        resolved = self.server_template(record)
        plan = build_plan(resolved, Phase.DECOMMISSION, [recorded_layer(record.inputs, "server")], server=server)
        return self.execute(record, plan, dict(record.inputs), keep_going=True, budget=budget,
                             revision=record.revision, template=record.template)

    def runs(self, server: str | None = None, limit: int = 50, team: str | None = None) -> list[RunRecord]:
        """Recorded runs, newest first (one server's, one team's, when named); steps without their output."""
        if server is not None:
            self.store.get_server(server)
        return self.store.list_runs(server, limit, team)

    def get_run(self, run_id: str) -> RunRecord:
        """One run with its steps and their output; NotFound for an unknown id."""
        return self.store.get_run(run_id)

    # checks and internals
    @staticmethod
    def operational(record: ServerRecord) -> ServerRecord:
        """The record, or Conflict unless the server is operational."""
        if record.state != ServerState.OPERATIONAL.value:
            raise Conflict(f"server {record.name} is {record.state}, not operational",
                           hint="Operational scripts run only on operational servers; boot or resume it first.")
        return record

    def server_template(self, record: ServerRecord) -> ResolvedTemplate:
        """The server's revision (servers booted before revisions: its template file as it is now)."""
        if record.revision:
            return pinning.load(self.store, record.revision)
        if not record.template:
            raise BadInput(f"server {record.name} has no template",
                           hint=f"Boot it first: stackscripts boot {record.name} --template T.")
        return resolve_template(load_template(record.template), self.catalog)

    def materialize(self, plan: Plan, secrets: list[str] | None = None) -> dict[int, dict[str, str]]:
        """Every step's input values (credentials fetched, env: references followed); BadInput if one is missing.

        Credentials reached through env: references are appended to `secrets`."""
        lookup = env_lookup(self.store, self.creds, secrets, self_name=plan.server)
        return {s.index: materialize(s.inputs, self.creds, lookup) for s in plan.steps}

    def execute(self, record: ServerRecord, plan: Plan, view: Mapping[str, str], *, start: int = 0,
                resumed_from: str | None = None, keep_going: bool = False, budget: float | None = None,
                record_server: Mapping[str, object] | None = None, revision: str | None = None,
                template: str | None = None, cancel: Cancel | None = None) -> RunResult:
        """Run a plan on a server and record it as one run (`view`: its inputs as recorded); RunFailed if not ok."""
        secrets: list[str] = []
        envs = self.materialize(plan, secrets)
        secrets += [v for s in plan.steps for v in secret_values(s.inputs, envs[s.index])]
        spec = host_spec(record)
        try:  # connect first: an unreachable host or a changed host key does not touch the server's template,
            session = self._connect(record, spec)  # inputs or state; the attempt is recorded as a failed run
        except ConnectionFailed as exc:
            self._record_attempt(record, plan, view, resumed_from, exc, revision, template)
            raise
        held = self._host_secrets(spec)  # every secret of every run of this controller on that machine, live
        held.add(secrets)
        try:
            with session:
                run_id = self.store.start_run(record.name, plan.phase.value, who=who(),
                                              template=template or str(plan.template.path.resolve()), inputs=view,
                                              resumed_from=resumed_from, revision=revision)
                try:
                    if record_server:
                        self.store.update_server(record.name, **record_server)
                    self._set_state(record.name, plan.phase, None)
                    envs = {i: step_env(s, envs[s.index], server=record.name, run_id=run_id)
                            for i, s in ((s.index, s) for s in plan.steps)}
                    executor = Executor(session, self.bus, server=record.name, run_id=run_id, secrets=held,
                                        cancel=cancel)
                    result = executor.run(plan, envs, start=start, keep_going=keep_going, budget=budget)
                except BaseException as exc:
                    # e.g. an attachment that does not render: end the run so the server is not left locked
                    interrupted = isinstance(exc, KeyboardInterrupt)
                    state = RunState.INTERRUPTED if interrupted else RunState.FAILED
                    try:
                        self.store.finish_run(run_id, state, None if interrupted else describe(exc))
                        self._set_state(record.name, plan.phase, RunResult(run_id, record.name, plan.phase, state))
                    except StackscriptsError:
                        pass  # already ended, or the store is gone: the original error is the one to report
                    raise
        finally:
            held.remove(secrets)
        self._set_state(record.name, plan.phase, result)
        if not result.ok:
            failed = next((s for s in result.steps if not s.ok), None)
            why = failed.error or f"exited {failed.exit_code}" if failed else ""
            what = f"step {failed.index + 1} ({failed.name}) {why}" if failed else "failed"
            if result.state in (RunState.CANCELLED, RunState.INTERRUPTED):
                what = f"{result.state.value}{f' at step {failed.index + 1} ({failed.name})' if failed else ''}"
            raise RunFailed(f"{record.name}: {plan.phase.value} run {run_id}: {what}", result)
        return result

    def _record_attempt(self, record: ServerRecord, plan: Plan, view: Mapping[str, str], resumed_from: str | None,
                        exc: ConnectionFailed, revision: str | None = None, template: str | None = None) -> None:
        """An attempt that failed before its first step is a failed run with no steps and the reason."""
        try:
            self.store.record_attempt(record.name, plan.phase.value, who=who(), inputs=view, error=str(exc),
                                      template=template or str(plan.template.path.resolve()),
                                      resumed_from=resumed_from, revision=revision)
        except StackscriptsError as failure:  # e.g. a read-only store: the connection error is the one to report
            exc.add_note(f"the attempt could not be recorded: {failure}")

    def _host_secrets(self, spec: HostSpec) -> SecretSet:
        """The secrets this controller holds for the machine at host:port (several server records may name it)."""
        key = f"{spec.host.strip('[]').lower()}:{spec.port}"
        with self._secrets_lock:
            return self._secrets.setdefault(key, SecretSet())

    def _connect(self, record: ServerRecord, spec: HostSpec) -> Session:
        session = self.transport.open(spec)
        if record.host_key is None and getattr(session, "host_key", None):
            self.store.update_server(record.name, host_key=session.host_key)
        return session

    def _set_state(self, server: str, phase: Phase, result: RunResult | None) -> None:
        if phase is Phase.BOOT:
            state = ServerState.BOOTING if result is None or result.state is RunState.INTERRUPTED else (
                ServerState.OPERATIONAL if result.ok else ServerState.STRANDED)
        elif phase is Phase.DECOMMISSION:
            state = ServerState.DECOMMISSIONING if result is None else ServerState.TERMINATED
        else:
            return
        self.store.update_server(server, state=state.value)


__all__ = ["Controller", "ConnectionFailed", "RunFailed"]
