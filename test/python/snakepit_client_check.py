"""
Snakepit's own Python client (SessionContext from a checkout at 40d87b1)
against a varledger server: a worker's everyday calls, what it observed
printed as one JSON document. Environment: VARLEDGER_ADDRESS,
VARLEDGER_STUBS_DIR, VARLEDGER_SNAKEPIT_DIR (see snakepit_shim.py).
"""

import json
import os
import sys

import snakepit_shim


def main():
    snakepit_bridge = snakepit_shim.install()
    import grpc
    import numpy as np
    from snakepit_bridge_pb2 import InitializeSessionRequest
    from snakepit_bridge_pb2_grpc import BridgeServiceStub

    channel = grpc.insecure_channel(os.environ["VARLEDGER_ADDRESS"])
    stub = BridgeServiceStub(channel)
    stub.InitializeSession(InitializeSessionRequest(session_id="snakepit-client"))
    ctx = snakepit_bridge.SessionContext(stub, "snakepit-client")
    VariableType = snakepit_bridge.VariableType
    out = {}

    var_id = ctx.register_variable("temperature", VariableType.FLOAT, 0.7, constraints={"min": 0.0, "max": 1.0})
    out["registered_id_prefix"] = var_id[:4]
    ctx.update_variable("temperature", 0.9)
    out["temperature"] = ctx["temperature"]
    ctx["answer"] = 42  # auto-registers
    out["dict_style"] = ctx["answer"]

    ctx.register_variable("a", VariableType.INTEGER, 1)
    ctx.register_variable("b", VariableType.INTEGER, 2)
    out["batch"] = ctx.update_variables({"a": 10, "b": 20}, atomic=True)
    values = ctx.get_variables(["a", "b"])
    out["batch_values"] = [values["a"], values["b"]]

    # SessionContext at 40d87b1 cannot register embeddings or tensors (its
    # TypeValidator falls back to str() for them), so these are written with
    # Snakepit's own TypeSerializer — the pickle path above 10 KB — and read
    # back through SessionContext, which decodes the `.binary` replies.
    from snakepit_bridge.serialization import TypeSerializer
    from snakepit_bridge_pb2 import RegisterVariableRequest

    def register_raw(name, var_type, value):
        any_msg, binary = TypeSerializer.encode_any(value, var_type)
        stub.RegisterVariable(
            RegisterVariableRequest(
                session_id="snakepit-client", name=name, type=var_type, initial_value=any_msg, initial_binary_value=binary or b""
            )
        )
        return any_msg.type_url

    embedding = [float(i) / 7 for i in range(2000)]
    out["embedding_sent_as"] = register_raw("big_embedding", "embedding", embedding)
    out["big_embedding_equal"] = list(ctx["big_embedding"]) == embedding
    tensor = np.arange(3000, dtype=np.float64).reshape(1500, 2)
    out["tensor_sent_as"] = register_raw("big_tensor", "tensor", tensor)
    got = ctx["big_tensor"]
    shape = list(got["shape"]) if isinstance(got, dict) else list(got.shape)
    data = got["data"] if isinstance(got, dict) else got.tolist()
    out["tensor_shape"] = shape
    out["tensor_equal"] = data == tensor.tolist()

    try:
        ctx.update_variable("temperature", 1.5)
        out["above_max"] = False
    except Exception as error:  # the client raises on the server's INVALID_ARGUMENT
        out["above_max"] = "above maximum" in str(error).lower()

    out["tools"] = sorted(ctx.elixir_tools)
    out["tool_result"] = ctx.call_elixir_tool("add", a=2, b=3.5)
    ctx.cleanup()
    channel.close()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
