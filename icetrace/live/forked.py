"""A look decided in a forked copy of the process while the process itself reads on.

Reading a busy server's capture (the C skimmer, STUN records, SIP) and analysing the calls that
ended (SIP and SDP, correlation, diagnosis) each take about half the time. A fork copies what is
held at that moment, copy-on-write, in a millisecond: the child analyses that copy and hands back
what it decided, pickled into a file, while the parent reads the next seconds of capture. The
parent takes the decision at its next look, so what it applies is what the same look would have
decided had it run in place (tracker.py applies looks in the order they began).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections.abc import Callable
from typing import Any


def available() -> bool:
    """Two cores and fork."""
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


class ForkedLook:
    """`decide()` run in a forked child; `result()` waits for it and returns what it returned."""

    def __init__(self, decide: Callable[[], Any]) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the child, closed in result()
        self.pid = os.fork()
        if self.pid == 0:  # the child: decide, write, leave without running the parent's cleanup
            status = 0
            try:
                pickle.dump((True, decide()), self._file, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
                self._file.seek(0)
                self._file.truncate()
                pickle.dump((False, traceback.format_exc()), self._file)
                status = 1
            finally:
                self._file.flush()
                os._exit(status)

    def result(self) -> Any:
        os.waitpid(self.pid, 0)
        try:
            self._file.seek(0)
            done, value = pickle.load(self._file)  # written by this program's own child, above
        except (EOFError, pickle.UnpicklingError) as exc:
            raise RuntimeError("a look in the forked process ended without its decision") from exc
        finally:
            self._file.close()
        if not done:
            raise RuntimeError(f"a look in the forked process failed:\n{value}")
        return value

    def cancel(self) -> None:
        """The parent stops early (an error): end the child and close the file."""
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self._file.close()
