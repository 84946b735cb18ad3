"""The tiny test models: complete Hugging Face config.json contents plus how each is stored.

Every model has vocab_size 384 (the first ids of a real vocabulary, see tests/data/tokenizers).
Shapes are tiny but exercise what the full models do: MLA with and without q_lora, YaRN,
greedy / group-limited / noaux_tc routing, FP8 blocks with partial edges, an MTP layer,
GQA, llama3 and linear RoPE scaling, qwen2 biases, sharded checkpoints.

Fields that real configs of each family carry are present; two are left out on purpose:
"auto_map" (it would point at remote modeling code that the folders do not contain) and
"transformers_version" (these files are not written by transformers).

SEEDS: "weights" seeds the torch.Generator of make_tiny_models.py, "tokens" the one that draws
the 79 prompt ids in make_goldens.py. They were chosen with `make_goldens.py --search NAME` so
that the margins required by make_goldens.py hold (see README.md).
"""

# ---------------------------------------------------------------------------------------------
# Tokenizers (copied from the shared fixtures; see tests/data/tokenizers/README.md).
DEEPSEEK_TOKENIZER = "deepseek-llm-micro"  # bos 382 <｜begin▁of▁sentence｜>, eos 383
QWEN2_TOKENIZER = "qwen2-micro"            # <|endoftext|> 381 is bos = eos = pad
LLAMA3_TOKENIZER = "llama3-micro"          # bos 381 <|begin_of_text|>, eos 382, <|eot_id|> 383

_DEEPSEEK_COMMON = {
    "attention_bias": False,
    "attention_dropout": 0.0,
    "aux_loss_alpha": 0.001,
    "bos_token_id": 382,
    "eos_token_id": 383,
    "ep_size": 1,
    "hidden_act": "silu",
    "initializer_range": 0.02,
    "max_position_embeddings": 128,
    "num_key_value_heads": None,  # set to num_attention_heads below, as DeepSeek's configs do
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-06,
    "rope_theta": 10000,
    "seq_aux": True,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 384,
}

_YARN_V2 = {
    "beta_fast": 32,
    "beta_slow": 1,
    "factor": 4.0,
    "mscale": 0.707,
    "mscale_all_dim": 0.707,
    "original_max_position_embeddings": 32,
    "type": "yarn",
}

_YARN_V3 = dict(_YARN_V2, mscale=1.0, mscale_all_dim=1.0)


def _deepseek(**fields):
    cfg = dict(_DEEPSEEK_COMMON)
    cfg.update(fields)
    cfg["num_key_value_heads"] = cfg["num_attention_heads"]
    return cfg


DEEPSEEK_V2_LITE_TINY = _deepseek(
    architectures=["DeepseekV2ForCausalLM"],
    model_type="deepseek_v2",
    hidden_size=64,
    num_hidden_layers=4,
    num_attention_heads=4,
    q_lora_rank=None,
    kv_lora_rank=32,
    qk_nope_head_dim=24,
    qk_rope_head_dim=16,
    v_head_dim=16,
    intermediate_size=96,
    moe_intermediate_size=24,
    n_routed_experts=8,
    n_shared_experts=2,
    num_experts_per_tok=2,
    topk_method="greedy",
    n_group=1,
    topk_group=1,
    scoring_func="softmax",
    norm_topk_prob=False,
    routed_scaling_factor=1.0,
    first_k_dense_replace=1,
    moe_layer_freq=1,
    rope_scaling=dict(_YARN_V2),
)

DEEPSEEK_V2_TINY = _deepseek(
    architectures=["DeepseekV2ForCausalLM"],
    model_type="deepseek_v2",
    hidden_size=64,
    num_hidden_layers=5,
    num_attention_heads=4,
    q_lora_rank=48,
    kv_lora_rank=32,
    qk_nope_head_dim=16,
    qk_rope_head_dim=16,
    v_head_dim=24,
    intermediate_size=96,
    moe_intermediate_size=16,
    n_routed_experts=16,
    n_shared_experts=2,
    num_experts_per_tok=3,
    topk_method="group_limited_greedy",
    n_group=4,
    topk_group=2,
    scoring_func="softmax",
    norm_topk_prob=False,
    routed_scaling_factor=16.0,
    first_k_dense_replace=1,
    moe_layer_freq=2,
    rope_scaling=dict(_YARN_V2),
)

DEEPSEEK_V3_TINY_FP8 = _deepseek(
    architectures=["DeepseekV3ForCausalLM"],
    model_type="deepseek_v3",
    hidden_size=160,
    num_hidden_layers=3,
    num_nextn_predict_layers=1,
    num_attention_heads=4,
    q_lora_rank=144,
    kv_lora_rank=48,
    qk_nope_head_dim=16,
    qk_rope_head_dim=16,
    v_head_dim=16,
    intermediate_size=200,
    moe_intermediate_size=32,
    n_routed_experts=16,
    n_shared_experts=1,
    num_experts_per_tok=4,
    topk_method="noaux_tc",
    n_group=4,
    topk_group=2,
    scoring_func="sigmoid",
    norm_topk_prob=True,
    routed_scaling_factor=2.5,
    first_k_dense_replace=1,
    moe_layer_freq=1,
    rope_scaling=dict(_YARN_V3),
    quantization_config={
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
)

QWEN2_TINY = {
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 381,
    "eos_token_id": 381,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 128,
    "max_position_embeddings": 256,
    "max_window_layers": 2,
    "model_type": "qwen2",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    "sliding_window": 256,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 384,
}

LLAMA3_TINY = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 381,
    "eos_token_id": 382,
    "head_dim": 16,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 128,
    "max_position_embeddings": 256,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 8.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 32,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
    "use_cache": True,
    "vocab_size": 384,
}

# deepseek-coder-6.7b ships as a plain Llama with linear RoPE scaling.
DEEPSEEK_CODER_TINY = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 382,
    "eos_token_id": 383,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 128,
    "max_position_embeddings": 256,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 4,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-06,
    "rope_scaling": {"factor": 4.0, "type": "linear"},
    "rope_theta": 100000,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 384,
}

# ---------------------------------------------------------------------------------------------
# generation_config.json, shaped like the family's published one (sampling defaults included;
# the goldens are greedy and do not read them).
GEN_DEEPSEEK_V2 = {"bos_token_id": 382, "eos_token_id": 383, "do_sample": True, "temperature": 0.3, "top_p": 0.95}
GEN_DEEPSEEK_V3 = {"_from_model_config": True, "bos_token_id": 382, "eos_token_id": 383, "do_sample": True,
                   "temperature": 0.6, "top_p": 0.95}
GEN_QWEN2 = {"bos_token_id": 381, "eos_token_id": 381, "do_sample": False, "max_new_tokens": 2048}
# Llama 3.1 lists <|end_of_text|> and <|eot_id|> as stop ids.
GEN_LLAMA3 = {"bos_token_id": 381, "eos_token_id": [382, 383], "do_sample": True, "temperature": 0.6, "top_p": 0.9}
GEN_DEEPSEEK_CODER = {"_from_model_config": True, "bos_token_id": 382, "eos_token_id": 383}

# ---------------------------------------------------------------------------------------------
# name -> everything make_tiny_models.py and make_goldens.py need.
#   storage: "BF16" | "F16" | "F32" | "FP8" (FP8 = DeepSeek-V3 layout: 2-D projections in the
#            layers F8_E4M3 with F32 *_scale_inv per 128x128 block, the rest BF16, bias F32)
#   shards:  None (one model.safetensors), or ("even", N): N files cut at tensor boundaries into
#            about equal sizes (so a layer can straddle two files, as in real checkpoints), or
#            "mtp": the main model in file 1 and the MTP layer in file 2
MODELS = {
    "deepseek-v2-lite-tiny": {
        "config": DEEPSEEK_V2_LITE_TINY, "generation": GEN_DEEPSEEK_V2, "storage": "BF16",
        "shards": ("even", 3), "tokenizer": DEEPSEEK_TOKENIZER,
        "seeds": {"weights": 2, "tokens": 101},
    },
    "deepseek-v2-tiny": {
        "config": DEEPSEEK_V2_TINY, "generation": GEN_DEEPSEEK_V2, "storage": "BF16",
        "shards": None, "tokenizer": DEEPSEEK_TOKENIZER,
        "seeds": {"weights": 60, "tokens": 102},
    },
    "deepseek-v3-tiny-fp8": {
        "config": DEEPSEEK_V3_TINY_FP8, "generation": GEN_DEEPSEEK_V3, "storage": "FP8",
        "shards": "mtp", "tokenizer": DEEPSEEK_TOKENIZER,
        "seeds": {"weights": 8, "tokens": 103},
    },
    "qwen2-tiny": {
        "config": QWEN2_TINY, "generation": GEN_QWEN2, "storage": "F16",
        "shards": None, "tokenizer": QWEN2_TOKENIZER,
        "seeds": {"weights": 4, "tokens": 104},
    },
    "llama3-tiny": {
        "config": LLAMA3_TINY, "generation": GEN_LLAMA3, "storage": "F32",
        "shards": None, "tokenizer": LLAMA3_TOKENIZER,
        "seeds": {"weights": 32, "tokens": 105},
    },
    "deepseek-coder-tiny": {
        "config": DEEPSEEK_CODER_TINY, "generation": GEN_DEEPSEEK_CODER, "storage": "BF16",
        "shards": None, "tokenizer": DEEPSEEK_TOKENIZER,
        "seeds": {"weights": 17, "tokens": 106},
    },
}
