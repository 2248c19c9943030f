#include <gtest/gtest.h>

#include "eval/score.h"

using namespace dimple::eval;

TEST(EvalScore, ExactMatchTrimsWhitespaceOnly) {
    EXPECT_EQ(trim("  a b \t\r\n"), "a b");
    EXPECT_EQ(trim(" \n "), "");
    EXPECT_TRUE(exact_match(" three\n", "three"));
    EXPECT_TRUE(exact_match("", "  "));
    EXPECT_FALSE(exact_match("Three", "three"));
    EXPECT_FALSE(exact_match("three.", "three"));
    EXPECT_FALSE(exact_match("a  b", "a b"));
    EXPECT_TRUE(exact_match(R"([{"shape": "circle", "color": "red"}])", R"([{"shape": "circle", "color": "red"}] )"));
}

namespace {

Prediction answered(const std::string& kind, bool correct, int steps, int64_t tokens, double seconds) {
    Prediction p;
    p.kind = kind;
    p.correct = correct;
    p.steps = steps;
    p.tokens = tokens;
    p.seconds = seconds;
    return p;
}

}  // namespace

TEST(EvalScore, TalliesOverallAndPerKind) {
    Summary s;
    s.add(answered("count", true, 2, 1, 0.5));
    s.add(answered("count", false, 4, 1, 0.5));
    s.add(answered("describe", true, 6, 12, 1.0));
    s.add(answered("", true, 3, 3, 1.0));
    Prediction bad;
    bad.kind = "count";
    bad.error = "cannot open";
    s.add(bad);

    EXPECT_EQ(s.all.items, 4);
    EXPECT_EQ(s.all.correct, 3);
    EXPECT_EQ(s.all.errors, 1);
    EXPECT_DOUBLE_EQ(s.all.accuracy(), 0.75);
    EXPECT_DOUBLE_EQ(s.all.steps_per_item(), 15.0 / 4);
    EXPECT_DOUBLE_EQ(s.all.steps_per_token(), 15.0 / 17);
    EXPECT_DOUBLE_EQ(s.all.tokens_per_second(), 17.0 / 3);
    ASSERT_EQ(s.by_kind.size(), 2u);  // the line without a kind counts only overall
    EXPECT_EQ(s.by_kind["count"].items, 2);
    EXPECT_EQ(s.by_kind["count"].errors, 1);
    EXPECT_DOUBLE_EQ(s.by_kind["count"].accuracy(), 0.5);
    EXPECT_DOUBLE_EQ(s.by_kind["describe"].steps_per_token(), 0.5);

    const nlohmann::json j = to_json(s);
    EXPECT_EQ(j["items"], 4);
    EXPECT_EQ(j["errors"], 1);
    EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.75);
    EXPECT_DOUBLE_EQ(j["kinds"]["count"]["accuracy"].get<double>(), 0.5);
    const std::string table = format_summary(s);
    EXPECT_NE(table.find("count"), std::string::npos) << table;
    EXPECT_NE(table.find("75.0%"), std::string::npos) << table;
    EXPECT_NE(table.find("0.882 per answer token"), std::string::npos) << table;
}

TEST(EvalScore, AnEmptyTallyHasNoDivisionByZero) {
    const Tally t;
    EXPECT_EQ(t.accuracy(), 0.0);
    EXPECT_EQ(t.steps_per_item(), 0.0);
    EXPECT_EQ(t.steps_per_token(), 0.0);
    EXPECT_EQ(t.tokens_per_second(), 0.0);
}

TEST(EvalScore, PredictionJsonHoldsAnswerAndStepsOrTheError) {
    Prediction p = answered("count", true, 5, 2, 0.25);
    p.line = 9;
    p.answer = "two";
    p.expected = "two ";
    const nlohmann::json j = to_json(p);
    EXPECT_EQ(j["line"], 9);
    EXPECT_EQ(j["answer"], "two");
    EXPECT_EQ(j["steps"], 5);
    EXPECT_EQ(j["tokens"], 2);
    EXPECT_EQ(j["correct"], true);
    EXPECT_EQ(j["kind"], "count");
    Prediction bad;
    bad.line = 2;
    bad.error = "not valid JSON";
    const nlohmann::json e = to_json(bad);
    EXPECT_EQ(e["error"], "not valid JSON");
    EXPECT_FALSE(e.contains("answer"));
}
