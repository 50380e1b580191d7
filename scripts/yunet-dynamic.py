"""YuNet with any input size, for ONNX Runtime.

opencv_zoo's face_detection_yunet_2023mar.onnx declares a fixed 1x3x640x640 input. OpenCV's dnn
ignores that and runs any size; ONNX Runtime holds a model to its declared shapes. So the input's
height and width become symbolic ("height", "width"), the outputs' cell counts symbolic too, and the declared
shapes of intermediate values (which follow from 640x640) are cleared for ONNX Runtime to infer. The
weights and the graph are untouched: the network's own reshapes are already [1, -1, C].

usage: python yunet-dynamic.py IN.onnx OUT.onnx
"""
import sys

import onnx


def main(src: str, dst: str) -> None:
    model = onnx.load(src)
    graph = model.graph
    (image,) = graph.input
    dims = image.type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 3, 640, 640], "not the 2023mar YuNet this script knows"
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in graph.output:
        # [1, cells, C]: the number of cells follows from the input's size.
        cells = output.type.tensor_type.shape.dim[1]
        cells.dim_param = f"{output.name}_cells"
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    main(*sys.argv[1:])
