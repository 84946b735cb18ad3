// The disk prefix cache against crashes and damage: kill -9 while blocks are
// being written, restart on the same folder, and every answer is what a
// server without any cache gives; entries damaged on disk (torn, truncated,
// flipped bytes, garbage) are detected and never served; what survived is
// served again after the restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { models, startServer, tempDir } from "./harness.mjs";

const m = models();

const prompt = (i) => `Document ${i}. ` + `This is line ${i} of a long shared context that the cache should keep. `.repeat(24);
const ask = (server, i) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model: "deepseek-chat", temperature: 1.0, seed: 11, max_tokens: 12, messages: [{ role: "user", content: prompt(i) }] }),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

function cacheFiles(dir) {
  const out = [];
  for (const sub of fs.readdirSync(dir)) {
    const d = path.join(dir, sub);
    if (!fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d)) out.push(path.join(d, f));
  }
  return out;
}

async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.split(" ")[1]) : NaN;
}

test("kill -9 during disk-cache writes, then damage: restart serves only sound entries", { timeout: 300000 }, async () => {
  const N = 12;
  // The reference: a server with no disk cache.
  const reference = await startServer(m.chat, ["--quiet"]);
  const expected = [];
  for (let i = 0; i < N; i++) expected.push((await ask(reference, i)).body.choices[0].message.content);
  assert.equal((await reference.stop()).code, 0);

  const dir = tempDir("cache");
  const first = await startServer(m.chat, ["--quiet", "--cache-dir", dir]);
  // Answers finish and their blocks are queued for disk; kill in the middle.
  const pending = [];
  for (let i = 0; i < N; i++) pending.push(ask(first, i).catch(() => null));
  await Promise.race([Promise.all(pending.slice(0, N / 2)), new Promise((r) => setTimeout(r, 20000))]);
  await first.kill9();
  await Promise.all(pending);
  const files = cacheFiles(dir);
  const kv = files.filter((f) => f.endsWith(".kv"));
  assert.ok(kv.length > 0, "some blocks reached the disk before the kill");

  // Damage on top of the crash: a torn (truncated) entry, flipped payload
  // bytes, a file of garbage, a leftover temporary file.
  fs.truncateSync(kv[0], Math.floor(fs.statSync(kv[0]).size / 2));
  const flipped = kv.slice(1, Math.max(2, Math.floor(kv.length / 2)));
  for (const f of flipped) {
    const fd = fs.openSync(f, "r+");
    const size = fs.fstatSync(fd).size;
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 5);
    b[0] ^= 0x5a;
    fs.writeSync(fd, b, 0, 1, size - 5);
    fs.closeSync(fd);
  }
  const sub = path.dirname(kv[0]);
  fs.writeFileSync(path.join(sub, "00000000deadbeef.kv"), Buffer.alloc(4096, 7));
  fs.writeFileSync(path.join(sub, "0000000000000001.kv.tmp"), Buffer.alloc(100, 1));

  const second = await startServer(m.chat, ["--quiet", "--cache-dir", dir]);
  try {
    let hits = 0;
    for (let i = 0; i < N; i++) {
      const r = await ask(second, i);
      assert.equal(r.status, 200);
      assert.equal(r.body.choices[0].message.content, expected[i], `prompt ${i}: answer differs from the no-cache server`);
      hits += r.body.usage.prompt_cache_hit_tokens;
    }
    assert.ok(hits > 0, "entries that survived the crash are served after the restart");
    const dropped = await metric(second, "dseek_prefix_cache_corrupt_dropped_total");
    assert.ok(dropped >= 2, `the truncated and the garbage entry are dropped at start (dropped: ${dropped})`);
    assert.ok(!fs.existsSync(path.join(sub, "0000000000000001.kv.tmp")), "unfinished writes are removed");
  } finally {
    assert.equal((await second.stop()).code, 0);
  }
});

test("a corrupted entry is detected and never served; the block is rebuilt", { timeout: 120000 }, async () => {
  const dir = tempDir("cache2");
  const a = await startServer(m.chat, ["--quiet", "--cache-dir", dir]);
  const fresh = await ask(a, 100);
  assert.equal(fresh.body.usage.prompt_cache_hit_tokens, 0);
  assert.equal((await a.stop()).code, 0);  // a graceful stop flushes the disk writes
  const kv = cacheFiles(dir).filter((f) => f.endsWith(".kv"));
  assert.ok(kv.length >= 3, `the prompt's blocks are on disk (${kv.length})`);
  // One flipped bit in the payload of every entry.
  for (const f of kv) {
    const buf = fs.readFileSync(f);
    buf[buf.length - 9] ^= 0x01;
    fs.writeFileSync(f, buf);
  }
  const b = await startServer(m.chat, ["--quiet", "--cache-dir", dir]);
  try {
    const again = await ask(b, 100);
    assert.equal(again.body.usage.prompt_cache_hit_tokens, 0, "no damaged block may be served");
    assert.equal(again.body.choices[0].message.content, fresh.body.choices[0].message.content);
    assert.ok((await metric(b, "dseek_prefix_cache_corrupt_dropped_total")) >= 1);
    // Each damaged block is dropped when first reached, and the recomputed
    // one is kept: the next request hits at least the first block again.
    const third = await ask(b, 100);
    assert.ok(third.body.usage.prompt_cache_hit_tokens >= 64, "rebuilt from the recomputed blocks");
    assert.equal(third.body.choices[0].message.content, fresh.body.choices[0].message.content);
  } finally {
    assert.equal((await b.stop()).code, 0);
  }
});
