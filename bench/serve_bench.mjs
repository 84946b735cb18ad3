// Serving benchmark: dseek serve against llama.cpp's llama-server (-np 8) in
// the same run, on the same model, with the same threads.
//  - aggregate generation tokens/s with 1, 4 and 8 concurrent streaming
//    clients, beside the bandwidth bound of each batch size (per decode step
//    the weights are read once: the dense part plus every distinct routed
//    expert the batch uses, expected for uniform routing);
//  - time to first token of a ~2,000-token prompt whose prefix is cached,
//    against the same prompt uncached.
// Not a test: run it by hand on a quiet machine (bench/run_serve_bench.sh
// makes the model and builds llama-server first).
//
// node bench/serve_bench.mjs --dseek BIN --dseek-model PATH [--dseek-args "..."]
//      [--llama-server BIN --llama-model FILE.gguf] --config config.json
//      --weight-bytes 2 --bandwidth GBPS [--threads 2] [--tokens 64] [--prompt-tokens 2000]
import { spawn } from "node:child_process";
import fs from "node:fs";

const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const threads = Number(arg("--threads", "2"));
const tokens = Number(arg("--tokens", "64"));
const promptTokens = Number(arg("--prompt-tokens", "2000"));
const config = JSON.parse(fs.readFileSync(arg("--config"), "utf8"));
const weightBytes = Number(arg("--weight-bytes", "2"));
const bandwidth = Number(arg("--bandwidth")) * 1e9;

function start(cmd, args, readyRe) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      log += d.toString();
      const m = log.match(readyRe);
      if (m) resolve({ proc, port: Number(m[1]), log: () => log });
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (c) => reject(new Error(`${cmd} exited ${c}:\n${log.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`${cmd} did not start:\n${log.slice(-2000)}`)), 600000);
  });
}

async function waitHealthy(url) {
  for (let i = 0; i < 1200; i++) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} never became healthy`);
}

// One streaming request; returns completion tokens, time to first token, end time.
async function stream(url, messages, maxTokens, extra = {}) {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-chat", messages, max_tokens: maxTokens, temperature: 0, stream: true,
      stream_options: { include_usage: true }, ...extra }),
  });
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  const decoder = new TextDecoder();
  let buf = "", first = null, chunks = 0, usage = null;
  for await (const part of r.body) {
    buf += decoder.decode(part, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const j = JSON.parse(event.slice(6));
      if (j.usage) usage = j.usage;
      const d = j.choices?.[0]?.delta;
      if (d && (d.content || d.reasoning_content)) {
        chunks++;
        if (first === null) first = performance.now();
      }
    }
  }
  return { tokens: usage?.completion_tokens ?? chunks, ttft: (first ?? performance.now()) - t0, end: performance.now() };
}

async function throughput(url, clients, extra) {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: clients }, (_, i) =>
    stream(url, [{ role: "user", content: `Client ${i}: write a long story about the number ${i * 7919}.` }], tokens, extra)));
  const seconds = (Math.max(...runs.map((r) => r.end)) - t0) / 1000;
  const total = runs.reduce((a, r) => a + r.tokens, 0);
  return { clients, tokens: total, seconds, tokens_per_s: total / seconds };
}

function longPrompt(words) {
  const vocab = ["river", "stone", "light", "market", "window", "orbit", "garden", "signal", "paper", "engine", "harbor", "cloud"];
  let s = "";
  for (let i = 0; i < words; i++) s += vocab[(i * 7 + (i >> 3)) % vocab.length] + (i % 17 === 16 ? ".\n" : " ");
  return s;
}

async function ttft(url, extra) {
  // Calibrate the words for about promptTokens tokens.
  const calib = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-chat", messages: [{ role: "user", content: longPrompt(1000) }], max_tokens: 1, ...extra }) });
  const per = (await calib.json()).usage.prompt_tokens / 1000;
  const words = Math.round(promptTokens / per);
  const system = `Reference material ${Date.now()}:\n` + longPrompt(words);
  const uncached = await stream(url, [{ role: "system", content: system }, { role: "user", content: "Question one?" }], 1, extra);
  const cached = await stream(url, [{ role: "system", content: system }, { role: "user", content: "Question two?" }], 1, extra);
  return { prompt_tokens: Math.round(words * per), uncached_ms: uncached.ttft, cached_ms: cached.ttft, ratio: cached.ttft / uncached.ttft };
}

// Bytes read per decode step for a batch: the dense part once, and each
// distinct routed expert once (expected count for uniform routing).
function bandwidthBound(b) {
  const c = config;
  const H = c.hidden_size, heads = c.num_attention_heads;
  const qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
  const attn = (c.q_lora_rank ? H * c.q_lora_rank + c.q_lora_rank * heads * qk : H * heads * qk) +
    H * (c.kv_lora_rank + c.qk_rope_head_dim) + c.kv_lora_rank * heads * (c.qk_nope_head_dim + c.v_head_dim) + heads * c.v_head_dim * H;
  const dense = c.first_k_dense_replace * 3 * H * c.intermediate_size;
  const moeLayers = c.num_hidden_layers - c.first_k_dense_replace;
  const shared = moeLayers * (3 * H * c.moe_intermediate_size * c.n_shared_experts + H * c.n_routed_experts);
  const head = c.vocab_size * H;
  const expert = 3 * H * c.moe_intermediate_size;
  const n = c.n_routed_experts, k = c.num_experts_per_tok;
  const distinct = n * (1 - Math.pow(1 - k / n, b));
  const bytes = (c.num_hidden_layers * attn + dense + shared + head + moeLayers * distinct * expert) * weightBytes;
  return { batch: b, distinct_experts_per_layer: distinct, bytes_per_step: bytes, bound_tokens_per_s: (b * bandwidth) / bytes };
}

const results = { threads, tokens_per_client: tokens, bandwidth_gbps: bandwidth / 1e9, servers: {} };
const servers = [["dseek", arg("--dseek"), arg("--dseek-model")], ["llama-server", arg("--llama-server"), arg("--llama-model")]];
for (const [name, bin, model] of servers) {
  if (!bin || !model) continue;
  const s = name === "dseek"
    ? await start(bin, ["serve", model, "--port", "0", "--threads", String(threads), "--quiet", "--rate-limit-rpm", "0",
      "--rate-limit-tpm", "0", "--max-sequences", "8", ...(arg("--dseek-args", "").split(" ").filter(Boolean))], /listening on http:\/\/[^:]+:(\d+)/)
    : await start(bin, ["-m", model, "--port", String(18000 + Math.floor(Math.random() * 1000)), "-np", "8", "-t", String(threads),
      "-c", String(8 * 4096), "--host", "127.0.0.1"], /listening on http:\/\/[^:]+:(\d+)|server is listening on http:\/\/[^:]+:(\d+)/);
  const url = `http://127.0.0.1:${s.port}`;
  await waitHealthy(url);
  const extra = name === "llama-server" ? { ignore_eos: true } : {};
  const r = { throughput: [], ttft: null };
  await throughput(url, 1, extra);  // warm-up
  for (const c of [1, 4, 8]) r.throughput.push(await throughput(url, c, extra));
  r.ttft = await ttft(url, extra);
  results.servers[name] = r;
  s.proc.kill("SIGTERM");
  await new Promise((res) => s.proc.on("exit", res));
}
results.bound = [1, 4, 8].map(bandwidthBound);

console.log(JSON.stringify(results, null, 2));
console.log("\n| clients | dseek tok/s | llama-server tok/s | ratio | bandwidth bound tok/s | dseek / bound |");
console.log("|---|---|---|---|---|---|");
for (let i = 0; i < 3; i++) {
  const d = results.servers.dseek?.throughput[i], l = results.servers["llama-server"]?.throughput[i], b = results.bound[i];
  console.log(`| ${[1, 4, 8][i]} | ${d?.tokens_per_s.toFixed(2) ?? "-"} | ${l?.tokens_per_s.toFixed(2) ?? "-"} | ${d && l ? (d.tokens_per_s / l.tokens_per_s).toFixed(2) : "-"} | ${b.bound_tokens_per_s.toFixed(2)} | ${d ? ((100 * d.tokens_per_s) / b.bound_tokens_per_s).toFixed(0) + "%" : "-"} |`);
}
for (const [name, r] of Object.entries(results.servers))
  console.log(`TTFT ${name}: ${r.ttft.prompt_tokens} tokens, uncached ${r.ttft.uncached_ms.toFixed(0)} ms, cached prefix ${r.ttft.cached_ms.toFixed(0)} ms (${(100 * r.ttft.ratio).toFixed(1)}%)`);
