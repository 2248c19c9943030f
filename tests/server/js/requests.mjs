// The requests of the load test: well-formed ones of every shape a client sends (text, images,
// streaming, the canvas stream, structure priors, a conversation) and malformed ones of many kinds
// (each must get a 4xx with an OpenAI error body), plus the checks of each answer.
import path from "node:path";
import { encodePng } from "./png.mjs";
import { imageDataUrl, parseSse, serverModel } from "./serve.mjs";

const small = { model: path.basename(serverModel()), max_tokens: 8, steps: 4 };
const user = (content) => [{ role: "user", content }];
const json = (body) => ({ method: "POST", path: "/v1/chat/completions", body: JSON.stringify(body) });
const withImage = (url, text = "What is this?") =>
  user([{ type: "image_url", image_url: { url } }, { type: "text", text }]);

// A PNG whose header claims 20000 x 20000 pixels (1-bit greyscale) and whose data really inflates to
// 50 MB of zeros: a decompression bomb of 50 KB.
function pngBomb() {
  const side = 20000;
  return encodePng(side, side, 1, 0, Buffer.alloc(side * (side / 8 + 1)), 9);
}

export function goodRequests() {
  const image = imageDataUrl();
  return [
    { name: "text", ...json({ ...small, messages: user("Name a colour."), temperature: 0 }) },
    { name: "text-sampled", ...json({ ...small, messages: user("Say something."), temperature: 0.7, seed: 3 }) },
    { name: "text-stream", stream: true, ...json({ ...small, messages: user("Hello"), stream: true }) },
    { name: "canvas-stream", stream: true, canvas: true,
      ...json({ ...small, messages: user("Count."), stream: true, stream_canvas: true }) },
    { name: "image", ...json({ ...small, messages: withImage(image), temperature: 0 }) },
    { name: "image-canvas-stream", stream: true, canvas: true,
      ...json({ ...small, messages: withImage(image), stream: true, stream_canvas: true,
                stream_options: { include_usage: true } }) },
    { name: "template", ...json({ ...small, messages: user("Colour?"), template: "colour: <mask:2>" }) },
    { name: "conversation", ...json({ ...small, messages: [
      { role: "system", content: "Be brief." }, { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." }, { role: "user", content: [{ type: "text", text: "Bye" }] }] }) },
    { name: "options", ...json({ ...small, messages: user("x"), alg: "maskgit_plus", threshold: 0.5,
                                 top_p: 0.9, top_k: 10, cache: false, max_completion_tokens: 6 }) },
  ];
}

export function malformedRequests({ bodyLimit }) {
  const m = user("Hi");
  const image = (url) => json({ ...small, messages: withImage(url) });
  const imageParam = "messages[0].content[0].image_url.url";
  const b64 = (bytes) => "data:image/png;base64," + Buffer.from(bytes).toString("base64");
  return [
    { name: "bad-json", method: "POST", path: "/v1/chat/completions", body: '{"messages": [' },
    { name: "not-json", method: "POST", path: "/v1/chat/completions", body: "hello" },
    { name: "empty-body", method: "POST", path: "/v1/chat/completions", body: "" },
    { name: "body-array", ...json([1, 2, 3]) },
    { name: "no-messages", param: "messages", ...json({ ...small }) },
    { name: "messages-string", param: "messages", ...json({ ...small, messages: "Hi" }) },
    { name: "messages-empty", param: "messages", ...json({ ...small, messages: [] }) },
    { name: "bad-role", param: "messages[0].role",
      ...json({ ...small, messages: [{ role: "wizard", content: "Hi" }] }) },
    { name: "content-number", param: "messages[0].content",
      ...json({ ...small, messages: [{ role: "user", content: 42 }] }) },
    { name: "part-type", param: "messages[0].content[0].type",
      ...json({ ...small, messages: user([{ type: "audio", audio: "x" }]) }) },
    { name: "max-tokens-negative", param: "max_tokens", ...json({ ...small, messages: m, max_tokens: -5 }) },
    { name: "max-tokens-absurd", param: "max_tokens", ...json({ ...small, messages: m, max_tokens: 1e12 }) },
    { name: "max-tokens-string", param: "max_tokens", ...json({ ...small, messages: m, max_tokens: "eight" }) },
    { name: "temperature-type", param: "temperature", ...json({ ...small, messages: m, temperature: "hot" }) },
    { name: "temperature-negative", param: "temperature", ...json({ ...small, messages: m, temperature: -1 }) },
    { name: "top-p", param: "top_p", ...json({ ...small, messages: m, top_p: 7 }) },
    { name: "steps-zero", param: "steps", ...json({ ...small, messages: m, steps: 0 }) },
    { name: "threshold", param: "threshold", ...json({ ...small, messages: m, threshold: 3 }) },
    { name: "alg", param: "alg", ...json({ ...small, messages: m, alg: "fastest" }) },
    { name: "template", param: "template", ...json({ ...small, messages: m, template: "<mask:0>" }) },
    { name: "n", param: "n", ...json({ ...small, messages: m, n: 3 }) },
    { name: "stream-type", param: "stream", ...json({ ...small, messages: m, stream: "yes" }) },
    { name: "stop-type", param: "stop", ...json({ ...small, messages: m, stop: 5 }) },
    { name: "unknown-model", param: "model", ...json({ ...small, messages: m, model: "gpt-9" }) },
    { name: "image-http", param: imageParam, ...image("https://example.com/cat.png") },
    { name: "image-base64", param: imageParam, ...image("data:image/png;base64,@@@not base64@@@") },
    { name: "image-not-image", param: imageParam, ...image(b64("just some text, not an image")) },
    { name: "image-truncated", param: imageParam, ...image(imageDataUrl().slice(0, 120)) },
    { name: "image-bomb", param: imageParam, ...image(b64(pngBomb())) },
    { name: "too-many-images", ...json({ ...small, messages: user(
      Array.from({ length: 64 }, () => ({ type: "image_url", image_url: { url: imageDataUrl() } }))) }) },
    { name: "too-many-tokens", ...json({ ...small, messages: user("word ".repeat(6000)) }) },
    { name: "body-too-large", ...json({ ...small, messages: user("x".repeat(bodyLimit + 1)) }), status: 413 },
    { name: "wrong-method", method: "GET", path: "/v1/chat/completions", status: 405 },
    { name: "wrong-route", method: "POST", path: "/v1/nothing", body: "{}", status: 404 },
  ];
}

// What is wrong with an answer to a good request ("" when nothing).
export function checkGood(req, status, contentType, text) {
  if (status !== 200) return `status ${status}: ${text.slice(0, 300)}`;
  try {
    if (!req.stream) {
      const r = JSON.parse(text);
      const c = r.choices?.[0];
      if (r.object !== "chat.completion" || typeof c?.message?.content !== "string" || !c.finish_reason)
        return "not a chat.completion: " + text.slice(0, 300);
      if (!(r.usage?.completion_tokens >= 0)) return "no usage";
      return "";
    }
    if (!contentType?.startsWith("text/event-stream")) return "content-type " + contentType;
    const { chunks, done } = parseSse(text);
    if (!done) return "no [DONE]";
    if (chunks.some((c) => c.object !== "chat.completion.chunk")) return "a chunk is not a chat.completion.chunk";
    if (!chunks.some((c) => c.choices?.[0]?.finish_reason)) return "no finish_reason";
    if (req.canvas && !chunks.some((c) => Array.isArray(c.dimple?.canvas))) return "no canvas";
    return "";
  } catch (e) {
    return "unparsable: " + e.message;
  }
}

// What is wrong with the answer to a malformed request ("" when nothing).
export function checkMalformed(req, status, text) {
  const ok = req.status ? status === req.status : status >= 400 && status < 500 && status !== 429;
  if (!ok) return `status ${status}`;
  try {
    const e = JSON.parse(text).error;
    if (typeof e?.message !== "string" || !e.message || typeof e.type !== "string" || !("param" in e) || !("code" in e))
      return "not an OpenAI error body: " + text.slice(0, 200);
    if (req.param && e.param !== req.param) return `param ${e.param}, expected ${req.param}: ${e.message}`;
    return "";
  } catch {
    return "unparsable error body: " + text.slice(0, 200);
  }
}
