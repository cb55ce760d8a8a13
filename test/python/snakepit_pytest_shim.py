"""
pytest plugin (`-p snakepit_pytest_shim`) that runs Snakepit's own
test/integration/test_variables.py against a running varledger server
(VARLEDGER_ADDRESS) instead of the Elixir server its infrastructure starts
with `mix run`: TestServer.start/stop are replaced, nothing else. Session
ids get a counter suffix, since Snakepit's millisecond ids can repeat and
varledger refuses to re-initialise a cleaned-up (closed) session.
"""

import itertools
import os
import sys

import snakepit_shim

snakepit_shim.install()


def pytest_collection_finish(session):
    """After collection: the tests' own test_infrastructure module is imported (under pytest's module name)."""
    modules = [m for name, m in list(sys.modules.items()) if name.endswith("test_infrastructure") and hasattr(m, "TestServer")]
    if not modules:
        raise RuntimeError("Snakepit's test_infrastructure was not imported: nothing to point at varledger")
    port = int(os.environ["VARLEDGER_ADDRESS"].rsplit(":", 1)[1])

    def start(self):
        self.port = port

    def stop(self):
        pass

    counter = itertools.count()

    class UniqueTime:
        """time.time() for session ids: strictly increasing even within one millisecond."""

        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def time(self):
            return self.real.time() + next(counter) / 1000

    for infrastructure in modules:
        infrastructure.TestServer.start = start
        infrastructure.TestServer.stop = stop
        infrastructure.time = UniqueTime(infrastructure.time)


def pytest_collection_modifyitems(session, config, items):
    """test_variables.py imports the helpers `test_server` / `test_session`
    (context managers, not tests) into its namespace, so pytest collects them
    as tests and errors on their `server` argument; leave them out."""
    items[:] = [i for i in items if not getattr(getattr(i, "obj", None), "__module__", "").endswith("test_infrastructure")]
