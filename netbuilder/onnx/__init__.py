"""ONNX in and out: export with verification, import into an editable graph."""
