"""One libnice ICE agent for a recording, driven through PyGObject: exchange candidates through
files, connect, report.

Run inside a network namespace by libnice_lab.py with the system Python (Debian's python3-gi and
gir1.2-nice-0.1). Writes <name>.offer.json (what it would signal: credentials and candidates, per
candidate in the Office Communicator 2007 mode), reads the peer's, connects, sends a little data
on the selected pair and writes <name>.report.json: the agent's own account (candidates,
credentials, role, compatibility mode, the pair nice_agent_get_selected_pair returns, component
states as the signals announced them). Nothing here looks at the capture.

For the lab's cause scenarios: --signal-wrong-pwd signals a password that is not the agent's own
(the peer's checks fail integrity), --consent-freshness turns on libnice's RFC 7675 consent checks
(NICE_AGENT_OPTION_CONSENT_FRESHNESS), <name>.connected tells the lab the call is up, --no-data
sends nothing on the selected pair and --linger keeps the call open, noting when libnice gives it
up (its component state turning failed after ready).

Debian 12's typelib reads NiceCandidate's fields at wrong offsets (priority comes back as
garbage), so candidate fields are read and written with ctypes at the C header's offsets
(agent/candidate.h: type, transport, addr, base_addr are 64 bytes; priority at 64, foundation at
76, username and password pointers at 112 and 120 on 64-bit).
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import re
import time
from pathlib import Path

import gi

gi.require_version("Nice", "0.1")
from gi.repository import GLib, Nice  # noqa: E402

MODES = {
    "rfc5245": Nice.Compatibility.RFC5245,
    "oc2007r2": Nice.Compatibility.OC2007R2,
    "oc2007": Nice.Compatibility.OC2007,
}
STATES = {
    Nice.ComponentState.DISCONNECTED: "disconnected",
    Nice.ComponentState.GATHERING: "gathering",
    Nice.ComponentState.CONNECTING: "connecting",
    Nice.ComponentState.CONNECTED: "connected",
    Nice.ComponentState.READY: "ready",
    Nice.ComponentState.FAILED: "failed",
}
TYPES = {"host": "host", "srflx": "srflx", "prflx": "prflx", "relay": "relay"}

_nice = ctypes.CDLL("libnice.so.10")
_glib = ctypes.CDLL("libglib-2.0.so.0")
_glib.g_strdup.restype = ctypes.c_void_p
_glib.g_strdup.argtypes = [ctypes.c_char_p]
_nice.nice_agent_get_selected_pair.argtypes = [
    ctypes.c_void_p,
    ctypes.c_uint,
    ctypes.c_uint,
    ctypes.POINTER(ctypes.c_void_p),
    ctypes.POINTER(ctypes.c_void_p),
]
_nice.nice_agent_get_selected_pair.restype = ctypes.c_int
_nice.nice_agent_generate_local_candidate_sdp.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_nice.nice_agent_generate_local_candidate_sdp.restype = ctypes.c_char_p
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_glib.g_main_context_default.restype = ctypes.c_void_p
RECV_FUNC = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p
)
_nice.nice_agent_attach_recv.argtypes = [
    ctypes.c_void_p,
    ctypes.c_uint,
    ctypes.c_uint,
    ctypes.c_void_p,
    RECV_FUNC,
    ctypes.c_void_p,
]
USERNAME_AT, PASSWORD_AT = 112, 120


def _gobject_pointer(obj: object) -> int:
    return int(ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None))  # type: ignore[attr-defined]


def _boxed_pointer(cand: Nice.Candidate) -> int:
    return int(re.search(r"NiceCandidate at (0x[0-9a-f]+)", repr(cand)).group(1), 16)  # type: ignore[union-attr]


def _c_string(address: int, offset: int) -> str | None:
    pointer = ctypes.c_void_p.from_address(address + offset).value
    return ctypes.string_at(pointer).decode() if pointer else None


def _set_c_string(address: int, offset: int, value: str) -> None:
    ctypes.c_void_p.from_address(address + offset).value = _glib.g_strdup(value.encode())


def describe(agent_ptr: int, cand_ptr: int) -> dict:
    """One candidate as truth.json holds it, from libnice's own SDP line for it."""
    line = _nice.nice_agent_generate_local_candidate_sdp(agent_ptr, cand_ptr).decode()
    tokens = line.split(":", 1)[1].split()
    foundation, component, transport, priority, host, port = tokens[:6]
    kind = tokens[7]
    related = None
    if "raddr" in tokens:
        i = tokens.index("raddr")
        related = f"{tokens[i + 1]}:{tokens[i + 3]}"
    return {
        "foundation": foundation,
        "component": int(component),
        "transport": transport.lower(),
        "priority": int(priority),
        "address": f"{host}:{port}",
        "type": TYPES.get(kind, kind),
        "related": related,
        "username": _c_string(cand_ptr, USERNAME_AT),
        "password": _c_string(cand_ptr, PASSWORD_AT),
        "sdp": line,
    }


class Recorder:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.folder = Path(args.dir)
        self.loop = GLib.MainLoop()
        flags = Nice.AgentOption.LITE_MODE if args.lite else Nice.AgentOption(0)
        if args.consent_freshness:
            flags |= Nice.AgentOption.CONSENT_FRESHNESS
        if args.regular_nomination:
            flags |= Nice.AgentOption.REGULAR_NOMINATION
        self.agent = Nice.Agent.new_full(GLib.MainContext.default(), MODES[args.mode], flags)
        self.agent.set_property("controlling-mode", args.role == "controlling")
        self.agent.set_property("ice-tcp", False)
        self.agent.set_property("upnp", False)
        if args.stun and not args.lite:
            self.agent.set_property("stun-server", args.stun)
            self.agent.set_property("stun-server-port", 3478)
        self.ptr = _gobject_pointer(self.agent)
        self.stream = self.agent.add_stream(1)
        self.agent.set_port_range(self.stream, 1, args.port, args.port + 9)
        # without a receive callback libnice never reads its sockets (the typelib lacks attach_recv)
        self._recv = RECV_FUNC(self._received)
        _nice.nice_agent_attach_recv(self.ptr, self.stream, 1, _glib.g_main_context_default(), self._recv, None)
        if args.turn:
            user, password = args.turn_user, args.turn_password
            if args.mode != "rfc5245":
                # MS-TURN credentials come from MRAS as base64; libnice decodes them in these modes
                user = base64.b64encode(user.encode()).decode()
                password = base64.b64encode(password.encode()).decode()
            self.agent.set_relay_info(
                self.stream, 1, args.turn, 3478, user, password, Nice.RelayType(0)
            )  # TURN over UDP
        self.states: list[dict] = []
        self.selected_signals: list[dict] = []
        self.gathered = False
        self.received = 0
        self.final: dict | None = None
        self.pwd = ""
        self.agent.connect("candidate-gathering-done", self._gathered)
        self.agent.connect("component-state-changed", self._state)
        self.agent.connect("new-selected-pair-full", self._selected)
        self.started = time.time()

    def _received(self, _agent: int, _stream: int, _component: int, _length: int, _buf: int, _data: int) -> None:
        self.received += 1

    def _gathered(self, _agent: Nice.Agent, _stream: int) -> None:
        self.gathered = True

    def _state(self, _agent: Nice.Agent, _stream: int, component: int, state: int) -> None:
        self.states.append(
            {"time": time.time(), "component": component, "state": STATES.get(Nice.ComponentState(state), str(state))}
        )

    def _selected(self, _agent: Nice.Agent, _stream: int, component: int, local: object, remote: object) -> None:
        self.selected_signals.append(
            {
                "time": time.time(),
                "component": component,
                "local": describe(self.ptr, _boxed_pointer(local))["address"],  # type: ignore[arg-type]
                "remote": describe(self.ptr, _boxed_pointer(remote))["address"],  # type: ignore[arg-type]
            }
        )

    def wait(self, done, seconds: float) -> bool:  # type: ignore[no-untyped-def]
        context = GLib.MainContext.default()
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            context.iteration(False)
            if not context.pending():
                time.sleep(0.005)
        return bool(done())

    def local_candidates(self) -> list[dict]:
        return [describe(self.ptr, _boxed_pointer(c)) for c in self.agent.get_local_candidates(self.stream, 1)]

    def run(self) -> None:
        args = self.args
        self.agent.gather_candidates(self.stream)
        self.wait(lambda: self.gathered, 12)
        ok, ufrag, pwd = self.agent.get_local_credentials(self.stream)
        # a password of the same length and alphabet, but not the one libnice checks integrity with
        signaled_pwd = pwd[::-1] if args.signal_wrong_pwd else pwd
        self.pwd = pwd
        offer = {"ufrag": ufrag, "pwd": signaled_pwd, "lite": args.lite, "candidates": self.local_candidates()}
        if args.advertise:
            # a lite agent behind a 1:1 port forward signals the forwarded public address
            for cand in offer["candidates"]:
                if cand["type"] == "host":
                    port = cand["address"].rsplit(":", 1)[1]
                    cand["sdp"] = cand["sdp"].replace(cand["address"].replace(":", " "), f"{args.advertise} {port}")
                    cand["address"] = f"{args.advertise}:{port}"
        (self.folder / f"{args.name}.offer.json").write_text(json.dumps(offer))
        peer_file = self.folder / f"{args.peer}.offer.json"
        if not self.wait(peer_file.exists, 30):
            raise SystemExit(f"{args.name}: no offer from {args.peer}")
        time.sleep(0.2)
        peer = json.loads(peer_file.read_text())
        if args.hold_file and not self.wait(Path(args.hold_file).exists, 30):
            # the lab changes the network between gathering and the first check
            raise SystemExit(f"{args.name}: no {args.hold_file} from the lab")
        if args.mode != "oc2007":
            self.agent.set_remote_credentials(self.stream, peer["ufrag"], peer["pwd"])
        remote = []
        for cand in peer["candidates"]:
            made = self.agent.parse_remote_candidate_sdp(self.stream, cand["sdp"])
            if made is None:
                continue
            if cand.get("username"):
                _set_c_string(_boxed_pointer(made), USERNAME_AT, cand["username"])
                _set_c_string(_boxed_pointer(made), PASSWORD_AT, cand["password"])
            remote.append(made)
        self.agent.set_remote_candidates(self.stream, 1, remote)
        self.agent.peer_candidate_gathering_done(self.stream)
        error = None
        final_file = self.folder / f"{args.peer}.final.json"
        if args.mode == "oc2007" and args.role == "controlled":
            # no nomination on the wire in this dialect: the controlling agent's final offer names
            # the chosen candidate (a=remote-candidate:<username>), and the controlled one follows it
            if self.wait(final_file.exists, args.timeout):
                time.sleep(0.1)
                final = json.loads(final_file.read_text())
                mine = next(c for c in offer["candidates"] if c["username"] == final["remote_candidate"])
                theirs = next(c for c in peer["candidates"] if c["username"] == final["local_candidate"])
                made = self.agent.parse_remote_candidate_sdp(self.stream, theirs["sdp"])
                _set_c_string(_boxed_pointer(made), USERNAME_AT, theirs["username"])
                _set_c_string(_boxed_pointer(made), PASSWORD_AT, theirs["password"])
                self.agent.set_selected_remote_candidate(self.stream, 1, made)
                self.final = {"remote_candidate": theirs["username"], "local_candidate": mine["username"]}
        ready = self.wait(lambda: any(s["state"] in ("ready", "failed") for s in self.states[-1:]), args.timeout)
        if ready and self.states[-1]["state"] == "ready" and args.mode == "oc2007" and args.role == "controlling":
            pair = self.selected()
            if pair is not None:
                self.final = {"remote_candidate": pair["remote_username"], "local_candidate": pair["local_username"]}
                (self.folder / f"{args.name}.final.json").write_text(json.dumps(self.final))
        consent_expired: float | None = None
        if ready and self.states[-1]["state"] == "ready":
            (self.folder / f"{args.name}.connected").touch()
            for i in range(0 if args.no_data else 20):
                data = f"{args.name} data {i}"
                self.agent.send(self.stream, 1, len(data), data)
                self.wait(lambda: False, 0.05)
            self.wait(lambda: False, 1.5)
            if args.linger:
                consent_expired = self.linger(args.linger)
        else:
            error = f"component state {self.states[-1]['state'] if self.states else 'none'}"
        self.report(offer, peer, error, signaled_pwd if signaled_pwd != pwd else None, consent_expired)

    def linger(self, seconds: float) -> float | None:
        """Keep the call open: when libnice gave it up (its component failed after ready, as it does
        when consent expires, RFC 7675 §5.1), or None if it stayed up."""
        up = len(self.states)
        self.wait(lambda: any(s["state"] == "failed" for s in self.states[up:]), seconds)
        return next((s["time"] for s in self.states[up:] if s["state"] == "failed"), None)

    def selected(self) -> dict | None:
        local, remote = ctypes.c_void_p(), ctypes.c_void_p()
        if not _nice.nice_agent_get_selected_pair(self.ptr, self.stream, 1, ctypes.byref(local), ctypes.byref(remote)):
            return None
        mine, theirs = describe(self.ptr, local.value), describe(self.ptr, remote.value)  # type: ignore[arg-type]
        return {
            "local": mine["address"],
            "local_type": mine["type"],
            "remote": theirs["address"],
            "remote_type": theirs["type"],
            "transport": mine["transport"],
            "local_username": mine["username"],
            "remote_username": theirs["username"],
        }

    def report(
        self, offer: dict, peer: dict, error: str | None, signaled_pwd: str | None, consent_expired: float | None
    ) -> None:
        args = self.args
        remote = [describe(self.ptr, _boxed_pointer(c)) for c in self.agent.get_remote_candidates(self.stream, 1)]
        legacy = args.mode == "oc2007"
        report = {
            "software": f"libnice {args.version} ({args.mode}{', ice-lite' if args.lite else ''})",
            "compatibility": args.mode,
            # read back from the agent: aggressive unless NICE_AGENT_OPTION_REGULAR_NOMINATION
            "nomination_mode": self.agent.get_property("nomination-mode").value_nick,
            "ice_lite": args.lite,
            "role": args.role,
            "ice_ufrag": None if legacy else offer["ufrag"],
            "ice_pwd": None if legacy else self.pwd,
            "lan_address": args.lan,
            "public_address": args.public,
            "signaled_candidates": offer["candidates"],
            "error": error,
            "datagrams_received": self.received,
            "started": self.started,
            "ended": time.time(),
            "component_states": self.states,
            "selected_pair_signals": self.selected_signals,
            "streams": [
                {
                    "media": "data",
                    "components": [
                        {
                            "component": 1,
                            "local_candidates": self.local_candidates(),
                            "remote_candidates": remote,
                            "checklist": [],  # libnice keeps its check list private
                            "selected": self.selected(),
                        }
                    ],
                }
            ],
        }
        if self.final is not None:
            report["final_offer"] = self.final
        if signaled_pwd is not None:
            report["signaled_pwd"] = signaled_pwd
        if args.linger and error is None:
            report["consent_expired"] = consent_expired
        (self.folder / f"{args.name}.report.json").write_text(json.dumps(report, indent=2))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--role", choices=("controlling", "controlled"), required=True)
    p.add_argument("--mode", choices=sorted(MODES), default="rfc5245")
    p.add_argument("--lite", action="store_true")
    p.add_argument("--advertise", default="")
    p.add_argument("--dir", required=True)
    p.add_argument("--stun")
    p.add_argument("--turn")
    p.add_argument("--turn-user", default="icetrace")
    p.add_argument("--turn-password", default="recorder")
    p.add_argument("--port", type=int, default=40000)
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--lan", default="")
    p.add_argument("--public", default="")
    p.add_argument("--version", default="")
    p.add_argument("--hold-file", help="wait for this file before the checks start")
    p.add_argument("--signal-wrong-pwd", action="store_true")
    p.add_argument("--consent-freshness", action="store_true")
    p.add_argument("--regular-nomination", action="store_true")
    p.add_argument("--no-data", action="store_true", help="send nothing on the selected pair")
    p.add_argument("--linger", type=float, default=0, help="keep the call open this many seconds")
    Recorder(p.parse_args()).run()


if __name__ == "__main__":
    main()
