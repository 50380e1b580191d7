"""dlib's face-recognition ResNet as an ONNX graph, from the XML dlib writes of it.

cpp/resnet_to_xml.cpp has dlib read dlib_face_recognition_resnet_model_v1.dat and write it with
net_to_xml (every layer, its settings and its parameters to 9 significant digits: float32
exactly). This script rebuilds the same computation, layer for layer, as ONNX operators:

    input_rgb_image_sized  (x - mean) / 256 per channel, R G B planes
    con                    Conv (filters then biases, as dlib stores them)
    affine_con             x * gamma + beta per channel (dlib's batch norm, frozen)
    relu, max_pool, avg_pool, avg_pool_everything, fc_no_bias
    tag N / skip N         a name for a value / back to the value named N
    add_prev N             the sum with value N; where their sizes differ (a strided block
                           and its shortcut), each is zero-padded to the larger at the end,
                           as dlib's add_prev does

The graph takes a batch of 150x150 RGB face chips (float32, 0-255) as "chips" [faces, 3, 150,
150] and gives "encodings" [faces, 128]. dlib's loss_metric adds nothing at inference.

usage: python resnet-onnx.py NET.xml OUT.onnx
"""
import sys
import xml.etree.ElementTree as ET

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def numbers(element):
    return np.array((element.text or "").split(), dtype=np.float32)


class Graph:
    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, kind):
        self.count += 1
        return f"{kind}_{self.count}"

    def const(self, kind, array):
        name = self.name(kind)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def pooled(size, window, stride, pad):
    return 1 + (size + 2 * pad - window) // stride


def build(xml_path):
    layers = ET.parse(xml_path).getroot().findall("layer")
    # dlib lists the layers from the loss down to the input; data flows the other way.
    layers.sort(key=lambda l: -int(l.get("idx")))
    g = Graph()
    value, shape = "chips", None  # shape: (channels, rows, columns)
    tags = {}
    for layer in layers:
        kind = layer.get("type")
        if kind == "input":
            (spec,) = list(layer)
            assert spec.tag == "input_rgb_image_sized", spec.tag
            mean = np.array([float(spec.get(c)) for c in "rgb"], dtype=np.float32).reshape(1, 3, 1, 1)
            value = g.op("Sub", [value, g.const("mean", mean)])
            value = g.op("Div", [value, g.const("scale", np.array(256.0, dtype=np.float32))])
            shape = (3, int(spec.get("nr")), int(spec.get("nc")))
        elif kind == "tag":
            tags[layer.get("id")] = (value, shape)
        elif kind == "skip":
            value, shape = tags[layer.get("id")]
        elif kind == "loss":
            continue
        else:
            (spec,) = list(layer)
            value, shape = computation(g, spec, value, shape, tags)
    return g, value


def computation(g, spec, value, shape, tags):
    c, h, w = shape
    if spec.tag == "con":
        f, kh, kw = (int(spec.get(k)) for k in ("num_filters", "nr", "nc"))
        sy, sx, py, px = (int(spec.get(k)) for k in ("stride_y", "stride_x", "padding_y", "padding_x"))
        params = numbers(spec)
        assert spec.get("use_bias") == "true" and params.size == f * c * kh * kw + f, spec.attrib
        filters = params[: f * c * kh * kw].reshape(f, c, kh, kw)
        value = g.op("Conv", [value, g.const("filters", filters), g.const("biases", params[f * c * kh * kw :])],
                     kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
        return value, (f, pooled(h, kh, sy, py), pooled(w, kw, sx, px))
    if spec.tag == "affine_con":
        params = numbers(spec)
        assert params.size == 2 * c and not spec.get("disabled"), spec.attrib
        value = g.op("Mul", [value, g.const("gamma", params[:c].reshape(1, c, 1, 1))])
        return g.op("Add", [value, g.const("beta", params[c:].reshape(1, c, 1, 1))]), shape
    if spec.tag == "relu":
        return g.op("Relu", [value]), shape
    if spec.tag in ("max_pool", "avg_pool"):
        kh, kw, sy, sx, py, px = (int(spec.get(k)) for k in ("nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x"))
        if spec.tag == "avg_pool" and kh == 0 and kw == 0:  # avg_pool_everything
            return g.op("GlobalAveragePool", [value]), (c, 1, 1)
        assert py == 0 and px == 0, "padded pooling: dlib and ONNX count the padding differently"
        op = "MaxPool" if spec.tag == "max_pool" else "AveragePool"
        value = g.op(op, [value], kernel_shape=[kh, kw], strides=[sy, sx])
        return value, (c, pooled(h, kh, sy, 0), pooled(w, kw, sx, 0))
    if spec.tag == "add_prev":
        other, other_shape = tags[spec.get("tag")]
        out = tuple(max(a, b) for a, b in zip(shape, other_shape))
        return g.op("Add", [padded(g, value, shape, out), padded(g, other, other_shape, out)]), out
    if spec.tag == "fc_no_bias":
        n = int(spec.get("num_outputs"))
        weights = numbers(spec).reshape(c * h * w, n)
        flat = g.op("Flatten", [value], axis=1)
        return g.op("MatMul", [flat, g.const("weights", weights)]), (n,)
    raise SystemExit(f"layer {spec.tag} is not one this converter knows")


def padded(g, value, shape, out):
    if shape == out:
        return value
    ends = [o - s for s, o in zip(shape, out)]
    pads = np.array([0, 0, 0, 0, 0, *ends], dtype=np.int64)
    return g.op("Pad", [value, g.const("pads", pads)], mode="constant")


def main(xml_path, out_path):
    g, encodings = build(xml_path)
    g.nodes.append(helper.make_node("Identity", [encodings], ["encodings"]))
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.FLOAT, ["faces", 3, 150, 150])],
        [helper.make_tensor_value_info("encodings", TensorProto.FLOAT, ["faces", 128])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="rollcall")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
