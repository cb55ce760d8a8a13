"""
The seeds' performance table measured from Python against a varledger server
(bench/python-table.ts runs it): with Snakepit's own SessionContext when
VARLEDGER_SNAKEPIT_DIR names a checkout (40d87b1), else with our own worker
(test/python/bridge_worker.py). Methodology follows Snakepit's
test/integration/test_performance.py (100 registrations, 100 uncached gets,
100 cached gets, 100 updates; 100 single updates vs one batch of 100;
get + set from 1 and 10 threads), with the batch comparison repeated for
several rounds and reported as medians.

Usage: seeds_table.py ADDRESS ROUNDS; prints one JSON document.
Environment: VARLEDGER_STUBS_DIR (generated stubs), VARLEDGER_SNAKEPIT_DIR (optional).
"""

import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_PYTHON = os.path.join(HERE, "..", "..", "test", "python")
N = 100
THREAD_OPS = 200  # get + set pairs per thread count, split across the threads


class SnakepitClient:
    """Snakepit's SessionContext (its cache, its update path: get then set)."""

    name = "snakepit SessionContext (40d87b1)"

    def __init__(self, address, session_id):
        import snakepit_shim

        snakepit_bridge = snakepit_shim.install()
        import grpc
        from snakepit_bridge_pb2 import InitializeSessionRequest
        from snakepit_bridge_pb2_grpc import BridgeServiceStub

        self.channel = grpc.insecure_channel(address)
        stub = BridgeServiceStub(self.channel)
        stub.InitializeSession(InitializeSessionRequest(session_id=session_id))
        self.ctx = snakepit_bridge.SessionContext(stub, session_id)
        self.integer = snakepit_bridge.VariableType.INTEGER
        # SessionContext logs every call at INFO; keep the bench quiet and fair.
        import logging

        logging.getLogger("snakepit_bridge").setLevel(logging.WARNING)

    has_cache = True

    def register(self, name, value):
        self.ctx.register_variable(name, self.integer, value)

    def clear_cache(self):
        self.ctx.clear_cache()

    def get(self, name):
        return self.ctx.get_variable(name)

    def update(self, name, value):
        self.ctx.update_variable(name, value)

    def update_many(self, updates):
        results = self.ctx.update_variables(updates)
        if not all(v is True for v in results.values()):
            raise RuntimeError(f"batch failed: {results}")

    def close(self):
        self.channel.close()


class OwnWorker:
    """Our bridge_worker.Worker: no read cache, one RPC per call."""

    name = "varledger test worker (no read cache)"
    has_cache = False

    def __init__(self, address, session_id):
        sys.path.insert(0, TEST_PYTHON)
        import bridge_worker

        bridge_worker.load_stubs(os.environ["VARLEDGER_STUBS_DIR"])
        self.w = bridge_worker.Worker(address, session_id)
        self.w.initialize()

    def register(self, name, value):
        self.w.register(name, "integer", value)

    def clear_cache(self):
        pass

    def get(self, name):
        return self.w.get(name)

    def update(self, name, value):
        self.w.set(name, value)

    def update_many(self, updates):
        ok, errors, _ = self.w.set_many(updates, atomic=False)
        if errors:
            raise RuntimeError(f"batch failed: {errors}")

    def close(self):
        self.w.close()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def avg_ms(samples):
    return statistics.mean(samples) * 1000


def main(argv):
    address, rounds = argv[1], int(argv[2])
    if os.environ.get("VARLEDGER_SNAKEPIT_DIR"):
        sys.path.insert(0, TEST_PYTHON)
        client = SnakepitClient(address, "seeds-table")
    else:
        client = OwnWorker(address, "seeds-table")
    out = {"client": client.name}

    names = [f"bench_reg_{i}" for i in range(N)]
    out["register_ms"] = avg_ms([timed(lambda n=n, i=i: client.register(n, i)) for i, n in enumerate(names)])
    client.clear_cache()
    out["get_uncached_ms"] = avg_ms([timed(lambda n=n: client.get(n)) for n in names])
    out["get_cached_ms"] = avg_ms([timed(lambda n=n: client.get(n)) for n in names]) if client.has_cache else None
    out["update_ms"] = avg_ms([timed(lambda n=n, i=i: client.update(n, i * 2)) for i, n in enumerate(names)])

    batch_names = [f"batch_{i}" for i in range(N)]
    for n in batch_names:
        client.register(n, 0)
    singles, batches = [], []
    for r in range(rounds + 1):  # round 0 warms up
        s = timed(lambda: [client.update(n, r * 1000 + i) for i, n in enumerate(batch_names)])
        b = timed(lambda: client.update_many({n: r * 1000 + i + 1 for i, n in enumerate(batch_names)}))
        if r > 0:
            singles.append(s)
            batches.append(b)
    out["batch"] = {
        "rounds": rounds,
        "singles_ms": statistics.median(singles) * 1000,
        "batch_ms": statistics.median(batches) * 1000,
        "ratio": statistics.median(singles) / statistics.median(batches),
        "ratios": sorted(s / b for s, b in zip(singles, batches)),
    }

    shared = [f"concurrent_{i}" for i in range(10)]
    for n in shared:
        client.register(n, 0)

    def pairs_per_second(threads):
        per_thread = THREAD_OPS // threads
        barrier = threading.Barrier(threads + 1)

        def work(k):
            barrier.wait()
            for i in range(per_thread):
                name = shared[(k + i) % len(shared)]
                value = client.get(name)
                client.update(name, value + 1)

        pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        start = time.perf_counter()
        barrier.wait()
        for t in pool:
            t.join()
        return per_thread * threads / (time.perf_counter() - start)

    one = pairs_per_second(1)
    ten = pairs_per_second(10)
    out["threads"] = {"pairs_per_s_1": one, "pairs_per_s_10": ten, "scaling": ten / one}
    client.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
