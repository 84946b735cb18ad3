#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/gguf_fuzzer.cpp: small valid GGUF v3 files
that between them use every metadata value type (nested arrays included),
several tensor types and a non-default alignment. Regenerate with
  python3 fuzz/corpus/make_gguf_seeds.py
(plain Python, no dependencies; the output is deterministic)."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf_fuzzer")


def s(text):
    b = text.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, type_id, payload):
    return s(key) + struct.pack("<I", type_id) + payload


def array(elem_type, items):
    return struct.pack("<IQ", elem_type, len(items)) + b"".join(items)


def tensor_info(name, ne, ggml_type, offset):
    return s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne) + struct.pack("<IQ", ggml_type, offset)


def gguf(kvs, tensors, data, alignment=32):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + b"".join(tensors)
    out += b"\0" * (-len(out) % alignment)
    return out + data


def write(name, blob):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(blob)


os.makedirs(OUT, exist_ok=True)

every_type = [
    kv("general.architecture", 8, s("llama")),
    kv("u8", 0, struct.pack("<B", 7)),
    kv("i8", 1, struct.pack("<b", -7)),
    kv("u16", 2, struct.pack("<H", 700)),
    kv("i16", 3, struct.pack("<h", -700)),
    kv("u32", 4, struct.pack("<I", 70000)),
    kv("i32", 5, struct.pack("<i", -70000)),
    kv("f32", 6, struct.pack("<f", 0.5)),
    kv("bool", 7, struct.pack("<B", 1)),
    kv("u64", 10, struct.pack("<Q", 1 << 40)),
    kv("i64", 11, struct.pack("<q", -(1 << 40))),
    kv("f64", 12, struct.pack("<d", 1e-6)),
    kv("tokens", 9, array(8, [s("a"), s("b"), s("ab")])),
    kv("types", 9, array(5, [struct.pack("<i", 1)] * 3)),
    kv("nested", 9, array(9, [array(4, [struct.pack("<I", 1), struct.pack("<I", 2)]), array(8, [s("x")])])),
]
write("every_type.gguf", gguf(every_type, [], b""))

# Tensors of several types, data filled with a simple pattern.
specs = [("token_embd.weight", [32, 4], 0, 4 * 32 * 4), ("blk.0.attn_q.weight", [32, 2], 8, 2 * 34),
         ("blk.0.ffn_up.weight", [256, 1], 12, 144), ("output_norm.weight", [32], 1, 64),
         ("blk.0.ffn_gate_exps.weight", [32, 2, 3], 2, 6 * 18)]
infos, data = [], b""
for name, ne, t, nbytes in specs:
    infos.append(tensor_info(name, ne, t, len(data)))
    data += bytes((i * 37 + 11) % 256 for i in range(nbytes))
    data += b"\0" * (-len(data) % 32)
write("tensors.gguf", gguf([kv("general.architecture", 8, s("llama"))], infos, data))

infos = [tensor_info("a", [16], 0, 0), tensor_info("b", [64], 30, 64)]
write("alignment64.gguf",
      gguf([kv("general.alignment", 4, struct.pack("<I", 64))], infos, b"\1" * 64 + b"\2" * 128, alignment=64))
