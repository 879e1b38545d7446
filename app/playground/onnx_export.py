"""A trained :class:`~nn_core.model.Network` as an ONNX model, built with the ``onnx``
package: one ``MatMul``, ``Add`` and activation per layer, rows are samples, exactly as
``nn_core`` computes them.  Netron draws the file; any ONNX runtime can run it.

    data = to_onnx(net, input_name="pixels", doc="28x28 MNIST pixels in [0, 1], row-major")
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nn_core.model import Network

__all__ = ["to_onnx"]

OPSET = 13
_ACTIVATIONS: dict[str, tuple[str, dict[str, float | int]]] = {
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.01}),
    "linear": ("Identity", {}),
    "softmax": ("Softmax", {"axis": 1}),
}


def to_onnx(
    net: Network,
    *,
    input_name: str = "input",
    output_name: str = "output",
    normalize: bool = False,
    doc: str = "",
) -> bytes:
    """Serialise ``net`` (float32) as ONNX bytes.

    Input ``input_name``: ``(n, sizes[0])`` float32; output ``output_name``:
    ``(n, sizes[-1])``.  With ``normalize`` a non-softmax output is clipped at 0 and divided
    by its sum, as ``/api/predict`` turns sigmoid outputs into probabilities.
    """
    nodes, weights = [], []
    prev = input_name
    names = [*net.hidden_activations, net.output_activation]
    for k, layer in enumerate(net.layers):
        weights.append(numpy_helper.from_array(np.asarray(layer.w, np.float32), f"W{k}"))
        weights.append(numpy_helper.from_array(np.asarray(layer.b, np.float32), f"b{k}"))
        nodes.append(helper.make_node("MatMul", [prev, f"W{k}"], [f"xw{k}"], name=f"matmul{k}"))
        nodes.append(helper.make_node("Add", [f"xw{k}", f"b{k}"], [f"z{k}"], name=f"add{k}"))
        op, attrs = _ACTIVATIONS[names[k]]
        out = f"a{k}"
        node = helper.make_node(op, [f"z{k}"], [out], name=f"{names[k]}{k}")
        node.attribute.extend(helper.make_attribute(key, v) for key, v in attrs.items())
        nodes.append(node)
        prev = out
    if normalize and net.output_activation != "softmax":
        weights.append(numpy_helper.from_array(np.zeros((), np.float32), "zero"))
        weights.append(numpy_helper.from_array(np.array([1], np.int64), "axes"))
        nodes += [
            helper.make_node("Max", [prev, "zero"], ["clipped"], name="clip_at_zero"),
            helper.make_node("ReduceSum", ["clipped", "axes"], ["total"], name="sum", keepdims=1),
            helper.make_node("Div", ["clipped", "total"], ["normalized"], name="normalize"),
        ]
        prev = "normalized"
    nodes.append(helper.make_node("Identity", [prev], [output_name], name="output"))
    graph = helper.make_graph(
        nodes,
        "backprop_lab_network",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["n", net.sizes[0]])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["n", net.sizes[-1]])],
        weights,
        doc_string=doc,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="backprop-lab"
    )
    model.ir_version = 8  # readable by onnxruntime releases from 2021 on
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())
