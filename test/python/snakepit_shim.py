"""
Makes a Snakepit checkout (commit 40d87b1) importable against varledger,
without changing or copying any of its code:

- our stubs (generated from proto/snakepit/bridge/snakepit_bridge.proto with
  Debian's protoc) go first on sys.path: the checkout's own
  snakepit_bridge_pb2.py needs protobuf 6.31, Debian ships 3.21;
- `snakepit_bridge.grpc.snakepit_bridge_pb2[_grpc]`, which the checkout's
  SessionContext.cleanup() and its integration tests import but which does not
  exist at 40d87b1, are aliased to the same stubs.

Environment: VARLEDGER_STUBS_DIR, VARLEDGER_SNAKEPIT_DIR.
"""

import os
import sys
import types


def install():
    stubs = os.environ["VARLEDGER_STUBS_DIR"]
    checkout = os.environ["VARLEDGER_SNAKEPIT_DIR"]
    sys.path[:0] = [stubs, os.path.join(checkout, "priv", "python")]
    import snakepit_bridge_pb2
    import snakepit_bridge_pb2_grpc
    import snakepit_bridge

    if "snakepit_bridge.grpc" not in sys.modules:
        package = types.ModuleType("snakepit_bridge.grpc")
        package.__path__ = []
        package.snakepit_bridge_pb2 = snakepit_bridge_pb2
        package.snakepit_bridge_pb2_grpc = snakepit_bridge_pb2_grpc
        sys.modules["snakepit_bridge.grpc"] = package
        sys.modules["snakepit_bridge.grpc.snakepit_bridge_pb2"] = snakepit_bridge_pb2
        sys.modules["snakepit_bridge.grpc.snakepit_bridge_pb2_grpc"] = snakepit_bridge_pb2_grpc
        snakepit_bridge.grpc = package
    return snakepit_bridge
