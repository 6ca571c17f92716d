"""Re-quantise a GGUF file's Q4_1 tensors to Q8_0 with ``gguf`` (gguf-py, numpy only).

llama.cpp runs Q8_0 faster than Q4_1 on x86 CPUs (docs/embedded-models.md, "Why Q8_0"), so the
packaged SmolLM2 Q4_1 file is converted once, at set-up or first start. Every Q4_1 tensor is
dequantised to float32 and quantised to Q8_0; every other tensor and every metadata key is copied
as is, except ``general.file_type``, which then says Q8_0. The conversion is deterministic (same
input, same numpy, same bytes), so its result is checked against a recorded SHA-256.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

_FILE_TYPE_KEY = "general.file_type"


def requantize_q4_1_to_q8_0(source: Path, destination: Path) -> None:
    """Write ``source`` with its Q4_1 tensors turned into Q8_0 to ``destination`` (atomically)."""
    import gguf
    from gguf.quants import dequantize, quantize

    reader = gguf.GGUFReader(str(source))
    architecture = str(reader.fields["general.architecture"].contents())
    partial = destination.with_name(destination.name + ".partial")
    destination.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(partial), architecture)
    for field in reader.fields.values():
        if field.name == "general.architecture" or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        value = gguf.LlamaFileType.MOSTLY_Q8_0 if field.name == _FILE_TYPE_KEY else field.contents()
        writer.add_key_value(field.name, value, value_type, sub_type=sub_type)
    tensors = []
    for tensor in reader.tensors:
        data, kind = tensor.data, tensor.tensor_type
        if kind == gguf.GGMLQuantizationType.Q4_1:
            data = quantize(dequantize(data, kind), gguf.GGMLQuantizationType.Q8_0)
            kind = gguf.GGMLQuantizationType.Q8_0
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, kind)
        tensors.append(data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for data in tensors:
        writer.write_tensor_data(data, tensor_endianess=reader.endianess)
    writer.close()
    partial.replace(destination)
    logger.debug("wrote %s (%d tensors)", destination, len(tensors))
