#!/usr/bin/env python3
"""Checks from Python a safetensors file written by Metagrad's Java writer.

SafeTensorsTorchInteropTest.writesInteropFileForPython (module nn) writes
nn/target/safetensors-interop/java_written.safetensors with values given by formulas; this script
recomputes them and checks the file three ways, each only if its tools are present:

  1. by hand (struct + json, no dependencies): header rules (8-byte length, '{' first, padding to a
     multiple of 8 with spaces, offsets contiguous and covering the data) and every value bit-exact;
  2. with PyTorch (torch.frombuffer), as a PyTorch user would load it;
  3. with the reference implementation (pip package safetensors, numpy backend).

Usage, from the repository root, after `mvn -pl nn test`:
    /usr/bin/python3 test-data/src/main/resources/safetensors/verify_java_file.py   # Debian torch
    python3 test-data/src/main/resources/safetensors/verify_java_file.py            # safetensors+numpy
Exits non-zero on any mismatch.
"""
import json
import math
import struct
import sys

PATH = sys.argv[1] if len(sys.argv) > 1 else "nn/target/safetensors-interop/java_written.safetensors"


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def bits_f32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


# name -> (dtype, shape, raw little-endian bytes of the expected values)
EXPECTED = {
    "a": ("F32", [2, 3], struct.pack("<6f", *[f32(i * 0.25 - 0.5) for i in range(6)])),
    "b": ("F64", [3, 1, 2], struct.pack("<6d", *[math.sqrt(i + 1) * (1 if i % 2 == 0 else -1) for i in range(6)])),
    "neg_zero": ("F64", [], struct.pack("<d", -0.0)),
    "special": ("F32", [3], struct.pack("<3I", 0x7FC0BEEF, 0xFF800000, 0x00000001)),
    "empty": ("F32", [0], b""),
    "step": ("I64", [], struct.pack("<q", 42)),
    "idx": ("I32", [3], struct.pack("<3i", -7, 0, 2**31 - 1)),
    "naïve ✓": ("F32", [1], struct.pack("<f", 1.0)),
}
METADATA = {"producer": "metagrad", "epoch": "3", 'quote"key': "line\nbreak"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def by_hand(raw):
    (n,) = struct.unpack_from("<Q", raw, 0)
    check(n % 8 == 0, f"header length {n} is not a multiple of 8")
    header_bytes = raw[8 : 8 + n]
    check(header_bytes[:1] == b"{", "header does not start with '{'")
    text = header_bytes.decode("utf-8")
    check(text == text.rstrip(" ") + " " * (len(text) - len(text.rstrip(" "))), "padding is not spaces")

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        check(len(keys) == len(set(keys)), f"duplicate keys {keys}")
        return dict(pairs)

    header = json.loads(text, object_pairs_hook=no_dups)
    check(header.pop("__metadata__", None) == METADATA, "metadata differs")
    check(list(header) == list(EXPECTED), f"header order {list(header)} != {list(EXPECTED)}")
    data = raw[8 + n :]
    pos = 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        check(begin == pos, f"{name}: begins at {begin}, expected {pos}")
        pos = end
        dtype, shape, want = EXPECTED[name]
        check(info["dtype"] == dtype and info["shape"] == shape, f"{name}: {info} != {dtype} {shape}")
        check(data[begin:end] == want, f"{name}: bytes {data[begin:end].hex()} != {want.hex()}")
    check(pos == len(data), f"data section is {len(data)} bytes, tensors cover {pos}")
    return "by hand (struct + json): header rules and all bytes match"


def with_torch(raw):
    import torch

    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__")
    types = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}
    data = bytearray(raw[8 + n :])
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype, shape, want = EXPECTED[name]
        size = torch.empty(0, dtype=types[dtype]).element_size()
        if end > begin:
            t = torch.frombuffer(data, dtype=types[dtype], count=(end - begin) // size, offset=begin)
        else:
            t = torch.empty(0, dtype=types[dtype])
        t = t.reshape(shape)
        got = bytes(t.reshape(-1).view(torch.uint8).tolist())
        check(list(t.shape) == shape and got == want, f"torch: {name} differs: {got.hex()} vs {want.hex()}")
    return f"torch {torch.__version__}: all tensors load with torch.frombuffer and match bit-exactly"


def with_reference(path):
    from safetensors import safe_open
    import safetensors
    import numpy as np

    types = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64}
    with safe_open(path, framework="np") as f:
        check(f.metadata() == METADATA, f"reference: metadata {f.metadata()} != {METADATA}")
        check(set(f.keys()) == set(EXPECTED), f"reference: keys {sorted(f.keys())}")
        for name in f.keys():
            dtype, shape, want = EXPECTED[name]
            t = f.get_tensor(name)
            w = np.frombuffer(want, dtype=types[dtype]).reshape(shape)
            check(t.dtype == w.dtype and t.shape == w.shape and t.tobytes() == w.tobytes(), f"reference: {name} differs")
    return f"safetensors {safetensors.__version__} (reference implementation, numpy): all tensors and metadata match"


def main():
    with open(PATH, "rb") as fh:
        raw = fh.read()
    print(f"{PATH}: {len(raw)} bytes")
    for name, run in (("by hand", lambda: by_hand(raw)), ("torch", lambda: with_torch(raw)),
                      ("safetensors", lambda: with_reference(PATH))):
        before = len(failures)
        try:
            message = run()
        except ImportError as e:
            print(f"skip {name}: {e}")
            continue
        print(("ok   " if len(failures) == before else "FAIL ") + message)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
