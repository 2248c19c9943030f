// What a model family brings besides its layers, chosen from config.json and the tokenizer: the
// decoding call it was published with, the chat template its chats were trained on, and the ids its
// answers end at. The rest of the composition (vision tower, projector, image layout, tensor names,
// positions, logit shift) is in ModelConfig; nothing else asks which family it runs.
#pragma once

#include <map>
#include <vector>

#include "decode/generate.h"
#include "decode/speed.h"
#include "io/config.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace dimple {

struct Family {
    GenerateOptions decoding;           // what a request gets for every option it leaves unset
    std::map<Speed, SpeedPreset> speeds;  // the presets measured for this family
    text::ChatTemplateKind chat = text::ChatTemplateKind::Qwen2VL;  // when the folder names none
    std::vector<int64_t> end_ids;       // an answer's text ends before the first of these
};

// `tokenizer` may be null (a folder without one): ids it would name are then the published ones
// where the vocabulary is the published one.
Family model_family(const ModelConfig& cfg, const text::Tokenizer* tokenizer);

}  // namespace dimple
