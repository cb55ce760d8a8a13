"""
A Python worker of our own for varledger's Snakepit-compatible BridgeService.

It speaks the wire exactly as Snakepit's `SessionContext` (commit 40d87b1,
priv/python/snakepit_bridge/session_context.py + serialization.py) does:

- values are a google.protobuf.Any with type_url
  `type.googleapis.com/snakepit.<type>` and the value's JSON as its bytes;
  floats NaN / ±Infinity travel as the strings "NaN", "Infinity", "-Infinity";
- an embedding or tensor whose estimated size (len(data) * 8) is above
  10 KB travels as `type.googleapis.com/snakepit.<type>.binary` with JSON
  metadata (shape, dtype "float32", binary_format "pickle", type) in the Any
  and the numbers pickled (protocol HIGHEST, of the numpy array's tolist(),
  as Snakepit's normaliser does) in binary_value / initial_binary_value /
  binary_updates;
- SetVariables carries `atomic` and binary_updates; CleanupSession closes;
  Elixir tools are listed with GetExposedElixirTools and called with
  ExecuteElixirTool, parameters as `google.protobuf.StringValue` Anys holding
  JSON, the result's JSON in the reply's Any.

The stubs are generated at test time from proto/snakepit/bridge/
snakepit_bridge.proto (see bridge-python.ts); `load_stubs(dir)` imports them.

Run as a script it plays one phase of the scenario the ava test drives
(`python3 bridge_worker.py STUBS_DIR ADDRESS before|after`) and prints what
it observed as one JSON document on stdout.
"""

import json
import math
import pickle
import sys
import threading

BINARY_THRESHOLD = 10_240
TYPE_URL_PREFIX = "type.googleapis.com/snakepit."

pb2 = None
pb2_grpc = None
grpc = None


def load_stubs(stubs_dir):
    """Imports grpc and the generated stubs (snakepit_bridge_pb2[_grpc]) from stubs_dir."""
    global pb2, pb2_grpc, grpc
    sys.path.insert(0, stubs_dir)
    import grpc as _grpc
    import snakepit_bridge_pb2 as _pb2
    import snakepit_bridge_pb2_grpc as _pb2_grpc

    grpc, pb2, pb2_grpc = _grpc, _pb2, _pb2_grpc


# ── values, as snakepit_bridge/serialization.py encodes them ──────────────


def _normalize(value, var_type):
    try:
        import numpy as np
    except ImportError:  # numpy is only needed for ndarray values
        np = None
    if var_type == "float":
        return float(value)
    if var_type == "integer":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return int(value)
    if var_type in ("string", "choice", "module"):
        return str(value)
    if var_type == "boolean":
        return bool(value)
    if var_type == "embedding":
        if np is not None and isinstance(value, np.ndarray):
            return value.tolist()
        return [float(x) for x in value]
    if var_type == "tensor":
        if np is not None and isinstance(value, np.ndarray):
            return {"shape": list(value.shape), "data": value.tolist()}
        return value
    return value


def _binary_data(value, var_type):
    """The list Snakepit pickles when the value is big enough, else None."""
    if var_type == "tensor" and isinstance(value, dict) and isinstance(value.get("data"), list):
        data = value["data"]
    elif var_type == "embedding" and isinstance(value, list):
        data = value
    else:
        return None
    return data if len(data) * 8 > BINARY_THRESHOLD else None


def encode_value(value, var_type):
    """A value as (Any, binary bytes or b"")."""
    from google.protobuf import any_pb2

    normalized = _normalize(value, var_type)
    data = _binary_data(normalized, var_type)
    any_msg = any_pb2.Any()
    if data is not None:
        shape = normalized["shape"] if var_type == "tensor" else [len(data)]
        meta = {"shape": shape, "dtype": "float32", "binary_format": "pickle", "type": var_type}
        any_msg.type_url = f"{TYPE_URL_PREFIX}{var_type}.binary"
        any_msg.value = json.dumps(meta).encode("utf-8")
        return any_msg, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    if var_type == "float" and math.isnan(normalized):
        text = json.dumps("NaN")
    elif var_type == "float" and math.isinf(normalized):
        text = json.dumps("Infinity" if normalized > 0 else "-Infinity")
    else:
        text = json.dumps(normalized)
    any_msg.type_url = f"{TYPE_URL_PREFIX}{var_type}"
    any_msg.value = text.encode("utf-8")
    return any_msg, b""


def decode_value(any_msg, binary=None):
    """A reply's value as Python data (tensors as {"shape", "data"})."""
    if any_msg.type_url.endswith(".binary") and binary:
        var_type = any_msg.type_url.split(".")[-2]
        meta = json.loads(any_msg.value.decode("utf-8"))
        # The server's pickles hold only lists of numbers; unpickling our own
        # server's reply is what SessionContext does too.
        data = pickle.loads(binary)
        return {"shape": meta.get("shape", []), "data": data} if var_type == "tensor" else data
    var_type = any_msg.type_url.split(".")[-1]
    value = json.loads(any_msg.value.decode("utf-8"))
    if var_type == "float":
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value, value) if isinstance(value, str) else float(value)
    if var_type == "integer":
        return int(value)
    return value


class BridgeError(Exception):
    """A gRPC status from the server: code name and details."""

    def __init__(self, rpc_error):
        self.code = rpc_error.code().name
        self.details = rpc_error.details()
        super().__init__(f"{self.code}: {self.details}")


def _call(fn, request):
    try:
        return fn(request)
    except grpc.RpcError as error:
        raise BridgeError(error) from None


# ── the worker ─────────────────────────────────────────────────────────────


class Worker:
    """One session of the bridge, the calls SessionContext makes."""

    def __init__(self, address, session_id):
        self.channel = grpc.insecure_channel(address)
        self.stub = pb2_grpc.BridgeServiceStub(self.channel)
        self.session_id = session_id
        self.types = {}

    def close(self):
        self.channel.close()

    def initialize(self):
        reply = _call(self.stub.InitializeSession, pb2.InitializeSessionRequest(session_id=self.session_id))
        for name, variable in reply.initial_variables.items():
            self.types[name] = variable.type
        return reply

    def cleanup(self):
        return _call(self.stub.CleanupSession, pb2.CleanupSessionRequest(session_id=self.session_id, force=True))

    def register(self, name, var_type, value, constraints=None, metadata=None):
        any_msg, binary = encode_value(value, var_type)
        reply = _call(
            self.stub.RegisterVariable,
            pb2.RegisterVariableRequest(
                session_id=self.session_id,
                name=name,
                type=var_type,
                initial_value=any_msg,
                constraints_json=json.dumps(constraints or {}),
                metadata=metadata or {},
                initial_binary_value=binary,
            ),
        )
        self.types[name] = var_type
        return reply.variable_id

    def variable(self, identifier):
        return _call(self.stub.GetVariable, pb2.GetVariableRequest(session_id=self.session_id, variable_identifier=identifier)).variable

    def get(self, identifier):
        v = self.variable(identifier)
        self.types[v.name] = v.type
        return decode_value(v.value, v.binary_value)

    def get_many(self, identifiers):
        reply = _call(
            self.stub.GetVariables, pb2.BatchGetVariablesRequest(session_id=self.session_id, variable_identifiers=identifiers)
        )
        values = {k: decode_value(v.value, v.binary_value) for k, v in reply.variables.items()}
        return values, list(reply.missing_variables)

    def set(self, identifier, value, metadata=None, expected_version=0, as_type=None):
        # as_type: send the value as another type, past the client-side check, to see the server's
        any_msg, binary = encode_value(value, as_type or self.types[identifier])
        reply = _call(
            self.stub.SetVariable,
            pb2.SetVariableRequest(
                session_id=self.session_id,
                variable_identifier=identifier,
                value=any_msg,
                metadata=metadata or {},
                expected_version=expected_version,
                binary_value=binary,
            ),
        )
        return reply.new_version

    def set_many(self, updates, atomic, metadata=None):
        encoded, binaries = {}, {}
        for name, value in updates.items():
            any_msg, binary = encode_value(value, self.types[name])
            encoded[name] = any_msg
            if binary:
                binaries[name] = binary
        reply = _call(
            self.stub.SetVariables,
            pb2.BatchSetVariablesRequest(
                session_id=self.session_id, updates=encoded, atomic=atomic, metadata=metadata or {}, binary_updates=binaries
            ),
        )
        return reply.success, dict(reply.errors), dict(reply.new_versions)

    def list(self, pattern=""):
        reply = _call(self.stub.ListVariables, pb2.ListVariablesRequest(session_id=self.session_id, pattern=pattern))
        return [v.name for v in reply.variables]

    def delete(self, identifier):
        _call(self.stub.DeleteVariable, pb2.DeleteVariableRequest(session_id=self.session_id, variable_identifier=identifier))
        self.types.pop(identifier, None)

    def history(self, identifier, limit=0):
        reply = _call(
            self.stub.GetVariableHistory,
            pb2.GetVariableHistoryRequest(session_id=self.session_id, variable_identifier=identifier, limit=limit),
        )
        return [(e.version, decode_value(e.value), e.changed_by, dict(e.metadata)) for e in reply.entries]

    def rollback(self, identifier, version):
        reply = _call(
            self.stub.RollbackVariable,
            pb2.RollbackVariableRequest(session_id=self.session_id, variable_identifier=identifier, target_version=version),
        )
        return reply.variable.version, decode_value(reply.variable.value, reply.variable.binary_value)

    def watch(self, identifiers, include_initial=True, timeout=30):
        # The deadline only guards a broken server: the stream is cancelled long before it.
        return self.stub.WatchVariables(
            pb2.WatchVariablesRequest(
                session_id=self.session_id, variable_identifiers=identifiers, include_initial_values=include_initial
            ),
            timeout=timeout,
        )

    def elixir_tools(self):
        reply = _call(self.stub.GetExposedElixirTools, pb2.GetExposedElixirToolsRequest(session_id=self.session_id))
        return {t.name: [p.name for p in t.parameters] for t in reply.tools}

    def call_elixir_tool(self, name, **params):
        from google.protobuf import any_pb2

        parameters = {}
        for key, value in params.items():
            any_msg = any_pb2.Any()
            any_msg.type_url = "type.googleapis.com/google.protobuf.StringValue"
            any_msg.value = json.dumps(value).encode("utf-8")
            parameters[key] = any_msg
        reply = _call(
            self.stub.ExecuteElixirTool,
            pb2.ExecuteElixirToolRequest(session_id=self.session_id, tool_name=name, parameters=parameters, metadata={}),
        )
        if not reply.success:
            raise RuntimeError(f"Elixir tool execution failed: {reply.error_message}")
        return json.loads(reply.result.value.decode("utf-8")) if reply.result.value else None


# ── the scenario the ava test drives ───────────────────────────────────────

SESSION = "py-worker"
BIG_INTEGER = 2**53 + 1  # beyond a double: must survive as an int64


def big_embedding():
    """2,000 floats: 16 KB estimated, so it travels as a pickle."""
    return [round(math.sin(i) * 1000) / 1000 for i in range(2000)]


def big_tensor():
    """A (1500, 2) array: 1,500 rows × 8 bytes estimated is above 10 KB, so it is pickled."""
    import numpy as np

    return np.arange(3000, dtype=np.float64).reshape(1500, 2) / 4


def tensor_equal(got, array):
    return isinstance(got, dict) and list(got["shape"]) == list(array.shape) and got["data"] == array.tolist()


def error_of(fn):
    try:
        fn()
    except BridgeError as error:
        return {"code": error.code, "details": error.details}
    return None


def finite(x):
    """JSON has no NaN/Infinity: report those by name."""
    return x if isinstance(x, (int, str)) or math.isfinite(x) else repr(x)


def phase_before(address):
    w = Worker(address, SESSION)
    out = {}
    w.initialize()
    import numpy as np

    small_tensor = np.array([[1.5, 2.0, 3.0], [4.0, 5.0, 6.25]])
    w.register("temperature", "float", 0.7, {"min": 0.0, "max": 1.0}, {"source": "python"})
    w.register("max_tokens", "integer", BIG_INTEGER)
    w.register("model", "choice", "gpt-4o-mini", {"choices": ["gpt-4o-mini", "claude-haiku"]})
    w.register("reasoner", "module", "ChainOfThought", {"allowed_modules": ["Predict", "ChainOfThought"]})
    w.register("prompt", "string", "Answer briefly: ünïcode ✓", {"min_length": 3})
    w.register("enabled", "boolean", True)
    w.register("loss", "float", math.inf)
    w.register("small_embedding", "embedding", [0.25, -0.5, 1.0], {"dimensions": 3})
    w.register("big_embedding", "embedding", np.array(big_embedding()))
    w.register("small_tensor", "tensor", small_tensor, {"shape": [2, 3]})
    w.register("big_tensor", "tensor", big_tensor())

    values, missing = w.get_many(list(w.types) + ["nope"])
    out["registered"] = {
        "temperature": values["temperature"],
        "max_tokens": str(values["max_tokens"]),
        "model": values["model"],
        "reasoner": values["reasoner"],
        "prompt": values["prompt"],
        "enabled": values["enabled"],
        "loss": finite(values["loss"]),
        "small_embedding": values["small_embedding"],
        "big_embedding_equal": values["big_embedding"] == big_embedding(),
        "small_tensor_equal": tensor_equal(values["small_tensor"], small_tensor),
        "big_tensor_equal": tensor_equal(values["big_tensor"], big_tensor()),
        "missing": missing,
    }
    # Replies use the encoding the worker wrote in: the big values came back pickled.
    out["reply_encodings"] = {
        name: w.variable(name).value.type_url for name in ("temperature", "big_embedding", "big_tensor", "small_tensor")
    }

    # Single updates, a constraint violation, a conversion error, a stale version.
    out["set_version"] = w.set("temperature", 0.9, {"reason": "explore"})
    out["above_max"] = error_of(lambda: w.set("temperature", 1.5))
    out["not_an_integer"] = error_of(lambda: w.set("max_tokens", "lots", as_type="string"))
    out["stale_version"] = error_of(lambda: w.set("temperature", 0.1, expected_version=7))
    out["unknown_variable"] = error_of(lambda: w.get("no_such_variable"))

    # A watch sees a change made after it is live (the initial value marks that).
    stream = w.watch(["temperature"], include_initial=True)
    updates = iter(stream)
    initial = next(updates)
    writer = threading.Thread(target=lambda: w.set("temperature", 0.8, {"reason": "watched"}))
    writer.start()
    change = next(updates)
    writer.join()
    stream.cancel()
    out["watch"] = {
        "initial": [initial.update_type, decode_value(initial.variable.value)],
        "change": [change.update_type, decode_value(change.variable.value), dict(change.update_metadata)],
    }

    # Atomic batch with one bad update: nothing is written.
    ok, errors, versions = w.set_many({"temperature": 0.5, "max_tokens": 7, "model": "gpt-5"}, atomic=True)
    after, _ = w.get_many(["temperature", "max_tokens", "model"])
    out["atomic_batch"] = {
        "success": ok,
        "error_keys": sorted(errors),
        "new_versions": versions,
        "after": [after["temperature"], str(after["max_tokens"]), after["model"]],
    }
    # Non-atomic: the good updates land, the bad one is reported.
    ok, errors, versions = w.set_many({"temperature": 0.4, "max_tokens": 8, "model": "gpt-5"}, atomic=False)
    after, _ = w.get_many(["temperature", "max_tokens", "model"])
    out["non_atomic_batch"] = {
        "success": ok,
        "error_keys": sorted(errors),
        "versioned_keys": sorted(versions),
        "after": [after["temperature"], str(after["max_tokens"]), after["model"]],
    }
    # A batch carrying a pickled embedding in binary_updates.
    updated = [x + 1 for x in big_embedding()]
    ok, errors, _ = w.set_many({"big_embedding": updated, "enabled": False}, atomic=True)
    again, _ = w.get_many(["big_embedding", "enabled"])
    out["binary_batch"] = {"success": ok, "errors": errors, "equal": again["big_embedding"] == updated, "enabled": again["enabled"]}

    out["history"] = [[v, finite(x), meta.get("reason", "")] for v, x, _, meta in w.history("temperature")]
    out["rollback"] = list(w.rollback("temperature", 1))
    out["list_small"] = w.list("small_*")

    # Elixir-side (server) tools.
    out["tools"] = w.elixir_tools()
    out["tool_result"] = w.call_elixir_tool("add", a=2, b=3.5)

    # Deletion, then cleanup of a second session.
    w.register("scratch_note", "string", "temporary")
    w.delete("scratch_note")
    out["deleted"] = error_of(lambda: w.get("scratch_note"))
    other = Worker(address, "py-scratch")
    other.initialize()
    other.register("x", "integer", 1)
    out["cleanup"] = [other.cleanup().resources_cleaned, other.cleanup().resources_cleaned]
    out["after_cleanup"] = error_of(lambda: other.get("x"))
    other.close()
    w.close()
    return out


def phase_after(address):
    """A fresh worker after the server restarted: the session and its values are still there."""
    w = Worker(address, SESSION)
    init = w.initialize()
    values, missing = w.get_many(
        ["temperature", "max_tokens", "model", "reasoner", "prompt", "enabled", "loss", "big_embedding", "big_tensor", "small_tensor"]
    )
    import numpy as np

    out = {
        "initial_variables": sorted(init.initial_variables),
        "temperature": values["temperature"],
        "max_tokens": str(values["max_tokens"]),
        "model": values["model"],
        "reasoner": values["reasoner"],
        "prompt": values["prompt"],
        "enabled": values["enabled"],
        "loss": finite(values["loss"]),
        "big_embedding_equal": values["big_embedding"] == [x + 1 for x in big_embedding()],
        "big_tensor_equal": tensor_equal(values["big_tensor"], big_tensor()),
        "small_tensor_equal": tensor_equal(values["small_tensor"], np.array([[1.5, 2.0, 3.0], [4.0, 5.0, 6.25]])),
        "missing": missing,
        "history_versions": [v for v, *_ in w.history("temperature")],
        "set_version": w.set("temperature", 0.6),
    }
    w.close()
    return out


def main(argv):
    if len(argv) != 4 or argv[3] not in ("before", "after"):
        print("usage: bridge_worker.py STUBS_DIR ADDRESS before|after", file=sys.stderr)
        return 2
    load_stubs(argv[1])
    run = phase_before if argv[3] == "before" else phase_after
    print(json.dumps(run(argv[2]), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
