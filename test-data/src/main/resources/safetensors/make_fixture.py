#!/usr/bin/python3
"""Builds torch_fixture.safetensors and torch_fixture.expected.json for the Java reader's tests.

The state dict comes from PyTorch (seeded), but the file is written BY HAND with struct + json,
not with the safetensors library and not with Metagrad, so the Java reader is checked against an
independent writer. To make the check stricter the header lists the tensors in a different order
from their data (the format allows any order; readers sort by data_offsets), and includes
__metadata__.

The sidecar JSON records, per tensor, dtype, shape, the float64 sum of its finite elements and every element's exact bit
pattern (F32/I32 as unsigned 32-bit ints, F64/I64 as unsigned 64-bit ints written as decimal
strings), so the Java test compares bit-exactly, NaN and -0.0 included.

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 test-data/src/main/resources/safetensors/make_fixture.py
If this is rerun, reinstall the module: mvn -q -pl test-data install
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "torch_fixture.safetensors")
EXPECTED = os.path.join(HERE, "torch_fixture.expected.json")

DTYPES = {  # torch dtype -> (safetensors name, struct code for one element's bits)
    torch.float32: ("F32", "<I"),
    torch.float64: ("F64", "<Q"),
    torch.int32: ("I32", "<I"),
    torch.int64: ("I64", "<Q"),
}


def state_dict():
    torch.manual_seed(1234)
    conv = torch.nn.Conv2d(1, 4, 3, padding=1)
    fc = torch.nn.Linear(4, 5)
    return {
        "conv.weight": conv.weight.detach().clone(),  # [4, 1, 3, 3] F32
        "conv.bias": conv.bias.detach().clone(),  # [4] F32
        "fc.weight": fc.weight.detach().clone(),  # [5, 4] F32
        "fc.bias": fc.bias.detach().double(),  # [5] F64
        "bn.running_var": torch.rand(4, dtype=torch.float64) + 0.5,  # [4] F64
        "temperature": torch.tensor(0.125, dtype=torch.float32),  # [] scalar F32
        "step": torch.tensor(1234567890123, dtype=torch.int64),  # [] scalar I64
        "counts": torch.tensor([[-1, 0], [7, 2**31 - 1]], dtype=torch.int32),  # [2, 2] I32
        "empty": torch.zeros(0, 3, dtype=torch.float32),  # [0, 3] zero-size F32
        # Bits that a careless reader or writer changes: -0.0, infinities, a NaN with a payload.
        "special": torch.tensor(
            struct.unpack("<4f", struct.pack("<4I", 0x80000000, 0x7F800000, 0xFF800000, 0x7FC01234)),
            dtype=torch.float32,
        ),
    }


def raw_bytes(t):
    # Tensor -> little-endian bytes without numpy: view the storage as bytes via a uint8 view.
    t = t.contiguous()
    if t.numel() == 0:
        return b""
    return bytes(t.reshape(-1).view(torch.uint8).tolist())


def main():
    tensors = state_dict()
    data = bytearray()
    entries = {}
    expected = {}
    for name, t in tensors.items():  # data laid out in insertion order
        dtype_name, code = DTYPES[t.dtype]
        b = raw_bytes(t)
        assert len(b) == t.numel() * t.element_size()
        entries[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        size = struct.calcsize(code)
        bits = [struct.unpack_from(code, b, i)[0] for i in range(0, len(b), size)]
        expected[name] = {
            "dtype": dtype_name,
            "shape": list(t.shape),
            # Sum of the finite elements (JSON has no NaN or infinity), accumulated in float64.
            "finite_sum": float(t.double()[torch.isfinite(t)].sum()) if t.is_floating_point() else int(t.sum()),
            "bits": bits if size == 4 else [str(x) for x in bits],
        }
        data += b
    header = {"__metadata__": {"format": "pt", "producer": "make_fixture.py", "seed": "1234"}}
    for name in sorted(entries, reverse=True):  # header order differs from data order on purpose
        header[name] = entries[name]
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(FIXTURE, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        f.write(data)
    with open(EXPECTED, "w") as f:
        json.dump({"header_order": list(header)[1:], "metadata": header["__metadata__"], "tensors": expected}, f, indent=1)
        f.write("\n")
    print(f"wrote {FIXTURE} ({8 + len(hb) + len(data)} bytes) and {EXPECTED}; torch {torch.__version__}")


if __name__ == "__main__":
    main()
