// Starts a real `dseek serve` for the end-to-end tests and stops it.
//
// DSEEK_BINARY: the dseek executable (ctest sets it; under the sanitize
// preset it is the ASan+UBSan build). DSEEK_E2E_DIR: where the test model
// is made (once per build folder; see make_model.mjs).
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const binary = process.env.DSEEK_BINARY;
if (!binary) throw new Error("set DSEEK_BINARY to the dseek executable");
const e2eDir = process.env.DSEEK_E2E_DIR ?? path.join(os.tmpdir(), "dseek-e2e");

// The test model folders (made once, then reused).
export function models() {
  const program = path.join(e2eDir, "program.json");
  if (!fs.existsSync(path.join(e2eDir, "v31", "tokenizer_config.json"))) execFileSync(process.execPath, [path.join(here, "make_model.mjs"), e2eDir], { stdio: "inherit" });
  return {
    chat: path.join(e2eDir, "chat"),
    reasoner: path.join(e2eDir, "reasoner"),
    v31: path.join(e2eDir, "v31"),
    program: JSON.parse(fs.readFileSync(program, "utf8")),
  };
}

export function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dseek-${tag}-`));
}

// Starts the server; resolves once it listens. args: extra command-line flags.
export async function startServer(model, args = [], { timeoutMs = 60000 } = {}) {
  const proc = spawn(binary, ["serve", model, "--port", "0", "--threads", "2", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: process.env,
  });
  let log = "";
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dseek serve did not start within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    proc.stderr.on("data", (d) => {
      log += d.toString();
      const m = log.match(/listening on http:\/\/([^ ]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[2]));
      }
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dseek serve exited (${code ?? signal}) before listening:\n${log}`));
    });
  });
  const port = await listening;
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    log: () => log,
    // Graceful stop; resolves with the exit status (0 expected: also no sanitizer report).
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode };
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
    async kill9() {
      proc.kill("SIGKILL");
      return exited;
    },
    alive: () => proc.exitCode === null && proc.signalCode === null,
  };
}

// A raw HTTP exchange over one TCP connection (for requests no client library sends).
import net from "node:net";
export function rawRequest(port, bytes, { timeoutMs = 10000, halfClose = false } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = data.toString("latin1");
      const m = text.match(/^HTTP\/1\.1 (\d{3})/);
      resolve({ status: m ? Number(m[1]) : 0, text, error });
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    sock.on("connect", () => {
      sock.write(bytes);
      if (halfClose) sock.end();
    });
    sock.on("data", (d) => {
      data = Buffer.concat([data, d]);
      const text = data.toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      if (head < 0) return;
      const len = text.slice(0, head).match(/content-length: (\d+)/i);
      if (len && data.length >= head + 4 + Number(len[1])) finish();
    });
    sock.on("error", (e) => finish(e.code));
    sock.on("close", () => finish());
  });
}
