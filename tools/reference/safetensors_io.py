"""Read and write safetensors files, written from the format description.

A safetensors file is: 8 bytes little-endian u64 N, then N bytes of JSON header, then the data.
The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
relative to the start of the data, tensors contiguous) plus an optional "__metadata__" object of
strings. We pad the header with spaces to a multiple of 8 so that the data starts 8-aligned.

Supported dtypes: F32, F16, BF16 and F8_E4M3. torch 1.13 has no float8 dtype, so FP8 tensors are
kept as their raw uint8 codes and decoded through a 256-entry table written here; the encoder is
an exact nearest-value search (round to nearest, ties to even, saturating at +-448).
Everything here is plain Python + numpy + torch; no safetensors package.
"""

import json
import math
import os
import struct
from collections import OrderedDict

import numpy as np
import torch

# dtype name -> (bytes per element, numpy little-endian storage type)
DTYPES = {
    "F32": (4, "<f4"),
    "F16": (2, "<f2"),
    "BF16": (2, "<u2"),
    "F8_E4M3": (1, "u1"),
}


class Stored:
    """One tensor as it lies in a file: its dtype name and its values.

    `values` is float32 for F32, float16 for F16, int32 holding the 16 bf16 bits for BF16, and
    uint8 codes for F8_E4M3 (torch 1.13 has no uint16 and no float8).
    """

    def __init__(self, dtype, values):
        if dtype not in DTYPES:
            raise ValueError(f"unsupported dtype {dtype}")
        self.dtype = dtype
        self.values = values

    @property
    def shape(self):
        return list(self.values.shape)

    def nbytes(self):
        return DTYPES[self.dtype][0] * self.values.numel()

    def to_bytes(self):
        arr = self.values.contiguous().numpy().astype(DTYPES[self.dtype][1], copy=False)
        return arr.tobytes()


# ---------------------------------------------------------------------------------------------
# BF16: the upper 16 bits of a float32, rounded to nearest even.

def bf16_bits_from_f32(x):
    """float32 tensor -> int32 tensor of bf16 bit patterns (round to nearest, ties to even)."""
    if x.dtype != torch.float32:
        raise TypeError("bf16 encoding takes float32 input (avoid double rounding)")
    if torch.isnan(x).any():
        raise ValueError("NaN in a tensor to be written as BF16")
    bits = x.contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    lsb = (bits >> 16) & 1
    rounded = (bits + 0x7FFF + lsb) >> 16
    return (rounded & 0xFFFF).to(torch.int32)


def f32_from_bf16_bits(bits):
    """int32 tensor of bf16 bit patterns -> float32 tensor (exact)."""
    wide = (bits.to(torch.int64) & 0xFFFF) << 16
    # reinterpret the low 32 bits as float32 (values >= 2^31 wrap to negative int32 first)
    wide = torch.where(wide >= 2**31, wide - 2**32, wide).to(torch.int32)
    return wide.view(torch.float32)


# ---------------------------------------------------------------------------------------------
# FP8 e4m3fn: sign, 4 exponent bits (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN;
# largest finite value 1.75 * 2^8 = 448; subnormals m/8 * 2^-6.

def _fp8_e4m3_table():
    table = []
    for code in range(256):
        sign = -1.0 if code & 0x80 else 1.0
        exp = (code >> 3) & 0xF
        man = code & 0x7
        if exp == 0xF and man == 0x7:
            value = math.nan
        elif exp == 0:
            value = sign * (man / 8.0) * 2.0 ** -6
        else:
            value = sign * (1.0 + man / 8.0) * 2.0 ** (exp - 7)
        table.append(value)
    return torch.tensor(table, dtype=torch.float32)


FP8_E4M3_TABLE = _fp8_e4m3_table()  # code -> float32 value (every value is exact in float32)
FP8_E4M3_MAX = 448.0


def fp8_e4m3_decode(codes):
    """uint8 codes -> float32 values (exact)."""
    return FP8_E4M3_TABLE[codes.to(torch.int64)]


def fp8_e4m3_encode(x):
    """float tensor -> uint8 e4m3fn codes: nearest value, ties to the even code, saturating at
    +-448 (never NaN, never a NaN code). The sign is kept, so -0.0 and tiny negatives give 0x80."""
    if torch.isnan(x).any():
        raise ValueError("NaN in a tensor to be written as F8_E4M3")
    positive = FP8_E4M3_TABLE[:127].to(torch.float64)  # codes 0..126: 0 .. 448, increasing
    a = x.to(torch.float64).abs().clamp(max=FP8_E4M3_MAX)
    hi = torch.bucketize(a, positive)  # first index with positive[hi] >= a
    lo = (hi - 1).clamp(min=0)
    d_hi = positive[hi] - a
    d_lo = a - positive[lo]
    # Codes 0..126 are in value order, and an even code has an even mantissa.
    pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (hi % 2 == 0))
    code = torch.where(pick_hi, hi, lo)
    sign = torch.signbit(x.to(torch.float64)).to(torch.int64) << 7
    return (code | sign).to(torch.uint8)


# ---------------------------------------------------------------------------------------------
# Conversions between float tensors and stored tensors.

def encode(x, dtype):
    """A float32 tensor -> Stored in `dtype` (F32, F16 or BF16). FP8 needs a scale: see
    make_tiny_models.quantize_fp8_blocks."""
    x = x.to(torch.float32).contiguous()
    if dtype == "F32":
        return Stored("F32", x.clone())
    if dtype == "F16":
        if torch.isnan(x).any() or (x.abs() > 65504).any():
            raise ValueError("value not representable as F16")
        return Stored("F16", x.to(torch.float16))  # IEEE round to nearest even
    if dtype == "BF16":
        return Stored("BF16", bf16_bits_from_f32(x))
    raise ValueError(f"encode: unsupported dtype {dtype}")


def to_float32(stored):
    """Stored -> float32 tensor; exact for every supported dtype (F8 codes decoded, no scale)."""
    if stored.dtype == "F32":
        return stored.values.to(torch.float32)
    if stored.dtype == "F16":
        return stored.values.to(torch.float32)
    if stored.dtype == "BF16":
        return f32_from_bf16_bits(stored.values)
    if stored.dtype == "F8_E4M3":
        return fp8_e4m3_decode(stored.values)
    raise ValueError(f"unsupported dtype {stored.dtype}")


# ---------------------------------------------------------------------------------------------
# Files.

def _storage_order(tensors):
    """Names in file order: larger element sizes first (so every tensor starts aligned to its
    element size, as the safetensors library arranges it), model order within one size."""
    names = list(tensors)
    return sorted(names, key=lambda n: (-DTYPES[tensors[n].dtype][0], names.index(n)))


def save_file(tensors, path, metadata=None):
    """Write an ordered dict name -> Stored as one safetensors file. Returns the data size."""
    header = OrderedDict()
    header["__metadata__"] = dict(metadata if metadata is not None else {"format": "pt"})
    offset = 0
    order = _storage_order(tensors)
    for name in order:
        t = tensors[name]
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.nbytes()]}
        offset += t.nbytes()
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(tensors[name].to_bytes())
    return offset


def shard_file_name(k, n):
    return f"model-{k:05d}-of-{n:05d}.safetensors"


def save_sharded(tensors, folder, shards):
    """Write `shards` (a list of lists of names, covering `tensors` once) as
    model-0000K-of-0000N.safetensors plus model.safetensors.index.json."""
    names = [n for shard in shards for n in shard]
    if sorted(names) != sorted(tensors) or len(set(names)) != len(names):
        raise ValueError("shards must cover every tensor exactly once")
    weight_map = OrderedDict()
    total = 0
    for k, shard in enumerate(shards, start=1):
        file_name = shard_file_name(k, len(shards))
        total += save_file(OrderedDict((n, tensors[n]) for n in shard), os.path.join(folder, file_name))
        for n in shard:
            weight_map[n] = file_name
    index = {"metadata": {"total_size": total}, "weight_map": OrderedDict(sorted(weight_map.items()))}
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


def load_file(path):
    """Read one safetensors file -> ordered dict name -> Stored (header order)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} past the end of the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    out = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        size, np_type = DTYPES[dtype]
        shape = [int(d) for d in info["shape"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * size or end > len(data):
            raise ValueError(f"{path}: tensor {name}: data_offsets {begin},{end} do not fit shape {shape}")
        arr = np.frombuffer(data[begin:end], dtype=np_type).reshape(shape)
        if dtype == "F32":
            values = torch.from_numpy(arr.astype(np.float32))
        elif dtype == "F16":
            values = torch.from_numpy(arr.astype(np.float16))
        elif dtype == "BF16":
            values = torch.from_numpy(arr.astype(np.int32))
        else:
            values = torch.from_numpy(arr.astype(np.uint8))
        out[name] = Stored(dtype, values)
    return out


def load_folder(folder):
    """Every tensor of a Hugging Face model folder: model.safetensors, or the shards that
    model.safetensors.index.json names. -> ordered dict name -> Stored."""
    index_path = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
        files = sorted(set(weight_map.values()))
    else:
        files = ["model.safetensors"]
        weight_map = None
    tensors = OrderedDict()
    for file_name in files:
        for name, t in load_file(os.path.join(folder, file_name)).items():
            if name in tensors:
                raise ValueError(f"{folder}: tensor {name} appears in two files")
            if weight_map is not None and weight_map.get(name) != file_name:
                raise ValueError(f"{folder}: tensor {name} is in {file_name}, the index says {weight_map.get(name)}")
            tensors[name] = t
    if weight_map is not None:
        missing = sorted(set(weight_map) - set(tensors))
        if missing:
            raise ValueError(f"{folder}: the index names tensors no file holds: {missing[:5]}")
    return tensors
