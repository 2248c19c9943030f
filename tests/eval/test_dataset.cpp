#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "eval/dataset.h"
#include "testing.h"

using namespace dimple::eval;

TEST(EvalDataset, ParsesALineAndResolvesTheImageAgainstTheFolder) {
    const EvalItem a = parse_item(
        R"({"image": "img/a.png", "question": "How many shapes are there?", "answer": "two", "kind": "count"})", 7,
        "/data/set");
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(a.line, 7);
    EXPECT_EQ(a.image, "/data/set/img/a.png");
    EXPECT_EQ(a.question, "How many shapes are there?");
    EXPECT_EQ(a.answer, "two");
    EXPECT_EQ(a.kind, "count");
    const EvalItem b = parse_item(R"({"image": "/abs/b.jpg", "question": "Q", "answer": " x ", "extra": 1})", 1, "d");
    EXPECT_EQ(b.error, "");
    EXPECT_EQ(b.image, "/abs/b.jpg");  // absolute paths stay as they are
    EXPECT_EQ(b.answer, " x ");        // trimmed only when scored
    EXPECT_EQ(b.kind, "");
    EXPECT_EQ(parse_item(R"({"image": "../up.png", "question": "Q", "answer": "A"})", 1, "d/e").image, "d/up.png");
}

TEST(EvalDataset, BadLinesCarryTheirError) {
    struct Case {
        const char* line;
        const char* error;
    };
    for (const Case& c : {Case{"{\"image\": \"a.png\", ", "not valid JSON"},
                          Case{"[1, 2]", "not a JSON object"},
                          Case{R"({"question": "Q", "answer": "A"})", "missing \"image\""},
                          Case{R"({"image": "a.png", "answer": "A"})", "missing \"question\""},
                          Case{R"({"image": "a.png", "question": "Q"})", "missing \"answer\""},
                          Case{R"({"image": "a.png", "question": "Q", "answer": 3})", "\"answer\" is not a string"},
                          Case{R"({"image": "a.png", "question": "Q", "answer": "A", "kind": null})",
                               "\"kind\" is not a string"},
                          Case{R"({"image": "", "question": "Q", "answer": "A"})", "\"image\" is empty"}}) {
        const EvalItem item = parse_item(c.line, 3, ".");
        EXPECT_EQ(item.error, c.error) << c.line;
        EXPECT_EQ(item.line, 3);
    }
}

TEST(EvalDataset, ReadsEveryNonBlankLineInOrderWithItsNumber) {
    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/set.jsonl") << R"({"image": "a.png", "question": "Q1", "answer": "A1"})" << "\n"
                                      << "\n   \r\n"
                                      << "oops\n"
                                      << R"({"image": "b.png", "question": "Q2", "answer": "A2", "kind": "k"})";
    const std::vector<EvalItem> items = read_dataset(dir + "/set.jsonl");
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].line, 1);
    EXPECT_EQ(items[0].image, dir + "/a.png");
    EXPECT_EQ(items[1].line, 4);
    EXPECT_EQ(items[1].error, "not valid JSON");
    EXPECT_EQ(items[2].line, 5);  // no final newline
    EXPECT_EQ(items[2].kind, "k");
    EXPECT_THROW(read_dataset(dir + "/absent.jsonl"), dimple::Error);
    EXPECT_THROW(read_dataset(dir), dimple::Error);
}
