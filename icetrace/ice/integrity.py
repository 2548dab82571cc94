"""MESSAGE-INTEGRITY of checks and TURN requests, verified with the credentials signaling supplied.

ICE checks use short-term credentials (RFC 8445 §7.2.2, RFC 8489 §9.1): a check and its response
are both signed with the password of the agent that receives the check. TURN requests use long-term
credentials (RFC 8489 §9.2.2): the key is MD5(username ":" realm ":" password), known here when MRAS
([MS-AVEDGEA]) handed the password out. Each message gets one of RESULTS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dissectors.checks import icev6_key, long_term_key, short_term_key, verify_integrity
from icetrace.ice.model import Agent
from icetrace.ice.transactions import Transaction
from icetrace.records.stun_record import StunRecord
from icetrace.signaling.model import RelayCredentials

RESULTS = ("ok", "bad", "unverified", "absent")  # unverified: no key for it (or no bytes kept)
TURN_METHODS = frozenset(("allocate", "refresh", "create-permission", "channel-bind", "ms-send"))


@dataclass(frozen=True)
class KeyContext:
    """What a key derivation may need: the check's USERNAME form and STUN dialect, the agent whose
    password signs it (the receiver of the check), and the part of USERNAME that names that agent
    (its ufrag, or for [MS-ICE] binary usernames its candidate's username)."""

    form: str  # split_username's form: rfc | ms-ice2 | ms-icev6 | ...
    dialect: str  # StunRecord.dialect of the check
    agent: Agent
    user_key: str


KeyDerivation = Callable[[KeyContext], bytes | None]


def _signaled_password(ctx: KeyContext) -> bytes | None:
    """RFC 8445 §7.2.2 / [MS-ICE2] 3.1.4.8.2: the receiving agent's ice-pwd, as signaled."""
    return short_term_key(ctx.agent.pwd) if ctx.agent.pwd else None


def _candidate_password(ctx: KeyContext) -> bytes | None:
    """[MS-ICE] (OC 2007): the USERNAME names the receiving candidate, whose own password (base64 in
    the SDP) is the key; checked against libnice's OC2007 mode, the one legacy agent recorded here."""
    for c in ctx.agent.candidates:
        if c.foundation == ctx.user_key and c.password:
            return icev6_key(c.password)
    return None


CHECK_KEYS: dict[str, KeyDerivation] = {
    "rfc": _signaled_password,
    "ms-ice2": _signaled_password,
    "ms-icev6": _candidate_password,
}
"""Key derivation per USERNAME form; a form missing here leaves its checks `unverified`."""


def check_key(ctx: KeyContext) -> bytes | None:
    derive = CHECK_KEYS.get(ctx.form)
    return derive(ctx) if derive is not None else None


def verify(record: StunRecord, key: bytes | None) -> str:
    """One message's result. Records built without their bytes can only say whether MI was there."""
    if record.integrity == "absent":
        return "absent"
    if not record.raw:
        return "unverified"
    result = verify_integrity(record.raw, key)
    return "unverified" if result == "unknown-key" else result


@dataclass(frozen=True)
class Integrity:
    request: str  # the first transmission's result
    response: str | None  # the first response's, None when unanswered


def without_key(t: Transaction) -> Integrity:
    """What verifying a transaction's messages without any key says: absent or unverified."""
    return Integrity(verify(t.request, None), verify(t.response, None) if t.response is not None else None)


def _tells(t: Transaction, result: Integrity) -> bool:
    """Whether a result needs keeping: any "bad", or other than `without_key` would give (a capture
    without signaling holds thousands of checks no key verifies, each needing no entry)."""
    return "bad" in (result.request, result.response) or result != without_key(t)


def transaction_key(t: Transaction) -> tuple[str, int]:
    return (t.request.transaction_id, t.request.frame)


def verify_checks(
    checks: Iterable[tuple[Transaction, KeyContext | None]],
) -> dict[tuple[str, int], Integrity]:
    """Each check (with the key context of its receiver, when the session is known) whose result
    is not `without_key`'s."""
    out: dict[tuple[str, int], Integrity] = {}
    for t, ctx in checks:
        key = check_key(ctx) if ctx is not None else None
        response = verify(t.response, key) if t.response is not None else None
        result = Integrity(verify(t.request, key), response)
        if _tells(t, result):
            out[transaction_key(t)] = result
    return out


def verify_turn(
    transactions: Iterable[Transaction], credentials: list[RelayCredentials]
) -> dict[tuple[str, int], Integrity]:
    """TURN requests carrying USERNAME and REALM, with the long-term password when MRAS gave it
    (those whose result is not `without_key`'s)."""
    passwords = {c.username: c.password for c in credentials}
    out: dict[tuple[str, int], Integrity] = {}
    for t in transactions:
        req = t.request
        if req.method not in TURN_METHODS:
            continue
        key = None
        user = req.username.rstrip(b"\x00").decode("utf-8", "replace") if req.username else None
        if user is not None and req.realm is not None and user in passwords:
            key = long_term_key(user, req.realm, passwords[user])
        response = verify(t.response, key) if t.response is not None else None
        result = Integrity(verify(req, key), response)
        if _tells(t, result):
            out[transaction_key(t)] = result
    return out
