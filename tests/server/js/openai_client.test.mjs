// `dimple serve` through the official OpenAI JavaScript client: non-streaming, streaming (equal to
// non-streaming at temperature 0), the canvas stream extension, images as data URLs, errors.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { imageDataUrl, serverModel, startServer } from "./serve.mjs";

let server, client;
const model = path.basename(serverModel());
// Small answers keep the test fast; extension fields pass through the client unchanged.
const greedy = { model, max_tokens: 12, steps: 6, temperature: 0 };

before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "unused", maxRetries: 0, timeout: 120000 });
});
after(async () => {
  assert.ok(server.alive(), "the server died during the tests:\n" + server.output());
  await server.stop();
});

const ask = (content) => [{ role: "user", content }];

async function streamed(params) {
  const chunks = [];
  for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  return { chunks, text };
}

test("lists the model by its folder name", async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [model]);
});

test("non-streaming answer", async () => {
  const r = await client.chat.completions.create({ ...greedy, messages: ask("Name a colour.") });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices.length, 1);
  const choice = r.choices[0];
  assert.equal(choice.message.role, "assistant");
  assert.equal(typeof choice.message.content, "string");
  assert.ok(["stop", "length"].includes(choice.finish_reason), choice.finish_reason);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= greedy.max_tokens);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test("streamed text equals the non-streamed answer at temperature 0", async () => {
  for (const prompt of ["Name a colour.", "Describe a cat in one sentence."]) {
    const params = { ...greedy, messages: ask(prompt) };
    const whole = await client.chat.completions.create(params);
    const { chunks, text } = await streamed(params);
    assert.equal(text, whole.choices[0].message.content, prompt);
    assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1, "one finish_reason");
    assert.equal(chunks.findLast((c) => c.choices[0]?.finish_reason).choices[0].finish_reason,
                 whole.choices[0].finish_reason);
  }
});

test("stream_options.include_usage ends with the usage", async () => {
  const { chunks } = await streamed({ ...greedy, messages: ask("Hi"), stream_options: { include_usage: true } });
  const last = chunks[chunks.length - 1];
  assert.ok(last.usage && last.usage.completion_tokens > 0, JSON.stringify(last));
});

test("stream_canvas sends the whole canvas after every step", async () => {
  const params = { ...greedy, messages: ask("Count to three.") };
  const { chunks, text } = await streamed({ ...params, stream_canvas: true });
  const steps = chunks.filter((c) => c.dimple).map((c) => c.dimple);
  assert.ok(steps.length >= 1 && steps.length <= greedy.steps, `${steps.length} steps`);
  let previous = Array(greedy.max_tokens).fill(null);
  steps.forEach((s, i) => {
    assert.equal(s.step, i + 1);
    assert.equal(s.max_steps, greedy.steps);
    assert.equal(s.canvas.length, greedy.max_tokens);
    assert.equal(s.masks, s.canvas.filter((c) => c === null).length);
    for (const p of s.committed) {
      assert.equal(previous[p], null, `position ${p} committed twice`);
      assert.equal(typeof s.canvas[p].text, "string");
    }
    // Committed positions never change again.
    previous.forEach((cell, p) => { if (cell !== null) assert.deepEqual(s.canvas[p], cell); });
    previous = s.canvas;
  });
  assert.equal(steps[steps.length - 1].masks, 0);
  const plain = await client.chat.completions.create(params);
  assert.equal(text, plain.choices[0].message.content);
});

test("an image as a data URL is part of the prompt", async () => {
  const textOnly = await client.chat.completions.create({ ...greedy, messages: ask("What is this?") });
  const parts = [{ type: "image_url", image_url: { url: imageDataUrl() } }, { type: "text", text: "What is this?" }];
  const withImage = await client.chat.completions.create({ ...greedy, messages: ask(parts) });
  assert.equal(typeof withImage.choices[0].message.content, "string");
  // The image's tokens are in the prompt.
  assert.ok(withImage.usage.prompt_tokens > textOnly.usage.prompt_tokens + 2,
            `${withImage.usage.prompt_tokens} vs ${textOnly.usage.prompt_tokens}`);
  const { text } = await streamed({ ...greedy, messages: ask(parts) });
  assert.equal(text, withImage.choices[0].message.content);
});

test("bad requests are OpenAI errors with a 4xx", async () => {
  const image = (url) => ask([{ type: "image_url", image_url: { url } }, { type: "text", text: "?" }]);
  const cases = [
    [{ ...greedy, messages: image("https://example.com/cat.png") }, "image_url"],
    [{ ...greedy, messages: image("data:image/png;base64,bm90IGFuIGltYWdl") }, "image"],
    [{ ...greedy, messages: ask("Hi"), n: 2 }, "n"],
    [{ ...greedy, messages: ask("Hi"), max_tokens: -4 }, "max_tokens"],
    [{ ...greedy, messages: ask("Hi"), model: "no-such-model" }, "model"],
    [{ ...greedy, messages: [] }, "messages"],
  ];
  for (const [params, what] of cases) {
    await assert.rejects(client.chat.completions.create(params), (e) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.ok(e.status >= 400 && e.status < 500, `${what}: status ${e.status}`);
      assert.equal(typeof e.error?.message, "string", `${what}: no error.message`);
      assert.ok(e.error.message.length > 0);
      return true;
    }, what);
  }
});
