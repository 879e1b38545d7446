"""A trained :class:`~nn_core.model.Network` as an ONNX model, built with the ``onnx``
package: one ``MatMul``, ``Add`` and activation per layer, rows are samples, exactly as
``nn_core`` computes them.  Netron draws the file; any ONNX runtime can run it.

    data = to_onnx(net, input_name="pixels", doc="28x28 MNIST pixels in [0, 1], row-major")
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nn_core.activations import PROBABILITY_ONNX, OnnxOp
from nn_core.model import Network

__all__ = ["to_onnx"]

OPSET = 13


def _nodes(ops: Sequence[OnnxOp], names: dict[str, str], prefix: str) -> list[onnx.NodeProto]:
    """``ops`` as ONNX nodes: the names in ``names`` are renamed to the graph's tensors,
    every other name gets ``prefix`` so each layer's intermediate values stay apart."""

    def real(name: str) -> str:
        return names.get(name, f"{prefix}{name}")

    nodes = []
    for k, op in enumerate(ops):
        node = helper.make_node(
            op.op,
            [real(i) for i in op.inputs],
            [real(op.output)],
            name=f"{prefix}{op.op.lower()}{k}",
        )
        node.attribute.extend(helper.make_attribute(key, v) for key, v in op.attributes.items())
        nodes.append(node)
    return nodes


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
    ``(n, sizes[-1])``.  Each layer's activation is the ONNX nodes its class declares
    (:attr:`~nn_core.activations.Activation.onnx`).  With ``normalize`` a non-softmax output
    becomes probabilities as :func:`nn_core.activations.probabilities` makes them (and
    ``/api/predict`` with it).
    """
    nodes, weights = [], []
    prev = input_name
    for k, layer in enumerate(net.layers):
        weights.append(numpy_helper.from_array(np.asarray(layer.w, np.float32), f"W{k}"))
        weights.append(numpy_helper.from_array(np.asarray(layer.b, np.float32), f"b{k}"))
        nodes.append(helper.make_node("MatMul", [prev, f"W{k}"], [f"xw{k}"], name=f"matmul{k}"))
        nodes.append(helper.make_node("Add", [f"xw{k}", f"b{k}"], [f"z{k}"], name=f"add{k}"))
        act = layer.activation
        if not act.onnx:
            raise ValueError(f"activation {act.name!r} declares no ONNX form (its onnx ops)")
        nodes += _nodes(act.onnx, {"z": f"z{k}", "a": f"a{k}"}, f"{act.name}{k}_")
        prev = f"a{k}"
    if normalize and not net.layers[-1].activation.sums_to_one:
        nodes += _nodes(PROBABILITY_ONNX, {"a": prev, "p": "normalized"}, "probabilities_")
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
