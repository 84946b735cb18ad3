#!/usr/bin/env python3
"""Writes a llama-family Hugging Face folder of any size whose weights are all
zero, as a sparse file: the header is real, the data is a hole, so a 30 GB
checkpoint takes no disk space and is made instantly. Used to show that dseek
loads and runs models larger than RAM through mmap (bench/larger_than_ram.sh).
Python standard library only."""
import argparse, json, os, struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--hidden", type=int, default=8192)
p.add_argument("--intermediate", type=int, default=22016)
p.add_argument("--layers", type=int, default=26)
p.add_argument("--vocab", type=int, default=32000)
p.add_argument("--dtype", default="BF16", choices=["BF16", "F16", "F32"])
a = p.parse_args()

size = {"BF16": 2, "F16": 2, "F32": 4}[a.dtype]
os.makedirs(a.out, exist_ok=True)
config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": a.vocab,
          "hidden_size": a.hidden, "intermediate_size": a.intermediate, "num_hidden_layers": a.layers,
          "num_attention_heads": a.hidden // 128, "num_key_value_heads": a.hidden // 128,
          "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
json.dump(config, open(os.path.join(a.out, "config.json"), "w"), indent=2)

header, offset = {}, 0
def add(name, shape):
    global offset
    n = size
    for d in shape:
        n *= d
    header[name] = {"dtype": a.dtype, "shape": shape, "data_offsets": [offset, offset + n]}
    offset += n

add("model.embed_tokens.weight", [a.vocab, a.hidden])
add("lm_head.weight", [a.vocab, a.hidden])
add("model.norm.weight", [a.hidden])
for i in range(a.layers):
    pre = f"model.layers.{i}"
    for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
        add(f"{pre}.self_attn.{n}.weight", [a.hidden, a.hidden])
    add(f"{pre}.mlp.gate_proj.weight", [a.intermediate, a.hidden])
    add(f"{pre}.mlp.up_proj.weight", [a.intermediate, a.hidden])
    add(f"{pre}.mlp.down_proj.weight", [a.hidden, a.intermediate])
    add(f"{pre}.input_layernorm.weight", [a.hidden])
    add(f"{pre}.post_attention_layernorm.weight", [a.hidden])
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
path = os.path.join(a.out, "model.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    f.truncate(8 + len(text) + offset)
print(f"{path}: {(8 + len(text) + offset) / 1e9:.1f} GB (sparse)")
