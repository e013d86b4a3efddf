"""ONNX export of a torch classifier, ONNX Runtime int8 dynamic quantisation, and 1-thread sessions.

Exporter choice (torch 2.13): the default dynamo exporter works but takes ~10 s for a 3-layer MLP and
writes the weights to a separate `.onnx.data` file; the TorchScript exporter (`dynamo=False`) takes
~0.5 s and writes one self-contained file with the same graph (Gemm, Relu), so we use it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


def export_onnx(model: nn.Module, path: Path, n_features: int) -> Path:
    """Write `model` (eval mode) as ONNX with a dynamic batch axis: input `x` (batch, F), output `logits`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, n_features),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
        )
    return path


def quantize_onnx(src: Path, dst: Path) -> Path:
    """Int8 dynamic quantisation of the weights (onnxruntime.quantization.quantize_dynamic), after the
    recommended shape-inference pre-processing."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = dst.with_name(dst.stem + ".pre.onnx")
    quant_pre_process(str(src), str(pre))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(pre), str(dst), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
        pre.unlink(missing_ok=True)
    return dst


class OnnxPredictor:
    """Logits from an ONNX model through ONNX Runtime on one thread (sequential execution).

    Single rows (the live signal's case) go through a pre-bound `IOBinding` with fixed input and output
    buffers, which skips most of `InferenceSession.run`'s per-call feed/fetch work; other batch sizes
    use `run`. Both paths run the same graph and give the same logits.
    """

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        if not Path(path).exists():
            raise FileNotFoundError(f"ONNX model not found: {path}")
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.session: Any = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        inp, out = self.session.get_inputs()[0], self.session.get_outputs()[0]
        self.input_name: str = inp.name
        self.output_names: list[str] = [out.name]
        n_in, n_out = inp.shape[1], out.shape[1]
        if not isinstance(n_in, int) or not isinstance(n_out, int):
            raise ValueError(f"{path}: expected (batch, F) -> (batch, C) with fixed F and C")
        self.n_features = n_in
        self._in1 = np.zeros((1, n_in), np.float32)
        self._out1 = np.zeros((1, n_out), np.float32)
        self._in1_value = ort.OrtValue.ortvalue_from_numpy(self._in1)  # shares self._in1's memory
        self._binding = self.session.io_binding()
        self._binding.bind_ortvalue_input(inp.name, self._in1_value)
        self._binding.bind_output(out.name, "cpu", 0, np.float32, list(self._out1.shape), self._out1.ctypes.data)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Logits for float32 rows `x` (batch, F)."""
        if x.shape[0] == 1:
            self._in1[...] = x
            self.session.run_with_iobinding(self._binding)
            return self._out1.copy()
        out: np.ndarray = self.session.run(self.output_names, {self.input_name: x})[0]
        return out


class TorchPredictor:
    """Logits from a torch module in eval mode without autograd."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Logits for float32 rows `x` (batch, F)."""
        with torch.inference_mode():
            out: np.ndarray = self.model(torch.from_numpy(x)).numpy()
        return out
