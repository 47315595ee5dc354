"""Power cuts: ``kill -9`` a real daemon during ingest, a transfer and a takedown, then restart it.

A *source* and a *victim* daemon (``python -m node node run`` subprocesses with SqliteStores)
share a real Mosquitto broker. Each cycle starts one activity on the victim, SIGKILLs it at a
random point of that activity, opens and verifies its store from outside, and restarts it:

* ``transfer``: a fresh work is uploaded to the source; the victim is killed once it holds a
  random number of that work's chunks (never all). After the restart the transfer must resume
  and the work be served byte for byte.
* ``ingest``: a thread uploads fresh works to the victim back to back; the kill lands right
  after a random number of them were acknowledged, while the next one is on its way. Every
  upload the victim acknowledged (303) must be complete after the cut; the others must be
  complete or absent, never partial.
* ``takedown``: works uploaded to the victim are taken down by curator-signed takedown frames
  published on the broker; the kill lands at a random moment after the first frame. After
  the restart every one of them must end up taken down: the source re-offers the takedown
  when the victim advertises the work again; when that has not happened within
  ``MESH_TAKEDOWN_WAIT_S`` the curator's desk publishes the missing takedowns again (counted).

After every kill the store must open (quick_check), ``verify_integrity()`` must demote nothing,
no incomplete work may have content and no taken-down work may still be stored. At the end
every work the victim once held complete (and that was not taken down) must still be served.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

from node.artwork.bundle import Bundle
from node.artwork.takedown import Takedown
from node.protocol import frames
from node.store.sqlite import DB_NAME
from tests.daemon.harness import Daemon
from tests.factories import curator_key
from tests.reliability.rig import (
    Tally,
    check_store,
    fresh_bundle,
    mqtt_daemon,
    served_correctly,
    upload,
    wait_for,
    work_state,
)
from tests.transport.broker import Mosquitto

PHASES = ("transfer", "ingest", "takedown")
RATE_BYTES_PER_S = 20_000.0
RESUME_TIMEOUT_S = 120.0
UPLOADS_PER_CYCLE = 8
TAKEDOWNS_PER_CYCLE = 2
MESH_TAKEDOWN_WAIT_S = 10.0


def chunks_held(data_dir: Path, work_id: bytes) -> int:
    """Chunks of ``work_id`` committed in a running daemon's store (read-only, WAL reader)."""
    db = sqlite3.connect(f"file:{data_dir / DB_NAME}?mode=ro", uri=True, timeout=5)
    try:
        (count,) = db.execute("SELECT COUNT(*) FROM chunks WHERE work_id=?", (work_id,)).fetchone()
        return int(count)
    except sqlite3.OperationalError:  # the table is not created yet
        return 0
    finally:
        db.close()


def takedown_frame(work_id: bytes) -> bytes:
    """A curator-signed takedown of ``work_id``, encoded as one radio/MQTT frame."""
    takedown = Takedown.create(curator_key(), work_id, "reliability test", int(time.time()))
    return frames.encode(frames.TakedownFrame(takedown.to_bytes()))


class PowerCutRun:
    """One source, one victim, and the cycles of kills against the victim."""

    def __init__(self, workdir: Path, broker: Mosquitto, seed: int) -> None:
        self.broker = broker
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.source = mqtt_daemon(workdir, "source", broker.port, RATE_BYTES_PER_S)
        self.victim = mqtt_daemon(workdir, "victim", broker.port, RATE_BYTES_PER_S)
        self.kept: dict[bytes, Bundle] = {}  # works the victim held complete: must survive every cut
        self.gone: set[bytes] = set()  # works that must stay taken down
        self.serial = 0

    def daemons(self) -> list[Daemon]:
        """Both daemons (for cleanup)."""
        return [self.source, self.victim]

    def start(self) -> None:
        """Start both daemons."""
        self.source.start()
        self.victim.start()

    def run(self, cycles: int, progress: bool = False) -> Tally:
        """``cycles`` kills, phases in turn; then the final check of everything kept."""
        for cycle in range(cycles):
            phase = PHASES[cycle % len(PHASES)]
            getattr(self, f"cycle_{phase}")()
            self.tally.add(f"kills-during-{phase}")
            if progress and (cycle + 1) % 10 == 0:
                print(f"  {cycle + 1}/{cycles} kills", flush=True)
        self.final_check()
        return self.tally

    # ---- one kill ---------------------------------------------------------------------------

    def _kill_and_check(self):  # type: ignore[no-untyped-def]
        process = self.victim.process
        assert process is not None
        if process.poll() is not None:
            self.tally.add("crashed")  # the daemon died by itself before the kill
            self.tally.notes.append(f"victim exited {process.returncode} before a kill:\n{self.victim.log()[-2000:]}")
        else:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        self.tally.add("kills")
        try:
            check = check_store(self.victim.data_dir)
        except Exception as exc:  # counted: the short test asserts none, the long run reports them
            self.tally.add("store-check-failed")
            self.tally.notes.append(f"store check after kill {self.tally['kills']}: {exc!r}")
            raise
        self.tally.add("integrity-demoted", len(check.demoted))
        for work_id in self.kept:
            if work_id not in check.complete and work_id not in check.taken_down:
                self.tally.add("complete-works-lost")
                self.tally.notes.append(f"kept work {work_id.hex()[:16]} missing after a kill")
        return check

    def _restart(self) -> None:
        try:
            self.victim.start()
        except RuntimeError as exc:
            self.tally.add("restart-failed")
            self.tally.notes.append(str(exc)[-2000:])
            raise
        self.tally.add("restarts")

    def _next(self, prefix: str, low: int, high: int) -> Bundle:
        self.serial += 1
        return fresh_bundle(f"{prefix}{self.serial}", self.rng.randint(low, high), self.serial)

    # ---- the three activities ----------------------------------------------------------------

    def cycle_transfer(self) -> None:
        """Kill while the victim holds part of a work it is fetching; it must resume."""
        bundle = self._next("t", 12_000, 30_000)
        assert upload(self.source.url, bundle.to_bytes()) == 303
        total = len(bundle.chunks())
        target = self.rng.randint(1, total - 1)
        wait_for(lambda: chunks_held(self.victim.data_dir, bundle.work_id) >= target, RESUME_TIMEOUT_S, 0.005,
                 f"{target} chunks of the transfer")
        check = self._kill_and_check()
        if bundle.work_id in check.partial:
            self.tally.add("transfer-cut-partial-on-disk")
        self._restart()
        try:
            wait_for(lambda: served_correctly(self.victim, bundle), RESUME_TIMEOUT_S, 0.1, "the transfer to resume")
        except AssertionError:
            self.tally.add("transfers-not-resumed")
            raise
        self.tally.add("transfers-resumed-and-complete")
        self.kept[bundle.work_id] = bundle

    def cycle_ingest(self) -> None:
        """Kill during back-to-back uploads; acknowledged uploads must be complete afterwards."""
        bundles = [self._next("i", 500, 6000) for _ in range(UPLOADS_PER_CYCLE)]
        acknowledged: list[Bundle] = []
        attempted: list[Bundle] = []

        def uploader() -> None:
            for bundle in bundles:
                attempted.append(bundle)
                try:
                    if upload(self.victim.url, bundle.to_bytes(), timeout=5) != 303:
                        return
                except OSError:
                    return
                acknowledged.append(bundle)

        thread = threading.Thread(target=uploader)
        thread.start()
        # Kill right after a random number of acknowledged uploads, so the next one is in flight.
        target = self.rng.randint(1, UPLOADS_PER_CYCLE - 4)
        wait_for(lambda: len(acknowledged) >= target or not thread.is_alive(), 60, 0.001, "uploads")
        check = self._kill_and_check()
        thread.join(10)
        self.tally.add("uploads-acknowledged", len(acknowledged))
        for bundle in acknowledged:
            if bundle.work_id not in check.complete:
                self.tally.add("acknowledged-uploads-lost")
            self.kept[bundle.work_id] = bundle
        for bundle in attempted[len(acknowledged):]:
            self.tally.add("uploads-cut")
            if bundle.work_id in check.partial:
                self.tally.add("cut-upload-left-partial")
            elif bundle.work_id in check.complete:
                self.tally.add("cut-upload-stored-anyway")
                self.kept[bundle.work_id] = bundle
        self._restart()

    def cycle_takedown(self) -> None:
        """Kill while takedowns arrive; after the restart every takedown must hold."""
        bundles = [self._next("d", 500, 3000) for _ in range(TAKEDOWNS_PER_CYCLE)]
        for bundle in bundles:
            assert upload(self.victim.url, bundle.to_bytes()) == 303
        ids = [b.work_id for b in bundles]
        publisher = threading.Thread(target=lambda: [
            self.broker.publish_raw("meshart/test/v1/frame/curator-desk", takedown_frame(i)) for i in ids])
        publisher.start()
        time.sleep(self.rng.uniform(0.0, 0.5))
        check = self._kill_and_check()
        publisher.join(20)
        applied = sum(1 for i in ids if i in check.taken_down)
        self.tally.add("takedowns-applied-before-kill", applied)
        self.tally.add("takedowns-pending-at-kill", len(ids) - applied)
        for work_id in ids:
            self.kept.pop(work_id, None)
        self.gone.update(ids)
        self._restart()

        def all_gone() -> bool:
            return all(work_state(self.victim, i) == "gone" for i in ids)

        try:
            wait_for(all_gone, MESH_TAKEDOWN_WAIT_S, 0.2, "the mesh to re-deliver the takedowns")
            self.tally.add("takedown-cycles-healed-by-mesh")
        except AssertionError:
            # The source's re-offers can be dropped by the victim's per-neighbour control limiter
            # while the source is busy requesting other works (see docs/RELIABILITY.md); the
            # curator's desk then sends the takedowns again, as an operator would.
            self.tally.add("takedown-cycles-republished")
            for work_id in ids:
                if work_state(self.victim, work_id) != "gone":
                    self.broker.publish_raw("meshart/test/v1/frame/curator-desk", takedown_frame(work_id))
            try:
                wait_for(all_gone, RESUME_TIMEOUT_S, 0.2, "every takedown to hold after the restart")
            except AssertionError:
                self.tally.add("takedowns-not-converged")
                raise
        self.tally.add("takedowns-held-after-restart", len(ids))

    def final_check(self) -> None:
        """Every kept work is still served byte for byte; every taken-down work is gone."""
        for bundle in self.kept.values():
            if served_correctly(self.victim, bundle):
                self.tally.add("works-served-at-end")
            else:
                self.tally.add("complete-works-lost")
        for work_id in self.gone:
            if work_state(self.victim, work_id) != "gone":
                self.tally.add("takedowns-lost")
