// Serving benchmark: dseek serve against llama.cpp's llama-server (-np 8) in
// the same run, on the same GGUF file, with the same threads.
//  - aggregate generation tokens/s with 1, 4 and 8 concurrent streaming
//    clients, beside the bandwidth bound of each batch size: per decode step
//    the weights are read once, i.e. every tensor of the file at its real
//    type's bytes (Q4_0: 18 bytes per 32 weights, Q8_0: 34 per 32, ...) except
//    the routed experts, of which each distinct expert the batch routes to is
//    read once (the expected count for uniform routing), and b embedding rows;
//    the KV cache is left out (small at these context lengths);
//  - time to first token of a ~2,000-token prompt whose prefix is cached,
//    against the same prompt uncached.
// The requests are raw completions (/v1/completions), the same text for both
// servers: the benchmark files carry no chat template (dseek would refuse
// chat, llama-server would fall back to ChatML), and the template is not
// what is measured.
// Not a test: run it by hand on a quiet machine (bench/run_serve_bench.sh
// finds the model and builds what is missing first).
//
// node bench/serve_bench.mjs --model FILE.gguf --dseek BIN --llama-server BIN --bandwidth GBPS
//      [--triad BIN] [--triad-mib 512]
//      [--servers dseek,llama-server] [--threads 2] [--clients 1,4,8] [--tokens 64] [--prompt-tokens 2000]
//      [--dseek-args "..."] [--llama-args "..."] [--out results.json]
// --bandwidth is a read bandwidth measured before the run; with --triad
// (dseek_triad) the read bandwidth is measured again before and after each
// server's throughput runs, and the bound uses the median of all readings:
// on a VM a single reading can be far from what the run saw (42 vs 56 GB/s
// minutes apart on the machine these figures come from).
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const model = arg("--model");
const threads = Number(arg("--threads", "2"));
const clientCounts = arg("--clients", "1,4,8").split(",").map(Number);
const tokens = Number(arg("--tokens", "64"));
const promptTokens = Number(arg("--prompt-tokens", "2000"));
const bandwidthReadings = [Number(arg("--bandwidth")) * 1e9];
const serverNames = arg("--servers", "dseek,llama-server").split(",").filter(Boolean);
if (!model || !bandwidthReadings[0]) {
  console.error("usage: node bench/serve_bench.mjs --model FILE.gguf --dseek BIN --llama-server BIN --bandwidth GBPS [...]");
  process.exit(2);
}

// ---- The file's tensors and metadata (GGUF v2/v3 header) ----

// ggml type id -> [weights per block, bytes per block] (ggml.c's type traits).
const GGML_TYPES = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 30: [1, 2],
};

function readGguf(file) {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(64 << 20);  // far more than these headers need
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  let pos = 0;
  const need = (k) => { if (pos + k > n) throw new Error(`${file}: header larger than 64 MiB or truncated`); };
  const u32 = () => { need(4); const v = buf.readUInt32LE(pos); pos += 4; return v; };
  const u64 = () => { need(8); const v = Number(buf.readBigUInt64LE(pos)); pos += 8; return v; };
  const str = () => { const len = u64(); need(len); const s = buf.toString("utf8", pos, pos + len); pos += len; return s; };
  const sizes = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const value = (t) => {
    switch (t) {
      case 4: return u32();
      case 5: { need(4); const v = buf.readInt32LE(pos); pos += 4; return v; }
      case 10: return u64();
      case 8: return str();
      case 9: {
        const inner = u32(), count = u64();
        if (inner === 8) for (let i = 0; i < count; i++) str();
        else { need(count * sizes[inner]); pos += count * sizes[inner]; }
        return { array: count };
      }
      default: { need(sizes[t]); pos += sizes[t]; return null; }
    }
  };
  if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${file}: not a GGUF file`);
  pos = 4;
  u32();  // version
  const nTensors = u64(), nKv = u64();
  const meta = {};
  for (let i = 0; i < nKv; i++) {
    const key = str();
    meta[key] = value(u32());
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const dims = Array.from({ length: u32() }, u64);  // innermost first
    const type = u32();
    u64();  // offset
    const t = GGML_TYPES[type];
    if (!t) throw new Error(`${file}: tensor ${name} has ggml type ${type}, unknown to this script`);
    const elements = dims.reduce((a, d) => a * d, 1);
    tensors.push({ name, dims, type, bytes: (elements / t[0]) * t[1] });
  }
  return { meta, tensors };
}

const gguf = readGguf(model);
const arch = gguf.meta["general.architecture"];
const nExperts = gguf.meta[`${arch}.expert_count`] ?? 0;
const nUsed = gguf.meta[`${arch}.expert_used_count`] ?? 0;

// Bytes of weights one decode step of a batch of b sequences reads.
// Read bandwidth with dseek_triad now, when --triad names it.
function measureBandwidth() {
  const triad = arg("--triad");
  if (!triad) return;
  const out = execFileSync(triad, ["-t", String(threads), "--mib", arg("--triad-mib", "512"), "--json"], { encoding: "utf8" });
  bandwidthReadings.push(JSON.parse(out).read_gbs * 1e9);
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function bandwidthBound(b) {
  const bandwidth = median(bandwidthReadings);
  let dense = 0, perExpert = 0;
  for (const t of gguf.tensors) {
    if (t.name === "token_embd.weight") dense += (t.bytes / t.dims[t.dims.length - 1]) * b;  // b rows
    else if (t.name.includes("_exps.")) perExpert += t.bytes / t.dims[t.dims.length - 1];  // outermost: experts
    else dense += t.bytes;
  }
  const distinct = nExperts ? nExperts * (1 - Math.pow(1 - nUsed / nExperts, b)) : 0;
  const bytes = dense + distinct * perExpert;  // perExpert sums over all MoE layers
  return { batch: b, distinct_experts_per_layer: distinct, bytes_per_step: bytes, bound_tokens_per_s: (b * bandwidth) / bytes };
}

// ---- Servers ----

function start(cmd, args, readyRe) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      log += d.toString();
      const m = log.match(readyRe);
      if (m) resolve({ proc, port: Number(m[1] ?? m[2]), log: () => log });
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (c) => reject(new Error(`${cmd} exited ${c}:\n${log.slice(-2000)}`)));
    // unref: a started server must not keep node waiting for this timer.
    setTimeout(() => reject(new Error(`${cmd} did not start:\n${log.slice(-2000)}`)), 600000).unref();
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

// One streaming completion; returns completion tokens, time to first token, end time.
async function stream(url, prompt, maxTokens, extra = {}) {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-chat", prompt, max_tokens: maxTokens, temperature: 0, stream: true,
      stream_options: { include_usage: true }, ...extra }),
  });
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  const decoder = new TextDecoder();
  let buf = "", first = null, chunks = 0, counted = null;
  for await (const part of r.body) {
    buf += decoder.decode(part, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const j = JSON.parse(event.slice(6));
      if (j.usage?.completion_tokens != null) counted = j.usage.completion_tokens;
      else if (j.timings?.predicted_n != null) counted = j.timings.predicted_n;  // llama-server
      if (j.choices?.[0]?.text) {
        chunks++;
        if (first === null) first = performance.now();
      }
    }
  }
  return { tokens: counted ?? chunks, ttft: (first ?? performance.now()) - t0, end: performance.now() };
}

async function throughput(url, clients, extra) {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: clients }, (_, i) =>
    stream(url, `Client ${i}: write a long story about the number ${i * 7919}.`, tokens, extra)));
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

// Tokens of a text with the file's own tokenizer (dseek tokenize reads GGUF metadata).
function countTokens(text) {
  const file = path.join(os.tmpdir(), `serve-bench-${process.pid}.txt`);
  fs.writeFileSync(file, text);
  const ids = execFileSync(arg("--dseek"), ["tokenize", model, "--file", file, "--no-special"], { encoding: "utf8" });
  fs.unlinkSync(file);
  return ids.trim().split(",").length;
}

// A reference text of about promptTokens tokens (same for both servers).
const ttftWords = (() => {
  const per = countTokens(longPrompt(1000)) / 1000;
  return Math.max(1, Math.round(promptTokens / per));
})();

async function ttft(url, extra) {
  const prefix = `Reference material ${Date.now()}:\n` + longPrompt(ttftWords);
  const uncached = await stream(url, prefix + "\nQuestion one?", 1, extra);
  const cached = await stream(url, prefix + "\nQuestion two?", 1, extra);
  return { prompt_tokens: countTokens(prefix + "\nQuestion one?"), uncached_ms: uncached.ttft, cached_ms: cached.ttft,
    ratio: cached.ttft / uncached.ttft };
}

const results = {
  model, file_bytes: fs.statSync(model).size, threads, tokens_per_client: tokens,
  load_before: fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3), servers: {},
};
const split = (s) => (s ?? "").split(" ").filter(Boolean);
for (const name of serverNames) {
  const bin = arg(name === "dseek" ? "--dseek" : "--llama-server");
  if (!bin) continue;
  const s = name === "dseek"
    ? await start(bin, ["serve", model, "--port", "0", "--threads", String(threads), "--quiet", "--rate-limit-rpm", "0",
      "--rate-limit-tpm", "0", "--max-sequences", "8", ...split(arg("--dseek-args"))], /listening on http:\/\/[^:]+:(\d+)/)
    : await start(bin, ["-m", model, "--port", String(18000 + Math.floor(Math.random() * 1000)), "-np", "8", "-t", String(threads),
      "-c", String(8 * 4096), "--host", "127.0.0.1", ...split(arg("--llama-args"))],
      /listening on http:\/\/[^:]+:(\d+)|server is listening on http:\/\/[^:]+:(\d+)/);
  const url = `http://127.0.0.1:${s.port}`;
  await waitHealthy(url);
  // llama-server: never stop early, and keep each slot's prompt for the cached TTFT.
  const extra = name === "llama-server" ? { ignore_eos: true, cache_prompt: true } : {};
  const r = { throughput: [], ttft: null };
  await throughput(url, 1, extra);  // warm-up: pages the weights in
  measureBandwidth();
  for (const c of clientCounts) {
    r.throughput.push(await throughput(url, c, extra));
    console.error(`${name}: ${c} clients: ${r.throughput.at(-1).tokens_per_s.toFixed(2)} tokens/s`);
  }
  measureBandwidth();
  r.ttft = await ttft(url, extra);
  results.servers[name] = r;
  s.proc.kill("SIGTERM");
  await new Promise((res) => s.proc.on("exit", res));
}
results.bandwidth_readings_gbps = bandwidthReadings.map((b) => b / 1e9);
results.bandwidth_gbps = median(bandwidthReadings) / 1e9;
results.bound = clientCounts.map(bandwidthBound);
results.load_after = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3);
if (arg("--out")) fs.writeFileSync(arg("--out"), JSON.stringify(results, null, 2));

console.log(JSON.stringify(results, null, 2));
console.log(`\n${path.basename(model)} (${(results.file_bytes / 1e9).toFixed(2)} GB), ${threads} threads, ` +
  `${tokens} tokens per client, read bandwidth ${results.bandwidth_gbps.toFixed(2)} GB/s ` +
  `(median of ${results.bandwidth_readings_gbps.map((b) => b.toFixed(1)).join(", ")}), ` +
  `load average before ${results.load_before.join(" ")}, after ${results.load_after.join(" ")}`);
console.log("\n| clients | dseek tok/s | llama-server tok/s | dseek / llama-server | bandwidth bound tok/s (GB/step) | dseek / bound |");
console.log("|---|---|---|---|---|---|");
clientCounts.forEach((c, i) => {
  const d = results.servers.dseek?.throughput[i], l = results.servers["llama-server"]?.throughput[i], b = results.bound[i];
  console.log(`| ${c} | ${d?.tokens_per_s.toFixed(2) ?? "-"} | ${l?.tokens_per_s.toFixed(2) ?? "-"} | ` +
    `${d && l ? (d.tokens_per_s / l.tokens_per_s).toFixed(2) : "-"} | ${b.bound_tokens_per_s.toFixed(2)} ` +
    `(${(b.bytes_per_step / 1e9).toFixed(2)}) | ${d ? ((100 * d.tokens_per_s) / b.bound_tokens_per_s).toFixed(0) + "%" : "-"} |`);
});
for (const [name, r] of Object.entries(results.servers))
  console.log(`TTFT ${name}: ${r.ttft.prompt_tokens} tokens, uncached ${r.ttft.uncached_ms.toFixed(0)} ms, ` +
    `cached prefix ${r.ttft.cached_ms.toFixed(0)} ms (${(100 * r.ttft.ratio).toFixed(1)}%)`);
