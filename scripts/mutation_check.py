"""Deliberate faults in a scratch copy of the repository, each blessed by `icetrace check --update`,
each to be caught by a failing test. Run by hand; docs/testing.md keeps the results.

Usage: .venv/bin/python scripts/mutation_check.py [--fault NAME]... [--tests PATH]... [--keep] [--at COMMIT]
                                                  [--cases]

For every fault: copy the working tree (tracked files and the built C extension; with --at, that
commit's files) to a temporary folder, make the one edit the fault describes (its text must occur
exactly once under icetrace/, wherever the module that holds it lives), run `icetrace check
captures/ --update` there with that copy's code, then pytest on the test paths (tests/ by
default), and report which tests failed. A fault no test catches is a hole in the suite; the script
exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    old: str
    new: str
    more: tuple[tuple[str, str], ...] = ()  # further (old, new) edits of the same fault

    @property
    def edits(self) -> tuple[tuple[str, str], ...]:
        return ((self.old, self.new), *self.more)


FAULTS = (
    Fault(
        "nomination-style-swapped",
        "aggressive and regular nomination swapped where the style is decided",
        'return "regular" if any(time < first for time, _ in checks) else "aggressive"',
        'return "aggressive" if any(time < first for time, _ in checks) else "regular"',
    ),
    Fault(
        "roles-swapped-on-the-wire",
        "a check is taken to come from the controlling side when its sender is the controlled agent",
        'return sender.role != "controlled"',
        'return sender.role == "controlled"',
    ),
    Fault(
        "roles-swapped-in-signaling",
        "the offerer of a full-full call is made the controlled agent and the answerer the controlling one",
        'caller.role, other.role = "controlling", "controlled"\n'
        "        stream = Stream(call_id=call_id, index=index, media=first.media, "
        "controlling=caller, controlled=other)",
        'caller.role, other.role = "controlled", "controlling"\n'
        "        stream = Stream(call_id=call_id, index=index, media=first.media, "
        "controlling=other, controlled=caller)",
    ),
    Fault(
        "media-selection-rule-off",
        "selection rule (1) disabled: a nominated pair that carried media no longer wins",
        "with_media = [e for e in nominated if e.media_last is not None]",
        "with_media = [e for e in nominated if e.media_last is not None and False]",
    ),
    Fault(
        "kept-checking-rule-off",
        "selection rule (2b) disabled: the nominated pair the controlling agent kept checking no longer wins",
        "kept = [e for e in nominated if e.kept_after_nomination]",
        "kept = [e for e in nominated if e.kept_after_nomination and False]",
    ),
    Fault(
        "media-and-kept-checking-rules-off",
        "selection rules (1) and (2b) disabled together: neither media nor the pair kept checked decides",
        "with_media = [e for e in nominated if e.media_last is not None]",
        "with_media = [e for e in nominated if e.media_last is not None and False]",
        (
            (
                "kept = [e for e in nominated if e.kept_after_nomination]",
                "kept = [e for e in nominated if e.kept_after_nomination and False]",
            ),
        ),
    ),
    Fault(
        "media-only-selection-off",
        "selection rule (5) disabled: a succeeded pair that carried media is not selected without a nomination",
        'carried = [e for e in evidence if e.pair.state == "succeeded" and e.media_last is not None]',
        'carried = [e for e in evidence if e.pair.state == "succeeded" and e.media_last is not None and False]',
    ),
    Fault(
        "failed-pairs-succeeded",
        "a pair whose every check failed is marked succeeded",
        'if outcomes and all(o in failing for o in outcomes):\n        return "failed"',
        'if outcomes and all(o in failing for o in outcomes):\n        return "succeeded"',
    ),
    Fault(
        "pair-timeouts-longer",
        "a check is given up only after ten times the RFC 5389 wait, 70 transmissions or 80 s of silence",
        "self.gave_up = waited >= TRANSACTION_TIMEOUT or len(self.requests) >= 7 or silent >= FINAL_WAIT",
        "self.gave_up = waited >= 10 * TRANSACTION_TIMEOUT or len(self.requests) >= 70 or silent >= 10 * FINAL_WAIT",
    ),
    Fault(
        "pair-timeouts-shorter",
        "a check is given up after 0.3 s of silence instead of RFC 5389's final wait of 8 s",
        "FINAL_WAIT = 8.0",
        "FINAL_WAIT = 0.3",
    ),
    Fault(
        "use-candidate-ignored",
        "USE-CANDIDATE no longer nominates (only the NOMINATION attribute does)",
        "nominates = t.request.use_candidate or t.request.nomination is not None",
        "nominates = t.request.nomination is not None",
    ),
    Fault(
        "nominated-without-success",
        "a check carrying USE-CANDIDATE nominates its pair whatever its outcome (RFC 8445 wants it to succeed)",
        'if outcome == "success" and not pair.nominated:',
        "if not pair.nominated:",
    ),
    Fault(
        "failed-verdict-off",
        "the FAILED verdict is never given, though every pair of a stream failed",
        'if stream.outcome == "failed":\n        pairs = stream_pairs(stream)',
        'if stream.outcome == "failed" and False:\n        pairs = stream_pairs(stream)',
    ),
    Fault(
        "final-offer-ignored",
        "the controlling agent's updated offer (a=remote-candidates) no longer nominates",
        "if signaled is None or signaled.final_offer is None:\n        return",
        "if True:\n        return",
    ),
    Fault(
        "sdp-files-by-position",
        "the updated offer among SDP files is no longer recognised by its content (the companion-order bug)",
        "updates_possible=len(paths) >= 3",
        "updates_possible=False",
    ),
    Fault(
        "failed-outcome-unknown",
        "a stream whose every pair failed is called unknown instead of failed",
        'if pairs and all(p.state == "failed" for p in pairs):\n        return "failed"',
        'if pairs and all(p.state == "failed" for p in pairs):\n        return "unknown"',
    ),
    Fault(
        "connectivity-swapped",
        "a relayed selected pair is called DIRECT and a direct one RELAY",
        'return "RELAY" if component.selected.is_relay else "DIRECT"',
        'return "DIRECT" if component.selected.is_relay else "RELAY"',
    ),
    Fault(
        "causes-swapped-direct-blocked-symmetric",
        "the codes relayed:direct-blocked and relayed:symmetric-nat swapped where a stream's cause is decided",
        "code=r.code,\n                summary=found.summary,",
        'code={"relayed:direct-blocked": "relayed:symmetric-nat", "relayed:symmetric-nat": '
        '"relayed:direct-blocked"}.get(r.code, r.code),  # type: ignore[arg-type]\n'
        "                summary=found.summary,",
    ),
    Fault(
        "causes-swapped-network-lost-no-common-path",
        "the codes failed:network-lost and failed:no-common-path swapped where a stream's cause is decided",
        "code=r.code,\n                summary=found.summary,",
        'code={"failed:network-lost": "failed:no-common-path", "failed:no-common-path": '
        '"failed:network-lost"}.get(r.code, r.code),  # type: ignore[arg-type]\n'
        "                summary=found.summary,",
    ),
    Fault(
        "icmp-refusals-ignored",
        "an ICMP unreachable quoting a check or a server request is no longer attached to it as evidence",
        "t.icmp = (*t.icmp, error)",
        "pass",
    ),
    Fault(
        "peer-relay-ignored",
        "an address the capture shows to be a relay's (allocated, or on a host answering Allocates) no longer "
        "makes its pair relayed: a pair ending on the peer's relay reads DIRECT",
        "why = hosts.why(c)",
        "why = None",
    ),
    Fault(
        "connected-severity-ignored",
        "a verdict on a stream that connected keeps the severity it has on a failed one (D11 an error, D9, D12 and "
        "CHECK-ERROR warnings)",
        'stream.outcome == "connected" and r.connected_severity is not None:',
        'stream.outcome == "connected" and r.connected_severity is not None and False:',
    ),
    Fault(
        "direct-call-unanswered-pairs-warned",
        "unanswered pairs (D8) on a call that connected directly are warnings again",
        "harmless = not StreamEvidence.workable(p) or _connected_directly(stream)",
        "harmless = not StreamEvidence.workable(p)",
    ),
    Fault(
        "pair-found-without-the-far-ip",
        "a check's pair is found by the controlling address and the far end's port only: on an agent's LAN tap "
        "its checks to the peer's mapping land on the pair to the peer's private address at the same port (an "
        "endpoint-independent NAT keeps the port), which then reads succeeded",
        "key = (controlling.address, controlled.address, transport)",
        "key = (controlling.address, controlled.address.port, transport)  # type: ignore[assignment]",
    ),
    Fault(
        "far-end-named-by-its-base",
        "the address a check is sent to is named by the base of the peer's server-reflexive candidate there: on "
        "an agent's LAN tap its checks to the peer's mapping land on the pair to the peer's private address, "
        "which then reads succeeded",
        "receiver, view.dst, transport, None, req.frame, relayed_addresses, mapped_addresses, component",
        "receiver,\n        next((c.related for c in receiver.candidates if c.type == 'srflx' "
        "and c.address == view.dst and c.related), view.dst),\n"
        "        transport, None, req.frame, relayed_addresses, mapped_addresses, component",
    ),
)


class StaleFault(Exception):
    """A fault whose text no longer occurs exactly once: the code moved on, the fault must follow."""


def scratch_copy(into: Path, at: str | None = None) -> Path:
    """The tracked files of the working tree as they are now (or of commit `at`), and the built C
    extension."""
    built = [p.relative_to(ROOT).as_posix().encode() for p in (ROOT / "icetrace").rglob("*.so")]
    if at is not None:
        archive = subprocess.run(["git", "archive", at], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
        tracked: list[bytes] = []
    else:
        tracked = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
    for name in [n for n in tracked if n] + built:
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            dst = into / os.fsdecode(name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return into


def apply(fault: Fault, tree: Path) -> Path:
    """Make the fault's edits; each text must occur exactly once in the package."""
    edited = []
    for old, new in fault.edits:
        hits = [(p, p.read_text().count(old)) for p in sorted((tree / "icetrace").rglob("*.py"))]
        hits = [(p, n) for p, n in hits if n]
        if [n for _, n in hits] != [1]:
            where = ", ".join(f"{p.relative_to(tree)} x{n}" for p, n in hits) or "nowhere"
            raise StaleFault(f"{fault.name}: its text occurs {where}; update the fault in {Path(__file__).name}")
        path = hits[0][0]
        path.write_text(path.read_text().replace(old, new))
        edited.append(path)
    return edited[0]


def run(fault: Fault, tests: list[str], keep: bool, at: str | None = None) -> tuple[list[str], str, float]:
    """(failing test ids, what `check --update` changed, seconds) for one fault."""
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f"mutation-{fault.name}-"))
    try:
        (tmp / "repo").mkdir()
        tree = scratch_copy(tmp / "repo", at)
        edited = apply(fault, tree)
        env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
        env.pop("CI", None)  # a scratch run: skips are not what it is looking for
        update = subprocess.run(
            [str(PYTHON), "-m", "icetrace", "check", "--update", "captures/"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
        )
        changed = re.search(r"(\d+) golden files? updated", update.stdout)
        summary = f"{changed.group(1) if changed else 0} golden files updated ({edited.relative_to(tree)})"
        result = subprocess.run(
            [str(PYTHON), "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-rf", *tests],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
        )
        failed = sorted({line.split(" ", 2)[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")})
        if result.returncode not in (0, 1):
            failed.append(f"pytest exited {result.returncode}: {result.stdout.splitlines()[-1:]}")
        return failed, summary, time.monotonic() - started
    finally:
        if keep:
            print(f"  kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", action="append", default=[], help="only this fault (repeatable)")
    parser.add_argument("--tests", action="append", default=[], help="test paths (default tests/)")
    parser.add_argument("--keep", action="store_true", help="keep each scratch copy")
    parser.add_argument("--at", metavar="COMMIT", help="fault that commit's tree instead of the working tree")
    parser.add_argument("--cases", action="store_true", help="list every failing case, not counts per test")
    args = parser.parse_args()
    faults = [f for f in FAULTS if not args.fault or f.name in args.fault]
    if not faults:
        parser.error(f"no such fault; known: {', '.join(f.name for f in FAULTS)}")
    holes = 0
    for fault in faults:
        try:
            failed, summary, seconds = run(fault, args.tests or ["tests/"], args.keep, args.at)
        except StaleFault as exc:  # the other faults still run
            print(f"{exc}\n    NOT APPLIED", flush=True)
            holes += 1
            continue
        holes += not failed
        print(f"{fault.name}: {fault.what}; {summary}; {len(failed)} failing tests ({seconds:.0f} s)")
        by_test: dict[str, int] = {}
        for test in failed:
            name = test if args.cases else test.split("[", 1)[0]
            by_test[name] = by_test.get(name, 0) + 1
        for name, count in sorted(by_test.items(), key=lambda item: -item[1]):
            print(f"    {name}" + (f" ({count} cases)" if count > 1 else ""))
        if not failed:
            print("    NOT CAUGHT")
        sys.stdout.flush()
    return 1 if holes else 0


if __name__ == "__main__":
    raise SystemExit(main())
