// dseek serve MODEL [--host 127.0.0.1] [--port 8080]: the DeepSeek API.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/prefix_cache.h"
#include "engine/scheduler.h"
#include "server/api_server.h"
#include "server/auth.h"
#include "server/load_text_model.h"
#include "util/hash.h"

namespace dseek::cli {

namespace {

namespace fs = std::filesystem;

// Identifies the weights for the disk cache without reading them all: the
// config, and each weight file's name, size and first and last 64 KiB.
uint64_t model_fingerprint(const std::string& model, const std::string& mla) {
  uint64_t h = fnv1a(mla);
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_regular_file(model, ec)) files.push_back(model);  // a GGUF file
  for (const auto& e : fs::directory_iterator(model, ec))
    if (e.path().extension() == ".safetensors" || e.path().filename() == "config.json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<char> buf(64 * 1024);
  for (const fs::path& p : files) {
    h = fnv1a(p.filename().string(), h);
    const uint64_t size = fs::file_size(p, ec);
    h = fnv1a(&size, sizeof size, h);
    std::ifstream in(p, std::ios::binary);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = fnv1a(buf.data(), static_cast<size_t>(in.gcount()), h);
    if (size > buf.size()) {
      in.clear();
      in.seekg(static_cast<std::streamoff>(size - buf.size()));
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      h = fnv1a(buf.data(), static_cast<size_t>(in.gcount()), h);
    }
  }
  return h;
}

}  // namespace

void register_serve(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("serve", "serve the DeepSeek/OpenAI chat API over HTTP");
  struct Options {
    ModelOptions model;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string api_key_file;
    std::string tokenizer;
    std::string chat_template_file;
    std::string model_name;
    bool log_content = false;
    bool quiet = false;
    std::vector<std::string> cors;
    std::string cache_dir;
    int64_t cache_ram_mb = 1024, cache_disk_mb = 8192;
    int64_t max_sequences = 8, max_queue = 16, max_batch_tokens = 512, max_context = 0;
    int64_t max_tokens = 8192;
    int64_t max_body_bytes = 4 << 20, max_header_bytes = 16 << 10;
    int64_t max_messages = 1024;
    int64_t max_connections = 512;
    int64_t rpm = 600, tpm = 1'000'000;
    double header_timeout = 10, body_timeout = 30, idle_timeout = 30, write_timeout = 30;
  };
  auto o = std::make_shared<Options>();
  o->model.pack_for_batches = true;  // a server decodes its clients together
  add_model_options(*cmd, o->model);
  cmd->add_option("--host", o->host, "address to listen on (default 127.0.0.1; others need --api-key-file)");
  cmd->add_option("--port", o->port, "port (default 8080; 0: any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key-file", o->api_key_file, "file with one API key per line; requests must send one");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "take the tokenizer and chat template from this model folder or .gguf instead of MODEL");
  cmd->add_option("--chat-template-file", o->chat_template_file,
                  "Jinja chat template to use instead of the model's (needed for chat when the model has none)");
  cmd->add_option("--model-name", o->model_name, "the model id /v1/models lists (default: the folder's name)");
  cmd->add_flag("--log-content", o->log_content, "write prompts and answers to the log (never by default)");
  cmd->add_flag("--quiet", o->quiet, "no line per request in the log");
  cmd->add_option("--cors-origin", o->cors, "allow browser requests from this origin ('*': any); repeatable");
  cmd->add_option("--cache-dir", o->cache_dir, "keep the prefix cache on disk here too (survives restarts)");
  cmd->add_option("--cache-ram-mb", o->cache_ram_mb, "prefix cache size in RAM")->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--cache-disk-mb", o->cache_disk_mb, "prefix cache size on disk")->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--max-sequences", o->max_sequences, "requests decoding at once")->check(CLI::Range(1, 1024));
  cmd->add_option("--max-queue", o->max_queue, "requests waiting for a slot; more get 503")->check(CLI::Range(0, 100000));
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens, "tokens per forward pass")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-context", o->max_context, "prompt + answer tokens per request (default: the model's, at most 65536)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--max-tokens", o->max_tokens, "largest max_tokens accepted")->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--max-body-bytes", o->max_body_bytes, "largest request body")->check(CLI::Range(int64_t{1024}, int64_t{1} << 30));
  cmd->add_option("--max-header-bytes", o->max_header_bytes, "largest request head")->check(CLI::Range(int64_t{1024}, int64_t{1} << 20));
  cmd->add_option("--max-messages", o->max_messages, "most messages per request")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--max-connections", o->max_connections, "open connections; more get 503")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--rate-limit-rpm", o->rpm, "requests per minute per key (0: no limit)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--rate-limit-tpm", o->tpm, "tokens per minute per key (0: no limit)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--header-timeout", o->header_timeout, "seconds a request head may take to arrive")->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--body-timeout", o->body_timeout, "seconds a request body may take to arrive")->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--idle-timeout", o->idle_timeout, "seconds an idle kept-alive connection stays open")->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--write-timeout", o->write_timeout, "seconds a write may wait for a slow reader")->check(CLI::Range(0.05, 3600.0));

  cmd->callback([o, &exit_code] {
    // Secure by default: what anyone on the network can reach needs keys.
    server::ApiKeys keys;
    if (!o->api_key_file.empty()) {
      auto k = server::ApiKeys::from_file(o->api_key_file);
      if (!k) {
        exit_code = report(k.error());
        return;
      }
      keys = std::move(k.value());
    }
    if (keys.empty() && !server::is_loopback_host(o->host)) {
      exit_code = report(Error{"--host " + o->host +
                               " is reachable from other machines: refusing to serve it without --api-key-file"});
      return;
    }
    // Signals are taken by sigwait below, in this thread only.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    const std::string text_source = o->tokenizer.empty() ? o->model.model_path : o->tokenizer;
    auto text_loaded = server::load_text_model(text_source, o->chat_template_file);
    if (!text_loaded) {
      exit_code = report(text_loaded.error());
      return;
    }
    std::unique_ptr<server::TextModel>& text = text_loaded->text;
    if (text_loaded->chat_template_origin.empty())
      std::fprintf(stderr, "dseek serve: warning: %s\n", text->no_chat_template_reason().c_str());
    else if (!o->quiet)
      std::fprintf(stderr, "dseek serve: chat template from %s\n", text_loaded->chat_template_origin.c_str());
    auto loaded = load(o->model);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    Model& model = *loaded->model;
    if (!o->quiet && model.packed_weight_bytes() > 0)
      std::fprintf(stderr,
                   "dseek serve: %.2f GiB of weights packed for batched decode (limit: --pack-weights-gib; "
                   "none: --no-pack-weights)\n",
                   static_cast<double>(model.packed_weight_bytes()) / (1 << 30));
    if (text->vocab_size() > model.config().vocab_size) {
      exit_code = report(Error{"the tokenizer has " + std::to_string(text->vocab_size()) +
                               " tokens but the model only " + std::to_string(model.config().vocab_size)});
      return;
    }

    PrefixCacheOptions cache_options;
    cache_options.ram_bytes = o->cache_ram_mb << 20;
    cache_options.disk_dir = o->cache_dir;
    cache_options.disk_bytes = o->cache_disk_mb << 20;
    PrefixCache cache(model.kv_cache_shape(), model_fingerprint(o->model.model_path, o->model.mla), cache_options);
    if (Status s = cache.open(); !s) {
      exit_code = report(s.error());
      return;
    }

    SchedulerOptions so;
    so.max_sequences = o->max_sequences;
    so.max_queue = o->max_queue;
    so.max_batch_tokens = o->max_batch_tokens;
    so.max_context = o->max_context > 0 ? o->max_context : std::min<int64_t>(model.config().max_position_embeddings, 65536);
    so.prefix_cache = &cache;
    Scheduler scheduler(model, so);

    server::ApiServerOptions ao;
    ao.http.host = o->host;
    ao.http.port = o->port;
    ao.http.limits.max_body_bytes = static_cast<size_t>(o->max_body_bytes);
    ao.http.limits.max_head_bytes = static_cast<size_t>(o->max_header_bytes);
    ao.http.max_connections = static_cast<int>(o->max_connections);
    // A worker per request that can be generating or queued, and some for quick ones.
    ao.http.workers = static_cast<int>(std::min<int64_t>(o->max_sequences + o->max_queue + 16, 1024));
    auto ms = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
    ao.http.head_timeout = ms(o->header_timeout);
    ao.http.body_timeout = ms(o->body_timeout);
    ao.http.idle_timeout = ms(o->idle_timeout);
    ao.http.write_timeout = ms(o->write_timeout);
    ao.limits.max_tokens = o->max_tokens;
    ao.limits.default_max_tokens = std::min<int64_t>(4096, o->max_tokens);
    ao.limits.max_messages = static_cast<size_t>(o->max_messages);
    ao.model_id = o->model_name.empty() ? fs::path(o->model.model_path).stem().string() : o->model_name;
    if (ao.model_id.empty()) ao.model_id = fs::path(o->model.model_path).parent_path().filename().string();
    ao.log_content = o->log_content;
    ao.log_requests = !o->quiet;
    ao.cors_origins = o->cors;
    ao.requests_per_minute = o->rpm;
    ao.tokens_per_minute = o->tpm;
    server::ApiServer api(scheduler, *text, std::move(keys), ao, &cache);
    if (Status s = api.start(); !s) {
      exit_code = report(s.error());
      return;
    }
    std::fprintf(stderr, "dseek serve: listening on http://%s:%d (model %s%s)\n",
                 o->host.find(':') != std::string::npos ? ("[" + o->host + "]").c_str() : o->host.c_str(), api.port(),
                 ao.model_id.c_str(), o->api_key_file.empty() ? "" : ", API keys required");
    std::fflush(stderr);
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "dseek serve: stopping (signal %d)\n", sig);
    api.stop();
    cache.flush();
  });
}

}  // namespace dseek::cli
