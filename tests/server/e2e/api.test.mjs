// The API as DeepSeek's users reach it: a real `dseek serve` on a loopback
// port, driven by the official `openai` npm client and by Vercel's
// @ai-sdk/deepseek provider, on a tiny random-weight model that carries the
// real DeepSeek-V3 tokenizer and chat template (make_model.mjs). What the
// model says was programmed when it was made, so expected answers come from
// that program and the JavaScript tokenizer, never from dseek.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { createDeepSeek } from "@ai-sdk/deepseek";
import { generateText, streamText, jsonSchema, tool, stepCountIs } from "ai";
import { models, startServer, tempDir, rawRequest } from "./harness.mjs";

const m = models();
const KEY = "sk-e2e-0123456789abcdef";
let chat, reasoner, keyed, limited;

before(async () => {
  const keyFile = path.join(tempDir("keys"), "keys.txt");
  fs.writeFileSync(keyFile, `# test key\n${KEY}\n`);
  [chat, reasoner, keyed, limited] = await Promise.all([
    startServer(m.chat, ["--model-name", "tiny-v3"]),
    startServer(m.reasoner),
    startServer(m.chat, ["--api-key-file", keyFile, "--max-queue", "1", "--max-sequences", "1"]),
    startServer(m.chat, ["--rate-limit-rpm", "3"]),
  ]);
});

after(async () => {
  for (const s of [chat, reasoner, keyed, limited]) {
    if (!s) continue;
    const r = await s.stop();
    assert.equal(r.code, 0, `dseek serve exited with ${JSON.stringify(r)}:\n${s.log().slice(-3000)}`);
  }
});

const client = (server, opts = {}) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: opts.key ?? "none", maxRetries: 0 });

test("chat: the programmed answer, with usage", async () => {
  const r = await client(chat).chat.completions.create({
    model: "deepseek-chat",
    messages: [{ role: "user", content: "Hi!" }],
    temperature: 0,
  });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  assert.equal(r.choices[0].message.content, m.program.chat.text);
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(r.usage.completion_tokens, m.program.chat.tokens.length);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(r.usage.prompt_tokens, r.usage.prompt_cache_hit_tokens + r.usage.prompt_cache_miss_tokens);
  const list = await client(chat).models.list();
  assert.deepEqual(list.data.map((x) => x.id).sort(), ["deepseek-chat", "deepseek-reasoner", "tiny-v3"]);
});

test("streaming gives the same tokens as not streaming, with usage at the end", async () => {
  // JSON mode and odd prefixes make the programmed model write varied text.
  const variants = [
    { messages: [{ role: "user", content: "Tell me something." }] },
    { messages: [{ role: "user", content: "json" }], response_format: { type: "json_object" } },
    { messages: [{ role: "user", content: "go on" }, { role: "assistant", content: "zebra quantum", prefix: true }] },
  ];
  for (const [i, seed] of [1, 2, 3, 4, 5, 6].entries()) {
    const req = { model: "deepseek-chat", ...variants[i % variants.length], temperature: 1.8, seed, max_tokens: 40 };
    const whole = await client(chat).chat.completions.create(req);
    const stream = await client(chat).chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = "", finish = null, usage = null, chunks = 0;
    for await (const c of stream) {
      chunks++;
      if (c.usage) usage = c.usage;
      if (!c.choices.length) continue;
      text += c.choices[0].delta.content ?? "";
      if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
    }
    assert.equal(text, whole.choices[0].message.content, `seed ${seed}`);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage.completion_tokens, whole.usage.completion_tokens);
    assert.ok(chunks > 2);
  }
});

test("batched requests give what each gives alone (greedy)", async () => {
  const prompts = ["a", "What is 2+2?", "Write a poem about the sea, please.", "x y z", "The weather today", "你好"];
  const req = (p) => ({ model: "deepseek-chat", messages: [{ role: "user", content: p }], temperature: 1.0, seed: 7, max_tokens: 24 });
  const alone = [];
  for (const p of prompts) alone.push((await client(chat).chat.completions.create(req(p))).choices[0].message.content);
  const together = await Promise.all(prompts.map((p) => client(chat).chat.completions.create(req(p))));
  assert.deepEqual(together.map((r) => r.choices[0].message.content), alone);
});

test("reasoning_content beside content, streamed and not", async () => {
  const c = client(reasoner);
  const r = await c.chat.completions.create({ model: "deepseek-reasoner", messages: [{ role: "user", content: "Hi" }] });
  const [reasoning, answer] = m.program.reasoner.text.split("</think>");
  assert.equal(r.choices[0].message.reasoning_content, reasoning.trim());
  assert.equal(r.choices[0].message.content, answer.trim());
  assert.ok(r.usage.completion_tokens_details.reasoning_tokens > 0);
  const stream = await c.chat.completions.create({ model: "deepseek-reasoner", messages: [{ role: "user", content: "Hi" }], stream: true });
  let rc = "", content = "";
  for await (const ch of stream) {
    if (!ch.choices.length) continue;
    rc += ch.choices[0].delta.reasoning_content ?? "";
    content += ch.choices[0].delta.content ?? "";
  }
  assert.equal(rc, r.choices[0].message.reasoning_content);
  assert.equal(content, r.choices[0].message.content);
  // Sending an earlier turn's reasoning back is refused, as DeepSeek does.
  await assert.rejects(
    c.chat.completions.create({
      model: "deepseek-reasoner",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hi there", reasoning_content: "Let me think" },
        { role: "user", content: "Again" },
      ],
    }),
    (e) => e.status === 400 && /reasoning_content/.test(e.message),
  );
  // Reasoning models refuse JSON output, as DeepSeek's reasoner does.
  await assert.rejects(
    c.chat.completions.create({ model: "deepseek-reasoner", messages: [{ role: "user", content: "json" }], response_format: { type: "json_object" } }),
    (e) => e.status === 422,
  );
});

const weatherTool = {
  type: "function",
  function: { name: "get_weather", description: "Weather of a city", parameters: { type: "object", properties: { city: { type: "string" } } } },
};

test("tools: a forced call comes back as tool_calls, its result gives the answer", async () => {
  const c = client(chat);
  const messages = [{ role: "user", content: "What is the weather in Paris?" }];
  const first = await c.chat.completions.create({
    model: "deepseek-chat", messages, tools: [weatherTool], tool_choice: "required", temperature: 0.8, seed: 3, max_tokens: 200,
  });
  // "length" when max_tokens made the model close the call early; the call is valid either way.
  assert.ok(["tool_calls", "length"].includes(first.choices[0].finish_reason), first.choices[0].finish_reason);
  const calls = first.choices[0].message.tool_calls;
  assert.ok(calls.length >= 1);
  for (const call of calls) {
    assert.equal(call.type, "function");
    assert.equal(call.function.name, "get_weather");
    assert.equal(typeof JSON.parse(call.function.arguments), "object");
  }
  // Named choice, streamed: the same shape arrives in deltas.
  const stream = await c.chat.completions.create({
    model: "deepseek-chat", messages, tools: [weatherTool], stream: true, temperature: 0.8, seed: 3, max_tokens: 200,
    tool_choice: { type: "function", function: { name: "get_weather" } },
  });
  let streamedCall = null, finish = null;
  for await (const ch of stream) {
    if (!ch.choices.length) continue;
    if (ch.choices[0].delta.tool_calls) streamedCall = ch.choices[0].delta.tool_calls[0];
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  assert.ok(["tool_calls", "length"].includes(finish), finish);
  assert.equal(streamedCall.function.name, "get_weather");
  JSON.parse(streamedCall.function.arguments);
  // The round trip: call -> result -> answer.
  const second = await c.chat.completions.create({
    model: "deepseek-chat",
    tools: [weatherTool],
    temperature: 0,
    messages: [...messages, first.choices[0].message, { role: "tool", tool_call_id: calls[0].id, content: "sunny" }],
  });
  assert.equal(second.choices[0].message.content, m.program.tool_answer.text);
  assert.equal(second.choices[0].finish_reason, "stop");
});

test("tools, auto: a call the model writes itself (V3.1 layout) comes back as tool_calls", async () => {
  const v31 = await startServer(m.v31);
  try {
    const c = client(v31);
    const messages = [{ role: "user", content: "Weather in Paris?" }];
    const r = await c.chat.completions.create({ model: "deepseek-chat", messages, tools: [weatherTool], temperature: 0 });
    assert.equal(r.choices[0].finish_reason, "tool_calls");
    assert.equal(r.choices[0].message.content, null);
    assert.equal(r.choices[0].message.tool_calls.length, 1);
    assert.equal(r.choices[0].message.tool_calls[0].function.name, "get_weather");
    assert.deepEqual(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments), { city: "Paris" });
    const stream = await c.chat.completions.create({ model: "deepseek-chat", messages, tools: [weatherTool], temperature: 0, stream: true });
    let call = null, content = "";
    for await (const ch of stream) {
      if (!ch.choices.length) continue;
      content += ch.choices[0].delta.content ?? "";
      if (ch.choices[0].delta.tool_calls) call = ch.choices[0].delta.tool_calls[0];
    }
    assert.equal(content, "");
    assert.equal(call.function.arguments, r.choices[0].message.tool_calls[0].function.arguments);
    // Forced, in the V3.1 layout the template shows.
    const forced = await c.chat.completions.create({
      model: "deepseek-chat", messages, tools: [weatherTool], tool_choice: "required", temperature: 1, seed: 9, max_tokens: 60,
    });
    assert.equal(forced.choices[0].message.tool_calls[0].function.name, "get_weather");
    JSON.parse(forced.choices[0].message.tool_calls[0].function.arguments);
    // With tool_choice none the tools are not offered, and nothing is parsed as a call.
    const none = await c.chat.completions.create({ model: "deepseek-chat", messages, tools: [weatherTool], tool_choice: "none", temperature: 0 });
    assert.equal(none.choices[0].message.tool_calls, undefined);
    assert.equal(none.choices[0].finish_reason, "stop");
  } finally {
    assert.equal((await v31.stop()).code, 0);
  }
});

test("JSON mode: every finished answer parses as a JSON object", async () => {
  let finished = 0;
  for (let seed = 1; seed <= 16; seed++) {
    const r = await client(chat).chat.completions.create({
      model: "deepseek-chat",
      messages: [{ role: "user", content: "Answer in json, e.g. {\"a\": 1}." }],
      response_format: { type: "json_object" },
      temperature: 1.0, seed, max_tokens: 64,
    });
    const content = r.choices[0].message.content;
    if (r.choices[0].finish_reason === "stop") {
      finished++;
      const v = JSON.parse(content);
      assert.equal(typeof v, "object");
      assert.ok(v !== null && !Array.isArray(v));
    } else {
      assert.equal(r.choices[0].finish_reason, "length");
      assert.ok(content.trimStart().startsWith("{"), content);
    }
  }
  assert.ok(finished > 0, "some answers should finish within 64 tokens");
});

test("FIM on /beta/completions uses the model's FIM tokens", async () => {
  const c = new OpenAI({ baseURL: `${chat.url}/beta`, apiKey: "none", maxRetries: 0 });
  const r = await c.completions.create({ model: "deepseek-chat", prompt: "def add(a, b):\n    ", suffix: "\n\nprint(add(1, 2))", temperature: 0, max_tokens: 16 });
  assert.equal(r.object, "text_completion");
  assert.equal(r.choices[0].text, m.program.fim.text);
  assert.equal(r.choices[0].finish_reason, "stop");
  const lp = await c.completions.create({ model: "deepseek-chat", prompt: "x", suffix: "y", temperature: 0, max_tokens: 8, logprobs: 2 });
  assert.equal(lp.choices[0].logprobs.tokens.length, lp.usage.completion_tokens);
  assert.equal(lp.choices[0].logprobs.top_logprobs[0] && Object.keys(lp.choices[0].logprobs.top_logprobs[0]).length, 2);
});

test("chat prefix completion continues the last assistant message", async () => {
  const c = new OpenAI({ baseURL: `${chat.url}/beta`, apiKey: "none", maxRetries: 0 });
  const r = await c.chat.completions.create({
    model: "deepseek-chat",
    temperature: 0,
    messages: [{ role: "user", content: "How is it outside?" }, { role: "assistant", content: "The weather", prefix: true }],
  });
  // " weather" leads to " is sunny." in the program.
  assert.equal(r.choices[0].message.content, " is sunny.");
});

test("logprobs: the model's log-probabilities of each token, with alternatives", async () => {
  const r = await client(chat).chat.completions.create({
    model: "deepseek-chat", messages: [{ role: "user", content: "Hi" }], temperature: 0, logprobs: true, top_logprobs: 5,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  assert.equal(content.map((t) => t.token).join(""), m.program.chat.text);
  for (const t of content) {
    assert.ok(t.logprob <= 0 && t.logprob > -0.1, `a programmed token is near certain: ${t.logprob}`);
    assert.equal(t.top_logprobs.length, 5);
    assert.equal(t.top_logprobs[0].token, t.token);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, "utf8")]);
  }
});

test("usage counts prompt cache hits on a repeated prefix, in 64-token units", async () => {
  const system = "You are a helpful assistant. ".repeat(40);
  const ask = (q) => client(chat).chat.completions.create({
    model: "deepseek-chat", temperature: 0, messages: [{ role: "system", content: system }, { role: "user", content: q }],
  });
  const a = await ask("first question");
  const b = await ask("second question");
  assert.equal(a.usage.prompt_cache_hit_tokens, 0);
  assert.ok(b.usage.prompt_cache_hit_tokens >= 128, JSON.stringify(b.usage));
  assert.equal(b.usage.prompt_cache_hit_tokens % 64, 0);
  assert.equal(b.usage.prompt_tokens_details.cached_tokens, b.usage.prompt_cache_hit_tokens);
  assert.equal(b.choices[0].message.content, a.choices[0].message.content);
});

test("the prefix cache is isolated per API key", async () => {
  const dir = tempDir("keys2");
  const keys = ["sk-alice-0123456789abcdef", "sk-bob-0123456789abcdefgh"];
  fs.writeFileSync(path.join(dir, "keys.txt"), keys.join("\n") + "\n");
  const s = await startServer(m.chat, ["--api-key-file", path.join(dir, "keys.txt")]);
  try {
    const system = "Private context of one user. ".repeat(40);
    const ask = (key) => client(s, { key }).chat.completions.create({
      model: "deepseek-chat", temperature: 0, messages: [{ role: "system", content: system }, { role: "user", content: "q" }],
    });
    assert.equal((await ask(keys[0])).usage.prompt_cache_hit_tokens, 0);
    assert.ok((await ask(keys[0])).usage.prompt_cache_hit_tokens >= 128);
    assert.equal((await ask(keys[1])).usage.prompt_cache_hit_tokens, 0, "another key must not hit the first key's entries");
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test("@ai-sdk/deepseek: text, stream, cache metadata and a tool loop", async () => {
  const deepseek = createDeepSeek({ baseURL: chat.url, apiKey: "none" });
  const g = await generateText({ model: deepseek("deepseek-chat"), prompt: "Hello", temperature: 0, maxRetries: 0 });
  assert.equal(g.text, m.program.chat.text);
  assert.equal(g.finishReason, "stop");
  assert.equal(g.usage.outputTokens, m.program.chat.tokens.length);
  const s = streamText({ model: deepseek("deepseek-chat"), prompt: "Hello", temperature: 0, maxRetries: 0 });
  let streamed = "";
  for await (const part of s.textStream) streamed += part;
  assert.equal(streamed, m.program.chat.text);
  // A tool loop: the first step must call the tool, the second answers from its result.
  let executed = 0;
  const loop = await generateText({
    model: deepseek("deepseek-chat"),
    prompt: "What is the weather in Paris?",
    temperature: 0.8,
    seed: 5,
    maxOutputTokens: 200,
    maxRetries: 0,
    tools: {
      get_weather: tool({
        description: "Weather of a city",
        inputSchema: jsonSchema({ type: "object", additionalProperties: true }),
        execute: async () => {
          executed++;
          return "sunny";
        },
      }),
    },
    prepareStep: ({ stepNumber }) => ({ toolChoice: stepNumber === 0 ? "required" : "none" }),
    stopWhen: stepCountIs(3),
  });
  assert.equal(executed, 1);
  assert.ok(["tool-calls", "length"].includes(loop.steps[0].finishReason), loop.steps[0].finishReason);
  assert.equal(loop.text, m.program.tool_answer.text);
  // Cache hits reach the provider metadata.
  const system = "Answer briefly and politely. ".repeat(40);
  await generateText({ model: deepseek("deepseek-chat"), system, prompt: "one", temperature: 0, maxRetries: 0 });
  const again = await generateText({ model: deepseek("deepseek-chat"), system, prompt: "two", temperature: 0, maxRetries: 0 });
  assert.ok(again.providerMetadata.deepseek.promptCacheHitTokens >= 64, JSON.stringify(again.providerMetadata));
});

test("every error code, as OpenAI error JSON", async () => {
  const good = client(keyed, { key: KEY });
  const bad = client(keyed, { key: "sk-wrong-0123456789abc" });
  const expectStatus = async (promise, status, re) => {
    await assert.rejects(promise, (e) => {
      assert.equal(e.status, status, e.message);
      if (re) assert.match(e.message, re);
      return true;
    });
  };
  const msg = [{ role: "user", content: "hi" }];
  await expectStatus(bad.chat.completions.create({ model: "deepseek-chat", messages: msg }), 401);
  await expectStatus(client(keyed, { key: "" }).models.list(), 401);
  // 400: not JSON, wrong types.
  const raw = await fetch(`${keyed.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: "{\"model\":" });
  assert.equal(raw.status, 400);
  const body = await raw.json();
  assert.equal(typeof body.error.message, "string");
  assert.equal(body.error.type, "invalid_request_error");
  await expectStatus(good.chat.completions.create({ model: "deepseek-chat", messages: "hi" }), 400, /messages/);
  // 422: invalid parameter, named.
  await expectStatus(good.chat.completions.create({ model: "deepseek-chat", messages: msg, temperature: 3 }), 422, /temperature/);
  await expectStatus(good.chat.completions.create({ model: "deepseek-chat", messages: msg, top_logprobs: 21, logprobs: true }), 422, /top_logprobs/);
  await expectStatus(good.chat.completions.create({ model: "deepseek-chat", messages: msg, stop: Array(17).fill("x") }), 422, /stop/);
  await expectStatus(good.chat.completions.create({ model: "deepseek-chat", messages: msg, max_tokens: 100000 }), 422, /max_tokens/);
  // 503: one slot, a queue of one, three long requests at once.
  const long = () => good.chat.completions.create({ model: "deepseek-chat", messages: [{ role: "user", content: "go" }], max_tokens: 400, temperature: 1.5, seed: 1 })
    .then(() => 200, (e) => e.status);
  const statuses = await Promise.all([long(), long(), long()]);
  assert.ok(statuses.includes(503), JSON.stringify(statuses));
  assert.ok(statuses.every((s) => s === 200 || s === 503 || s === 429), JSON.stringify(statuses));
  // 429: three requests per minute for a caller.
  const l = client(limited);
  const statuses429 = [];
  for (let i = 0; i < 4; i++) statuses429.push(await l.chat.completions.create({ model: "deepseek-chat", messages: msg, max_tokens: 2 }).then(() => 200, (e) => e.status));
  assert.deepEqual(statuses429, [200, 200, 200, 429]);
  const limitedRaw = await fetch(`${limited.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "deepseek-chat", messages: msg }) });
  assert.equal(limitedRaw.status, 429);
  assert.ok(Number(limitedRaw.headers.get("retry-after")) >= 1);
  assert.equal((await limitedRaw.json()).error.type, "rate_limit_error");
  // 404 for an unknown route; the key never appears in the log.
  assert.equal((await fetch(`${keyed.url}/v2/nothing`, { headers: { authorization: `Bearer ${KEY}` } })).status, 404);
  assert.ok(!keyed.log().includes(KEY), "the API key must never be logged");
});

test("logs carry no prompt or completion text by default", async () => {
  const secret = "zebra-secret-prompt-text";
  await client(chat).chat.completions.create({ model: "deepseek-chat", messages: [{ role: "user", content: secret }], temperature: 0 });
  assert.ok(!chat.log().includes(secret));
  assert.ok(!chat.log().includes("Hello! How"));
  assert.match(chat.log(), /POST \/v1\/chat\/completions 200/);
});

test("/metrics in Prometheus text format, /health", async () => {
  const h = await fetch(`${chat.url}/health`);
  assert.equal(h.status, 200);
  const r = await fetch(`${chat.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  for (const name of ["dseek_http_requests_total", "dseek_prompt_tokens_total", "dseek_completion_tokens_total", "dseek_queue_depth",
    "dseek_batch_size", "dseek_prompt_cache_hit_tokens_total", "dseek_request_duration_seconds_bucket", "dseek_time_to_first_token_seconds_count"])
    assert.ok(text.includes(name), name);
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eE]+(Inf)?$/, line);
  }
  // The keyed server wants its key for metrics too.
  assert.equal((await fetch(`${keyed.url}/metrics`)).status, 401);
});

test("without keys, requests addressed to another host are refused (DNS rebinding)", async () => {
  const evil = await rawRequest(chat.port, "GET /v1/models HTTP/1.1\r\nHost: attacker.example:8080\r\nConnection: close\r\n\r\n");
  assert.equal(evil.status, 403);
  const local = await rawRequest(chat.port, "GET /v1/models HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n");
  assert.equal(local.status, 200);
});

test("CORS is off unless configured", async () => {
  const r = await rawRequest(chat.port, "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  assert.ok(!/access-control-allow-origin/i.test(r.text), r.text);
  const withCors = await startServer(m.chat, ["--cors-origin", "http://app.example"]);
  try {
    const ok = await rawRequest(withCors.port, "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nOrigin: http://app.example\r\nConnection: close\r\n\r\n");
    assert.equal(ok.status, 204);
    assert.match(ok.text, /Access-Control-Allow-Origin: http:\/\/app\.example/);
    const other = await rawRequest(withCors.port, "GET /health HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n");
    assert.ok(!/access-control-allow-origin/i.test(other.text));
  } finally {
    assert.equal((await withCors.stop()).code, 0);
  }
});
