// `dimple eval` on a tiny random Dimple that reads real text: the answers are word salad, so the
// expected answers are taken from `dimple run` on the same inputs (eval must decode as run does).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chat_model.h"
#include "testing.h"
#include "text/reference.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kDecoding = " -n 8 -s 8 --temperature 0 --compute f32 --threads 1";

// A small PNG of one colour with a square, written by PIL.
void write_png(const std::string& path, int w, int h, int r, int g, int b) {
    const std::string cmd = "/usr/bin/python3 -c 'import sys; from PIL import Image, ImageDraw; "
                            "im = Image.new(\"RGB\", (" + std::to_string(w) + ", " + std::to_string(h) +
                            "), (230, 230, 230)); ImageDraw.Draw(im).rectangle([8, 8, 30, 30], fill=(" +
                            std::to_string(r) + ", " + std::to_string(g) + ", " + std::to_string(b) +
                            ")); im.save(sys.argv[1])' " + path;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

std::vector<json> read_jsonl(const std::string& path) {
    std::vector<json> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

// The JSON object a command printed last (stderr comes first: run_cli merges the two).
json last_json_line(const std::string& out) {
    const size_t end = out.find_last_not_of('\n');
    const size_t start = out.rfind('\n', end);
    return json::parse(out.substr(start == std::string::npos ? 0 : start + 1));
}

json run_answer(const std::string& model, const std::string& image, const std::string& question) {
    const auto r = dtest::run_cli("run --model " + model + " --image " + image + " --prompt '" + question + "'" +
                                  kDecoding + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return last_json_line(r.out);
}

struct EvalSet {
    std::string dir, data;
    json first, second;  // `dimple run`'s answers to the two good questions
};

// Seven lines: two answered right (one with spaces around the answer), one wrong, a bad JSON line,
// a line without an answer, a missing image, and a blank line (skipped).
EvalSet make_set(const std::string& model) {
    EvalSet s;
    s.dir = dtest::temp_dir();
    fs::create_directories(s.dir + "/img");
    write_png(s.dir + "/img/red.png", 64, 48, 220, 40, 40);
    write_png(s.dir + "/img/blue.png", 56, 80, 40, 80, 220);
    s.first = run_answer(model, s.dir + "/img/red.png", "How many shapes are there?");
    s.second = run_answer(model, s.dir + "/img/blue.png", "What color is the square?");
    const auto line = [](const std::string& image, const std::string& q, const std::string& a, const char* kind) {
        json j = {{"image", image}, {"question", q}, {"answer", a}};
        if (kind) j["kind"] = kind;
        return j.dump() + "\n";
    };
    s.data = s.dir + "/set.jsonl";
    std::ofstream(s.data) << line("img/red.png", "How many shapes are there?", "  " + s.first["text"].get<std::string>() + "\n", "count")
                          << line("img/blue.png", "What color is the square?", s.second["text"].get<std::string>(), "color")
                          << line("img/blue.png", "What color is the square?", "certainly not this", "color")
                          << "{\"image\": \"img/red.png\",\n"
                          << "\n"
                          << R"({"image": "img/red.png", "question": "Q", "kind": "count"})" << "\n"
                          << line("img/absent.png", "How many shapes are there?", "one", nullptr);
    return s;
}

}  // namespace

TEST(EvalCommand, ScoresLikeRunAndReportsBadLinesByNumber) {
    DIMPLE_REQUIRE_NPM();
    const std::string model = dtest::chat_model_dir();
    const EvalSet s = make_set(model);
    const std::string predictions = s.dir + "/predictions.jsonl";
    auto r = dtest::run_cli("eval --model " + model + " --data " + s.data + " --predictions " + predictions + kDecoding);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(s.data + ":4: not valid JSON"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(s.data + ":6: missing \"answer\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(s.data + ":7: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("absent.png"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\033"), std::string::npos) << "no progress bar when stderr is not a terminal";
    EXPECT_NE(r.out.find("mean forward passes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;

    // One object per non-blank line, in order, with the answer and the forward passes run used.
    const std::vector<json> p = read_jsonl(predictions);
    ASSERT_EQ(p.size(), 6u);
    const std::vector<int> lines = {1, 2, 3, 4, 6, 7};
    for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i]["line"], lines[i]) << p[i];
    EXPECT_EQ(p[0]["answer"], s.first["text"]);
    EXPECT_EQ(p[0]["steps"], s.first["steps"]);
    EXPECT_EQ(p[0]["tokens"], s.first["answer_tokens"]);
    EXPECT_EQ(p[0]["correct"], true);
    EXPECT_EQ(p[0]["kind"], "count");
    EXPECT_EQ(p[1]["answer"], s.second["text"]);
    EXPECT_EQ(p[1]["steps"], s.second["steps"]);
    EXPECT_EQ(p[1]["correct"], true);
    EXPECT_EQ(p[2]["correct"], false);
    for (size_t i : {3, 4, 5}) EXPECT_TRUE(p[i].contains("error") && !p[i].contains("answer")) << p[i];

    // The summary for scripts.
    r = dtest::run_cli("eval --model " + model + " --data " + s.data + kDecoding + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json j = last_json_line(r.out);
    EXPECT_EQ(j["items"], 3);
    EXPECT_EQ(j["correct"], 2);
    EXPECT_EQ(j["errors"], 3);
    EXPECT_NEAR(j["accuracy"].get<double>(), 2.0 / 3, 1e-12);
    const double steps = s.first["steps"].get<double>() + 2 * s.second["steps"].get<double>();
    EXPECT_NEAR(j["mean_steps"].get<double>(), steps / 3, 1e-12);
    const double tokens = s.first["answer_tokens"].get<double>() + 2 * s.second["answer_tokens"].get<double>();
    EXPECT_EQ(j["tokens"].get<double>(), tokens);
    if (tokens > 0) {
        EXPECT_NEAR(j["steps_per_token"].get<double>(), steps / tokens, 1e-12);
    }
    EXPECT_EQ(j["kinds"]["count"]["items"], 1);
    EXPECT_EQ(j["kinds"]["count"]["errors"], 1);
    EXPECT_EQ(j["kinds"]["color"]["items"], 2);
    EXPECT_EQ(j["kinds"]["color"]["correct"], 1);
    EXPECT_GT(j["tokens_per_s"].get<double>(), 0);
}

TEST(EvalCommand, BadInputExitsTwoWithAMessage) {
    DIMPLE_REQUIRE_NPM();
    const std::string model = " --model " + dtest::chat_model_dir();
    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/one.jsonl") << R"({"image": "a.png", "question": "Q", "answer": "A"})" << "\n";
    struct Case {
        std::string args, message;
    };
    for (const Case& c : std::vector<Case>{
             {"eval" + model + " --data " + dir + "/absent.jsonl", "absent.jsonl: cannot open"},
             {"eval" + model, "--data is required"},
             {"eval" + model + " --data " + dir + "/one.jsonl --predictions /nonexistent/p.jsonl", "cannot write"},
             {"eval" + model + " --data " + dir + "/one.jsonl --alg fastest", "unknown decoding algorithm"},
             {"eval --model /nonexistent --data " + dir + "/one.jsonl", "not a model folder"},
         }) {
        const auto r = dtest::run_cli(c.args);
        EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
        EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    }
}
