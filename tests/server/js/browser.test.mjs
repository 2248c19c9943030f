// The web page end to end in headless Chromium (Debian's /usr/bin/chromium driven by puppeteer-core):
// load it from `dimple serve`, attach an image (file picker, drag and drop, paste), ask, watch the
// answer denoise from the canvas stream, save a screenshot, and see no console errors.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import puppeteer from "puppeteer-core";
import { fixtureImage, startServer } from "./serve.mjs";

const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const screenshot = process.env.SCREENSHOT || path.resolve("web_page.png");
let server, browser, page;
const problems = [];     // console errors and uncaught exceptions of the page

before(async () => {
  server = await startServer();
  browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    // No sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 800 });
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("exception: " + e.message));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
});
after(async () => {
  await browser?.close();
  assert.ok(server.alive(), "the server died:\n" + server.output());
  await server.stop();
});

// Fills a decoding option the way a user does.
async function setOption(id, value) {
  await page.$eval(`#${id}`, (el, v) => { el.value = v; el.dispatchEvent(new Event("change")); }, String(value));
}

// Drops or pastes the fixture image onto the page as the browser would deliver it.
async function deliverImage(how) {
  const bytes = fs.readFileSync(fixtureImage()).toString("base64");
  await page.evaluate((how, b64) => {
    const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "photo.png", { type: "image/png" });
    const data = new DataTransfer();
    data.items.add(file);
    if (how === "drop") document.getElementById("log").dispatchEvent(
      new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    else document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, how, bytes);
}

test("the page loads, names the model and works offline (no outside requests)", async () => {
  const outside = [];
  page.on("request", (r) => { if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) outside.push(r.url()); });
  await page.goto(server.url + "/", { waitUntil: "networkidle0" });
  assert.equal(await page.title(), "dimple.cpp");
  await page.waitForFunction(() => document.getElementById("model").textContent.startsWith("model: "));
  assert.deepEqual(outside, []);
});

test("an image and a question: the answer denoises step by step, then shows", async () => {
  await page.evaluate(() => localStorage.clear());
  await setOption("max_tokens", 16);
  await setOption("steps", 8);
  await setOption("temperature", 0);
  // Watch the canvas: record every step counter shown and whether masks were on screen.
  await page.evaluate(() => {
    window.seen = { masks: 0, fresh: 0, steps: new Set() };
    new MutationObserver(() => {
      const c = document.querySelector(".msg:last-child > .canvas");   // the live canvas, not the replay
      if (!c) return;
      window.seen.masks = Math.max(window.seen.masks, c.querySelectorAll(".mask").length);
      window.seen.fresh += c.querySelectorAll(".fresh").length;
      const stat = document.querySelector(".msg:last-child .stats b");
      if (stat) window.seen.steps.add(stat.textContent);
    }).observe(document.getElementById("log"), { childList: true, subtree: true });
  });
  const input = await page.$("#file");
  await input.uploadFile(fixtureImage());
  await page.waitForSelector("#attachments .thumb img");
  await page.type("#prompt", "What shapes are in this picture?");
  await page.keyboard.press("Enter");
  // A picture of the denoising under way (the assertions below check it happened).
  await page.waitForSelector(".msg:last-child > .canvas .mask", { timeout: 60000 })
    .then(() => page.screenshot({ path: screenshot.replace(/\.png$/, "_denoising.png") }), () => {});
  await page.waitForSelector(".msg .answer", { timeout: 60000 });
  await page.screenshot({ path: screenshot });

  const seen = await page.evaluate(() => ({ ...window.seen, steps: [...window.seen.steps] }));
  assert.ok(seen.masks > 0, "masks were never shown");
  assert.ok(seen.fresh > 0, "no newly committed position was highlighted");
  assert.ok(seen.steps.length >= 1 && seen.steps.every((s) => /^\d+ \/ 8$/.test(s)), seen.steps.join(", "));
  const user = await page.$eval(".msg.user", (m) => ({ text: m.textContent, images: m.querySelectorAll("img").length }));
  assert.deepEqual(user, { text: "What shapes are in this picture?", images: 1 });
  const stats = await page.$eval(".msg:last-child .stats", (s) => s.textContent);
  assert.match(stats, /steps \d+/);
  assert.match(stats, /tokens\/s \d+(\.\d)?/);
  assert.equal(await page.$(".msg .error"), null);
  const replaySteps = await page.$eval(".replay summary", (s) => s.textContent);
  assert.match(replaySteps, /denoising, \d+ steps/);
});

test("drag and drop and paste attach images; a second turn keeps the conversation", async () => {
  await deliverImage("drop");
  await deliverImage("paste");
  await page.waitForFunction(() => document.querySelectorAll("#attachments .thumb").length === 2);
  await page.type("#prompt", "And now?");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelectorAll(".msg .answer").length === 2, { timeout: 60000 });
  assert.equal(await page.$$eval(".msg.user", (m) => m[m.length - 1].querySelectorAll("img").length), 2);
  assert.equal(await page.$(".msg .error"), null);
});

test("a server error is shown to the user", async () => {
  await setOption("template", "<mask:0>");   // a malformed structure prior: the server refuses it
  await page.type("#prompt", "Fill the template.");
  await page.keyboard.press("Enter");
  const message = await page.waitForSelector(".msg .error", { timeout: 30000 }).then((e) => e.evaluate((n) => n.textContent));
  assert.match(message, /^4\d\d: .+/);
  await setOption("template", "");
  // The browser logs the refused request itself; anything else is a problem of the page.
  const other = problems.filter((p) => !/status of 4\d\d/.test(p));
  assert.deepEqual(other, []);
});

test("a server with an API key: the page asks for it, then works", async () => {
  const guarded = await startServer({ args: ["--api-key", "sesame"] });
  try {
    const tab = await browser.newPage();
    await tab.goto(guarded.url + "/");
    await tab.waitForFunction(() => /API key/.test(document.getElementById("model").textContent));
    await tab.$eval("#api_key", (el) => { el.value = "sesame"; el.dispatchEvent(new Event("change")); });
    await tab.waitForFunction(() => document.getElementById("model").textContent.startsWith("model: "));
    await tab.$eval("#max_tokens", (el) => { el.value = "8"; });
    await tab.$eval("#steps", (el) => { el.value = "4"; });
    await tab.type("#prompt", "Hello?");
    await tab.keyboard.press("Enter");
    await tab.waitForSelector(".msg .answer", { timeout: 60000 });
    assert.equal(await tab.$(".msg .error"), null);
    await tab.evaluate(() => localStorage.clear());   // the key is not left for the other tests
    await tab.close();
  } finally {
    await guarded.stop();
  }
});

test("no console errors", () => {
  assert.deepEqual(problems.filter((p) => !/status of 4\d\d/.test(p)), []);
});
