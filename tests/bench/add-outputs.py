#!/usr/bin/python3
"""add-outputs.py: a copy of a model with intermediate values as graph outputs.

`graft-cli run` writes only graph outputs; to find the first node where
Graft and onnxruntime part ways, make every node output (or the named ones)
a graph output, then compare with `ort-compare.mjs --per-output`:

  /usr/bin/python3 add-outputs.py MODEL.onnx OUT.onnx [VALUE ...]

Without VALUE names, every output of every node that depends on a graph
input is added, in node order (values computed from initializers alone are
folded away by both runtimes and left out). Needs the onnx Python module
(Debian's python3-onnx).
"""
import sys

import onnx
from onnx import shape_inference


def computed_values(graph):
    """Node outputs that depend on a graph input, in node order."""
    initializers = {t.name for t in graph.initializer}
    live = {i.name for i in graph.input if i.name not in initializers}
    ordered = []
    for node in graph.node:
        if any(name in live for name in node.input if name):
            for name in node.output:
                if name:
                    live.add(name)
                    ordered.append(name)
    return ordered


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    model = onnx.load(argv[1])
    inferred = shape_inference.infer_shapes(model)
    types = {v.name: v for v in inferred.graph.value_info}
    existing = {o.name for o in model.graph.output}
    wanted = argv[3:] or computed_values(model.graph)
    added = 0
    for name in wanted:
        if name in existing:
            continue
        if name in types:
            model.graph.output.append(types[name])
        else:
            # Type unknown to shape inference: float without a shape.
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
        existing.add(name)
        added += 1
    onnx.save(model, argv[2])
    print(f"{argv[2]}: {added} outputs added, {len(model.graph.output)} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
