// dseek convert SRC DST.gguf --type T: a Hugging Face folder to GGUF, laid
// out as llama.cpp's converter does, with progress on stderr.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "convert/hf_to_gguf.h"

namespace dseek::cli {

void register_convert(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("convert", "convert a Hugging Face model folder to a GGUF file");
  struct Options {
    std::string src, dst, type = "f16", mla_kv_b = "split";
    int threads = 0;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("SRC", o->src, "Hugging Face model folder (bf16, f16, f32 or DeepSeek fp8 safetensors), or a GGUF file to store in another type")->required();
  cmd->add_option("DST", o->dst, "the GGUF file to write")->required();
  cmd->add_option("--type", o->type, "weight type: f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k, q2_k, q3_k")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q2_k", "q3_k"}));
  cmd->add_option("--mla-kv-b", o->mla_kv_b,
                  "DeepSeek MLA up-projection: split (attn_k_b + attn_v_b, current llama.cpp) or combined (attn_kv_b, older files)")
      ->check(CLI::IsMember({"split", "combined"}));
  cmd->add_option("--threads,-t", o->threads, "threads (default: physical cores)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--quiet,-q", o->quiet, "no progress on stderr");
  cmd->callback([o, &exit_code] {
    ThreadPool pool(o->threads > 0 ? o->threads : physical_core_count());
    ConvertOptions options;
    options.type = *dtype_from_name(o->type);
    options.kv_b_layout = o->mla_kv_b == "combined" ? KvbLayout::kCombined : KvbLayout::kSplit;
    options.pool = &pool;
    options.progress = !o->quiet;
    if (auto s = convert_to_gguf(o->src, o->dst, options); !s) exit_code = report(s.error());
  });
}

}  // namespace dseek::cli
