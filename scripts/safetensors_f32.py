"""Read and write safetensors files of float32 tensors with nothing but `struct` and `json`.

The format, as written here (and as any safetensors reader accepts it):

    bytes 0..8     N, the length of the header, unsigned 64-bit little-endian
    bytes 8..8+N   the header: UTF-8 JSON, padded with spaces so that 8 + N is a multiple of 8
    bytes 8+N..    the data: every tensor's elements back to back, row-major (C order),
                   float32 little-endian, no gaps

    header = {
      "__metadata__": {"key": "value", ...},          optional; values are strings only
      "<tensor name>": {"dtype": "F32",
                        "shape": [d0, d1, ...],        [] for a scalar (one element)
                        "data_offsets": [begin, end]}, byte offsets into the data, end exclusive
      ...
    }

Tensors are stored in the order given (data offsets increase with it); readers must not rely on
the order of the JSON keys.
"""

import json
import struct
from array import array
from math import prod


def write(path, tensors, metadata=None):
    """Write `tensors` (name -> (shape, flat list of floats)) and string `metadata` to `path`."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    chunks = []
    offset = 0
    for name, (shape, values) in tensors.items():
        shape = [int(d) for d in shape]
        if len(values) != prod(shape):
            raise ValueError(f"{name}: {len(values)} values for shape {shape}")
        data = array("f", values)
        if data.itemsize != 4:
            raise RuntimeError("this Python's array('f') is not 32-bit")
        raw = data.tobytes() if struct.pack("=I", 1) == struct.pack("<I", 1) else _swapped(data)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)))
        file.write(text)
        for raw in chunks:
            file.write(raw)


def read(path):
    """Return (tensors: name -> (shape, list of floats), metadata: dict of strings)."""
    with open(path, "rb") as file:
        blob = file.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + length].decode("utf-8"))
    data = blob[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    covered = 0
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = entry["data_offsets"]
        if entry["dtype"] != "F32" or begin != covered or end - begin != 4 * prod(entry["shape"]):
            raise ValueError(f"{path}: bad entry {name}: {entry}")
        values = list(struct.unpack_from(f"<{prod(entry['shape'])}f", data, begin))
        tensors[name] = (entry["shape"], values)
        covered = end
    if covered != len(data):
        raise ValueError(f"{path}: {len(data) - covered} bytes of data not covered by the header")
    return tensors, metadata


def _swapped(data):
    copy = array("f", data)
    copy.byteswap()
    return copy.tobytes()
