#include "server/request_parse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace dimple::server {

namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 32;

std::string type_name(const json& j) { return j.is_number() ? "number" : std::string(j.type_name()); }

[[noreturn]] void wrong_type(const std::string& param, const std::string& expected, const json& got) {
    bad_request(param, "'" + param + "' must be " + expected + " (got " + type_name(got) + ")", "invalid_type");
}

int64_t get_int(const json& j, const std::string& param, int64_t lo, int64_t hi) {
    if (!j.is_number_integer()) wrong_type(param, "an integer", j);
    // Non-negative integers parse as unsigned, and may exceed int64_t.
    const bool in_range = j.is_number_unsigned()
                              ? hi >= 0 && j.get<uint64_t>() <= uint64_t(hi) && (lo <= 0 || j.get<uint64_t>() >= uint64_t(lo))
                              : j.get<int64_t>() >= lo && j.get<int64_t>() <= hi;
    if (!in_range)
        bad_request(param, "'" + param + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                               "] (got " + j.dump() + ")");
    return j.get<int64_t>();
}

std::string number_text(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

double get_number(const json& j, const std::string& param, double lo, double hi) {
    if (!j.is_number()) wrong_type(param, "a number", j);
    const double v = j.get<double>();
    if (!(std::isfinite(v) && v >= lo && v <= hi))
        bad_request(param, "'" + param + "' must be in [" + number_text(lo) + ", " + number_text(hi) + "] (got " +
                               j.dump() + ")");
    return v;
}

bool get_bool(const json& j, const std::string& param) {
    if (!j.is_boolean()) wrong_type(param, "true or false", j);
    return j.get<bool>();
}

const std::string& get_string(const json& j, const std::string& param) {
    if (!j.is_string()) wrong_type(param, "a string", j);
    return j.get_ref<const std::string&>();
}

ImageLimits image_limits(const ParseContext& ctx) {
    ImageLimits il;
    il.max_pixels = ctx.limits.max_image_pixels;
    il.max_side = 1 << 16;
    il.max_file_bytes = ctx.limits.max_body_bytes;
    il.before_decode = ctx.before_image_decode;
    return il;
}

// One entry of a message's content list: text is appended, an image decoded and counted.
void parse_part(const json& part, const std::string& param, text::ChatMessage& msg, ChatRequest& req,
                const ParseContext& ctx) {
    if (!part.is_object()) wrong_type(param, "an object", part);
    if (!part.contains("type")) bad_request(param + ".type", "'" + param + ".type' is missing", "missing_required_parameter");
    const std::string& type = get_string(part["type"], param + ".type");
    if (type == "text") {
        if (!part.contains("text")) bad_request(param + ".text", "'" + param + ".text' is missing", "missing_required_parameter");
        msg.text += get_string(part["text"], param + ".text");
        return;
    }
    if (type != "image_url")
        bad_request(param + ".type", "content parts of type '" + type + "' are not supported (text or image_url)",
                    "unsupported_value");
    const std::string p = param + ".image_url";
    if (!part.contains("image_url")) bad_request(p, "'" + p + "' is missing", "missing_required_parameter");
    const json& iu = part["image_url"];
    if (!iu.is_object()) wrong_type(p, "an object {\"url\": ...}", iu);
    if (!iu.contains("url")) bad_request(p + ".url", "'" + p + ".url' is missing", "missing_required_parameter");
    const std::string& url = get_string(iu["url"], p + ".url");
    if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0)
        bad_request(p + ".url", "image URLs are not fetched: send the image inline as a data: URL "
                                "(data:image/png;base64,...)", "unsupported_value");
    if (url.rfind("data:", 0) != 0)
        bad_request(p + ".url", "an image must be a data: URL (data:image/png;base64,...)", "invalid_image");
    if (int(req.images.size()) >= ctx.limits.max_images)
        bad_request(p, "too many images: at most " + std::to_string(ctx.limits.max_images) + " per request",
                    "too_many_images");
    try {
        req.images.push_back(decode_data_url(url, image_limits(ctx)));
        if (ctx.after_image_decode) ctx.after_image_decode(req.images.back().width, req.images.back().height);
    } catch (const Error& e) {
        bad_request(p + ".url", std::string("the image could not be read: ") + e.what(), "invalid_image");
    }
    ++msg.images;
}

text::ChatMessage parse_message(const json& m, const std::string& param, ChatRequest& req, const ParseContext& ctx) {
    if (!m.is_object()) wrong_type(param, "an object", m);
    if (!m.contains("role")) bad_request(param + ".role", "'" + param + ".role' is missing", "missing_required_parameter");
    text::ChatMessage msg;
    msg.role = get_string(m["role"], param + ".role");
    if (msg.role == "developer") msg.role = "system";
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
        bad_request(param + ".role", "role '" + msg.role + "' is not supported (system, user or assistant)",
                    "unsupported_value");
    if (!m.contains("content")) bad_request(param + ".content", "'" + param + ".content' is missing", "missing_required_parameter");
    const json& c = m["content"];
    if (c.is_string()) {
        msg.text = c.get<std::string>();
    } else if (c.is_array()) {
        for (size_t i = 0; i < c.size(); ++i)
            parse_part(c[i], param + ".content[" + std::to_string(i) + "]", msg, req, ctx);
    } else {
        wrong_type(param + ".content", "a string or a list of content parts", c);
    }
    if (msg.images && msg.role != "user")
        bad_request(param + ".content", "only user messages may hold images", "unsupported_value");
    return msg;
}

std::vector<std::string> parse_stop(const json& j, int max_stop) {
    std::vector<std::string> stop;
    if (j.is_null()) return stop;
    if (j.is_string()) {
        stop.push_back(j.get<std::string>());
    } else if (j.is_array()) {
        if (int(j.size()) > max_stop) bad_request("stop", "at most " + std::to_string(max_stop) + " stop strings");
        for (size_t i = 0; i < j.size(); ++i) stop.push_back(get_string(j[i], "stop[" + std::to_string(i) + "]"));
    } else {
        wrong_type("stop", "a string or a list of strings", j);
    }
    for (const std::string& s : stop)
        if (s.empty()) bad_request("stop", "stop strings must not be empty");
    return stop;
}

// dLLM-Cache: [prompt_interval, gen_interval, transfer_ratio] or the CLI's "P,G,R".
DllmCacheSettings parse_dllm_cache_field(const json& j) {
    if (j.is_string()) {
        try {
            return parse_dllm_cache(j.get<std::string>());
        } catch (const Error& e) {
            bad_request("dllm_cache", e.what());
        }
    }
    if (!j.is_array() || j.size() != 3)
        wrong_type("dllm_cache", "[prompt_interval, gen_interval, transfer_ratio] or \"P,G,R\"", j);
    return {int(get_int(j[0], "dllm_cache[0]", 1, 1 << 16)), int(get_int(j[1], "dllm_cache[1]", 1, 1 << 16)),
            get_number(j[2], "dllm_cache[2]", 0, 1)};
}

// The faster-decoding options of `dimple run` (decode/acceleration.h), under the same names.
void parse_acceleration(const json& b, Acceleration& a) {
    auto has = [&](const char* k) { return b.contains(k) && !b[k].is_null(); };
    auto named = [&](const char* k, auto parse) {
        try {
            return parse(get_string(b[k], k));
        } catch (const Error& e) {
            bad_request(k, e.what());
        }
    };
    if (has("early_stop")) a.early_stop = named("early_stop", parse_early_stop);
    if (has("block_length")) a.block_length = int(get_int(b["block_length"], "block_length", 0, 1 << 16));
    if (has("dual_cache")) a.dual_cache = get_bool(b["dual_cache"], "dual_cache");
    if (has("cache_refresh")) a.cache_refresh = int(get_int(b["cache_refresh"], "cache_refresh", 0, 1 << 16));
    if (has("skip_layers")) a.skip_layers = named("skip_layers", parse_layer_list);
    if (has("skip_from")) a.skip_from_step = int(get_int(b["skip_from"], "skip_from", 1, 1 << 16));
    if (has("prune_layer")) a.prune_layer = int(get_int(b["prune_layer"], "prune_layer", -1, 1 << 16));
    if (has("prune_keep")) a.prune_keep = float(get_number(b["prune_keep"], "prune_keep", 0, 1));
    if (has("prune_when")) a.prune_when = named("prune_when", parse_prune_when);
    if (has("prune_step")) a.prune_step = int(get_int(b["prune_step"], "prune_step", 1, 1 << 16));
    if (has("dllm_cache")) a.dllm_cache = parse_dllm_cache_field(b["dllm_cache"]);
}

// Sampling and diffusion options; absent fields keep the model's defaults (those of `dimple run`).
void parse_options(const json& b, ChatRequest& req, const ParseContext& ctx) {
    const Limits& lim = ctx.limits;
    GenerateOptions& o = req.options;
    auto has = [&](const char* k) { return b.contains(k) && !b[k].is_null(); };
    // A speed preset first: the request's own faster-decoding fields and "cache" then change it.
    try {
        if (has("speed")) apply_speed(o, parse_speed(get_string(b["speed"], "speed")), ctx.speeds);
    } catch (const Error& e) {
        bad_request("speed", e.what());
    }
    if (has("max_tokens")) o.max_new_tokens = int(get_int(b["max_tokens"], "max_tokens", 1, lim.max_tokens));
    if (has("max_completion_tokens"))
        o.max_new_tokens = int(get_int(b["max_completion_tokens"], "max_completion_tokens", 1, lim.max_tokens));
    if (has("steps")) o.steps = int(get_int(b["steps"], "steps", 1, lim.max_steps));
    if (has("temperature")) o.sampling.temperature = float(get_number(b["temperature"], "temperature", 0, 2));
    if (has("top_p")) {
        const double p = get_number(b["top_p"], "top_p", 0, 1);
        if (p == 0) bad_request("top_p", "'top_p' must be in (0, 1] (got 0)");
        // A p too small for a float keeps the most likely token alone, as every p below its
        // probability does; rounded to 0 it would be refused later as out of range.
        o.sampling.top_p = std::max(float(p), std::numeric_limits<float>::min());
    }
    if (has("top_k")) {
        const int64_t k = get_int(b["top_k"], "top_k", 0, INT32_MAX);
        o.sampling.top_k = k > 0 ? std::optional<int>(int(k)) : std::nullopt;
    }
    if (has("threshold")) {
        const double t = get_number(b["threshold"], "threshold", 0, 1);
        o.threshold = t > 0 ? std::optional<float>(float(t)) : std::nullopt;
    }
    if (has("cfg_scale")) o.cfg_scale = float(get_number(b["cfg_scale"], "cfg_scale", 0, 100));
    if (has("alg_temp")) o.alg_temp = float(get_number(b["alg_temp"], "alg_temp", 0, 100));
    if (has("cache")) o.use_cache = get_bool(b["cache"], "cache");
    // Seeds are 64-bit unsigned; negative ones are taken modulo 2^64.
    if (has("seed"))
        o.seed = b["seed"].is_number_unsigned() ? b["seed"].get<uint64_t>()
                                                : uint64_t(get_int(b["seed"], "seed", INT64_MIN, INT64_MAX));
    try {
        if (has("alg")) o.alg = parse_algorithm(get_string(b["alg"], "alg"));
    } catch (const Error& e) {
        bad_request("alg", e.what());
    }
    try {
        if (has("pipeline")) o.pipeline = parse_pipeline(get_string(b["pipeline"], "pipeline"));
    } catch (const Error& e) {
        bad_request("pipeline", e.what());
    }
    try {
        if (has("remasking")) o.remasking = parse_remasking(get_string(b["remasking"], "remasking"));
    } catch (const Error& e) {
        bad_request("remasking", e.what());
    }
    if (has("template")) req.answer_template = get_string(b["template"], "template");
    if (has("length")) req.length = get_int(b["length"], "length", 0, o.max_new_tokens - 1);
    parse_acceleration(b, o.accel);
}


void refuse_unsupported(const json& b) {
    auto has = [&](const char* k) { return b.contains(k) && !b[k].is_null(); };
    if (has("n") && get_int(b["n"], "n", INT64_MIN, INT64_MAX) != 1)
        bad_request("n", "only n = 1 is supported", "unsupported_value");
    for (const char* k : {"tools", "functions"})
        if (has(k) && !(b[k].is_array() && b[k].empty()))
            bad_request(k, std::string("'") + k + "' (tool calling) is not supported", "unsupported_value");
    if (has("logprobs") && get_bool(b["logprobs"], "logprobs"))
        bad_request("logprobs", "logprobs are not supported", "unsupported_value");
}

json parse_json(std::string_view body) {
    // Depth and the number of values are bounded while parsing, before a deeply nested body can
    // cost stack or one of a million tiny values their bookkeeping (16 bytes and more each, where
    // the body spends 2): the document then holds little more than the body's strings.
    int64_t values = 0;
    const json::parser_callback_t guard = [&values](int depth, json::parse_event_t event, json&) {
        if (depth > kMaxJsonDepth)
            bad_request("", "the JSON body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                        "invalid_json");
        if (event == json::parse_event_t::value || event == json::parse_event_t::object_start ||
            event == json::parse_event_t::array_start) {
            if (++values > kMaxJsonValues)
                bad_request("", "the JSON body holds more than " + std::to_string(kMaxJsonValues) + " values",
                            "invalid_json");
        }
        return true;
    };
    try {
        return json::parse(body.begin(), body.end(), guard);
    } catch (const json::exception& e) {
        bad_request("", std::string("the body is not valid JSON: ") + e.what(), "invalid_json");
    }
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body, const ParseContext& ctx) {
    const json b = parse_json(body);
    if (!b.is_object()) bad_request("", "the body must be a JSON object", "invalid_json");
    ChatRequest req;
    if (b.contains("model") && !b["model"].is_null()) {
        req.model = get_string(b["model"], "model");
        if (req.model != ctx.model_id)
            throw ApiError(404, "the model '" + req.model + "' does not exist; this server serves '" +
                                    ctx.model_id + "'", "model", "model_not_found");
    }
    refuse_unsupported(b);
    req.options = ctx.defaults;
    req.options.max_new_tokens = std::min(req.options.max_new_tokens, int(ctx.limits.max_tokens));
    parse_options(b, req, ctx);
    if (b.contains("stop")) req.stop = parse_stop(b["stop"], ctx.limits.max_stop);
    if (b.contains("stream") && !b["stream"].is_null()) req.stream = get_bool(b["stream"], "stream");
    if (b.contains("stream_canvas") && !b["stream_canvas"].is_null())
        req.stream_canvas = get_bool(b["stream_canvas"], "stream_canvas");
    if (req.stream_canvas && !req.stream)
        bad_request("stream_canvas", "'stream_canvas' needs 'stream': true");
    if (b.contains("stream_options") && !b["stream_options"].is_null()) {
        const json& so = b["stream_options"];
        if (!so.is_object()) wrong_type("stream_options", "an object", so);
        if (!req.stream) bad_request("stream_options", "'stream_options' needs 'stream': true");
        if (so.contains("include_usage")) req.include_usage = get_bool(so["include_usage"], "stream_options.include_usage");
    }

    if (!b.contains("messages")) bad_request("messages", "'messages' is missing", "missing_required_parameter");
    const json& ms = b["messages"];
    if (!ms.is_array()) wrong_type("messages", "a list of messages", ms);
    if (ms.empty()) bad_request("messages", "'messages' is empty");
    for (size_t i = 0; i < ms.size(); ++i)
        req.messages.push_back(parse_message(ms[i], "messages[" + std::to_string(i) + "]", req, ctx));
    return req;
}

}  // namespace dimple::server
