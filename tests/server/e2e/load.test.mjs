// Load and hostile clients, bounded in count and time: 200 concurrent clients
// against a queue of 16 (every request answered 200 or 429/503, none hung,
// the server serves afterwards), and 1,000 malformed or hostile requests
// (bad JSON, wrong types, huge numbers, invalid UTF-8, truncated bodies,
// slowloris, oversized and smuggling-shaped requests), each answered with
// its 4xx (or closed, for a client that hangs up), and no crash.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { models, startServer, rawRequest } from "./harness.mjs";

const m = models();
let server;

before(async () => {
  server = await startServer(m.chat, [
    "--max-queue", "16", "--max-sequences", "4", "--rate-limit-rpm", "0", "--rate-limit-tpm", "0",
    "--header-timeout", "1", "--body-timeout", "1", "--max-body-bytes", "65536", "--max-header-bytes", "8192",
    "--max-messages", "64", "--quiet",
  ]);
});

after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0, `dseek serve exited with ${JSON.stringify(r)}:\n${server.log().slice(-3000)}`);
});

const chatBody = (content, extra = {}) => JSON.stringify({ model: "deepseek-chat", messages: [{ role: "user", content }], ...extra });

async function metric(name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) if (line.startsWith(name)) total += Number(line.split(" ").at(-1));
  return total;
}

test("200 concurrent clients against a queue of 16: all answered, none hung", { timeout: 300000 }, async () => {
  const started = Date.now();
  const one = async (i) => {
    const t0 = Date.now();
    try {
      const r = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chatBody(`client ${i}`, { max_tokens: 8, temperature: 0 }),
        signal: AbortSignal.timeout(180000),
      });
      const body = await r.json();
      if (r.status === 200) assert.ok(body.choices[0].message.content.length > 0);
      else assert.equal(typeof body.error.message, "string");
      return { status: r.status, ms: Date.now() - t0 };
    } catch (e) {
      return { status: `error ${e.name}: ${e.message}`, ms: Date.now() - t0 };
    }
  };
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
  const counts = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  for (const r of results) assert.ok([200, 429, 503].includes(r.status), JSON.stringify(counts));
  assert.ok(counts[200] >= 16, `at least a queue-full of requests was served: ${JSON.stringify(counts)}`);
  assert.ok((counts[503] ?? 0) + (counts[429] ?? 0) > 0, JSON.stringify(counts));
  // Refusals are immediate: none waited for a generation to finish.
  const refused = results.filter((r) => r.status === 503).map((r) => r.ms).sort((a, b) => a - b);
  const served = results.filter((r) => r.status === 200).map((r) => r.ms).sort((a, b) => a - b);
  if (refused.length && served.length) assert.ok(refused[Math.floor(refused.length / 2)] <= served.at(-1), "503s come at once");
  console.log(`200 clients: ${JSON.stringify(counts)} in ${Date.now() - started} ms; median 503 ${refused[Math.floor(refused.length / 2)]} ms`);
  // The server still serves.
  const after = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: chatBody("still there?", { temperature: 0 }) });
  assert.equal(after.status, 200);
  assert.equal((await after.json()).choices[0].message.content, m.program.chat.text);
});

// Hostile requests: [name, bytes, expected status (0: the connection just closes), options].
function hostileCases() {
  const post = (body, { path = "/v1/chat/completions", headers = "", length = Buffer.byteLength(body) } = {}) =>
    Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n${headers}\r\n`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
  const cases = [
    ["bad JSON", () => post("{\"model\": \"deepseek-chat\", \"messages\": [" + "x".repeat(Math.floor(Math.random() * 50))), 400],
    ["not an object", () => post("[1,2,3]"), 400],
    ["empty body", () => post(""), 400],
    ["trailing garbage", () => post(chatBody("hi") + "}}"), 400],
    ["wrong type: messages", () => post(JSON.stringify({ model: "deepseek-chat", messages: { role: "user" } })), 400],
    ["wrong type: temperature", () => post(chatBody("hi", { temperature: "hot" })), 400],
    ["wrong type: stream", () => post(chatBody("hi", { stream: "yes" })), 400],
    ["wrong type: content", () => post(JSON.stringify({ model: "deepseek-chat", messages: [{ role: "user", content: 42 }] })), 400],
    ["huge number: max_tokens", () => post(chatBody("hi", { max_tokens: 1e300 })), 422],
    ["huge integer", () => post(chatBody("hi").replace(/}$/, ",\"max_tokens\":123456789012345678901234567890}")), 422],
    ["overflowing number", () => post(chatBody("hi").replace(/}$/, ",\"temperature\":1e400}")), 400],
    ["negative max_tokens", () => post(chatBody("hi", { max_tokens: -5 })), 422],
    ["temperature out of range", () => post(chatBody("hi", { temperature: 1e308 })), 422],
    ["n = 2", () => post(chatBody("hi", { n: 2 })), 422],
    ["17 stop strings", () => post(chatBody("hi", { stop: Array.from({ length: 17 }, (_, i) => `s${i}`) })), 422],
    ["too many messages", () => post(JSON.stringify({ model: "deepseek-chat", messages: Array(65).fill({ role: "user", content: "a" }) })), 422],
    ["unknown role", () => post(JSON.stringify({ model: "deepseek-chat", messages: [{ role: "root", content: "a" }] })), 422],
    ["invalid UTF-8", () => post(Buffer.concat([Buffer.from('{"model":"deepseek-chat","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('"}]}')])), 400],
    ["deep nesting", () => post("[".repeat(100000) + "]".repeat(100000)), 413],
    ["deep nesting, small", () => post("{\"a\":" + "[".repeat(500) + "]".repeat(500) + "}"), 400],
    ["oversized body", () => post("x".repeat(70000)), 413],
    ["oversized Content-Length", () => post("{}", { length: 10_000_000 }), 413],
    ["truncated body", () => post("{\"model\":\"deepseek-chat\"", { length: 500 }), 408],
    ["truncated body, client hangs up", () => post("{\"model\":", { length: 500 }), 0, { halfClose: true }],
    ["smuggling: CL + TE", () => Buffer.from("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400],
    ["two lengths", () => Buffer.from("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"), 400],
    ["bad chunk", () => Buffer.from("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400],
    ["oversized header", () => Buffer.from(`GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(9000)}\r\n\r\n`), 431],
    ["many headers", () => Buffer.from(`GET /health HTTP/1.1\r\n${Array.from({ length: 100 }, (_, i) => `X-${i}: v`).join("\r\n")}\r\n\r\n`), 431],
    ["long URL", () => Buffer.from(`GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`), 414],
    ["bad request line", () => Buffer.from("HELLO\r\n\r\n"), 400],
    ["HTTP/2 preface", () => Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 400],
    ["NUL in header", () => Buffer.from("GET /health HTTP/1.1\r\nX: a\0b\r\n\r\n"), 400],
    ["folded header", () => Buffer.from("GET /health HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), 400],
    ["binary garbage", () => Buffer.from(Array.from({ length: 200 }, () => Math.floor(Math.random() * 256)).map((b) => (b === 10 ? 11 : b))).toString("latin1") + "\r\n\r\n", 400],
    ["wrong method", () => Buffer.from("DELETE /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n\r\n"), 405],
    ["unknown path", () => Buffer.from("GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"), 404],
    ["unknown model", () => post(chatBody("hi", { model: "gpt-5" })), 422],
    ["reasoning_content sent back", () => post(JSON.stringify({ model: "deepseek-chat", messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b", reasoning_content: "c" }, { role: "user", content: "d" }] })), 400],
    ["tool_choice without tools", () => post(chatBody("hi", { tool_choice: "required" })), 422],
    ["FIM without prompt", () => post(JSON.stringify({ model: "deepseek-chat", suffix: "x" }), { path: "/beta/completions" }), 400],
  ];
  return cases;
}

async function pool(items, width, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

test("1,000 malformed or hostile requests: each refused with its 4xx, no crash", { timeout: 600000 }, async () => {
  const kinds = hostileCases();
  const items = Array.from({ length: 980 }, (_, i) => kinds[i % kinds.length]);
  const t0 = Date.now();
  const results = await pool(items, 24, async ([name, make, expected, options]) => {
    const bytes = make();
    const r = await rawRequest(server.port, bytes, { timeoutMs: 20000, ...(options ?? {}) });
    return { name, expected, status: r.status, text: r.text.slice(0, 300) };
  });
  // 20 slowloris clients dribbling their head, all at once: cut off at the 1 s deadline.
  const slow = await Promise.all(Array.from({ length: 20 }, () => new Promise((resolve) => {
    import("node:net").then(({ default: net }) => {
      const sock = net.connect(server.port, "127.0.0.1");
      let data = "";
      const started = Date.now();
      const drip = setInterval(() => sock.write("X"), 100);
      sock.on("connect", () => sock.write("GET /health HTTP/1.1\r\nX-Slow: "));
      sock.on("data", (d) => (data += d.toString()));
      const done = () => {
        clearInterval(drip);
        resolve({ status: Number((data.match(/^HTTP\/1\.1 (\d{3})/) ?? [])[1] ?? 0), ms: Date.now() - started });
      };
      sock.on("close", done);
      sock.on("error", () => {});
      setTimeout(() => sock.destroy(), 10000);
    });
  })));
  const wrong = results.filter((r) => r.status !== r.expected && !(r.expected === 0 && [0, 400, 408].includes(r.status)));
  assert.deepEqual(wrong.slice(0, 5).map((r) => `${r.name}: ${r.status} (expected ${r.expected})`), [], `${wrong.length} answered differently`);
  for (const s of slow) {
    assert.equal(s.status, 408);
    assert.ok(s.ms < 5000, `slowloris cut off after ${s.ms} ms`);
  }
  console.log(`1,000 hostile requests in ${Date.now() - t0} ms`);
  assert.ok(server.alive());
  const ok = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: chatBody("ok?", { temperature: 0 }) });
  assert.equal(ok.status, 200);
  assert.equal(await metric('dseek_http_requests_total{route="chat",code="500"}'), 0);
  assert.equal(await metric('dseek_http_requests_total{route="completions",code="500"}'), 0);
});
