#!/usr/bin/env node
// llama.cpp's logits for GGUF files, through node-llama-cpp (the npm package
// bundles llama.cpp and ships prebuilt binaries; package.json pins the
// version). The test suite uses it to check that files written by
// `dseek convert` load in llama.cpp and give the logits dseek computes.
//
//   node tools/llamacpp/logits.mjs MODEL.gguf 1,2,3 OUT.f32 [INFO.json]
//   node tools/llamacpp/logits.mjs --jobs JOBS.json [INFO.json]
//       JOBS.json: [{"model": "...gguf", "tokens": [1, 2, 3], "out": "...f32"}, ...]
//
// OUT.f32: raw little-endian float32, n_vocab values per position, every
// position (the format of `dseek logits --all-positions --out`). Settings
// follow tests/data/llamacpp/README.md: CPU only, 2 threads, F32 KV cache,
// flash attention off, all tokens in one batch. INFO.json records which
// llama.cpp build ran.
import { readFileSync, writeFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = process.argv.slice(2);
let jobs, infoPath;
if (args[0] === "--jobs" && args[1]) {
  jobs = JSON.parse(readFileSync(args[1], "utf8"));
  infoPath = args[2];
} else if (args.length >= 3) {
  jobs = [{ model: args[0], tokens: args[1].split(",").map((t) => Number.parseInt(t, 10)), out: args[2] }];
  infoPath = args[3];
} else {
  console.error("usage: node tools/llamacpp/logits.mjs MODEL.gguf 1,2,3 OUT.f32 [INFO.json]\n" +
                "       node tools/llamacpp/logits.mjs --jobs JOBS.json [INFO.json]");
  process.exit(2);
}

// build: "never": the prebuilt binaries (or a build made earlier with
// `npx --no node-llama-cpp source build`); never compile during a test.
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

async function logitsOf({ model: modelPath, tokens, out: outPath }) {
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: Math.max(256, tokens.length + 16),
    batchSize: tokens.length,
    threads: 2,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  });
  const sequence = context.getSequence();
  const results = await sequence.controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]));
  // llama.cpp returns one raw logit per vocabulary entry: the map's size is n_vocab.
  const vocab = results[0]?.next?.logits?.size ?? 0;
  const out = new Float32Array(tokens.length * vocab);
  results.forEach((r, i) => {
    const logits = r?.next?.logits;
    if (!logits || vocab === 0 || logits.size !== vocab)
      throw new Error(`${modelPath}: position ${i}: expected ${vocab} logits, got ${logits?.size}`);
    for (const [token, value] of logits) out[i * vocab + token] = value;
  });
  writeFileSync(outPath, Buffer.from(out.buffer));
  await context.dispose();
  await model.dispose();
  return vocab;
}

for (const job of jobs) await logitsOf(job);
if (infoPath) {
  writeFileSync(infoPath, JSON.stringify({
    package: "node-llama-cpp@" + JSON.parse(readFileSync(new URL("../../node_modules/node-llama-cpp/package.json", import.meta.url))).version,
    llamaCppRelease: llama.llamaCppRelease,
    buildType: llama.buildType,
    gpu: llama.gpu,
    systemInfo: llama.systemInfo,
  }, null, 2));
}
await llama.dispose();
