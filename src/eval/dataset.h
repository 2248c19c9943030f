// An evaluation set: a JSONL file with one question a line,
//   {"image": "imgs/0001.png", "question": "How many shapes are there?", "answer": "three", "kind": "count"}
// `image` is a path relative to the file's folder (or absolute), `kind` is optional. Blank lines
// are skipped; any other line that is not such an object becomes an item carrying its error, so a
// run reports it by line number and goes on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dimple::eval {

struct EvalItem {
    int line = 0;           // 1-based line number in the file
    std::string image;      // resolved against the file's folder
    std::string question, answer, kind;
    std::string error;      // non-empty: the line is bad, and why
};

// One line (not blank) of a file in `folder`.
EvalItem parse_item(std::string_view line, int number, const std::string& folder);

// Every non-blank line of the file, in order; throws dimple::Error only when the file cannot be read.
std::vector<EvalItem> read_dataset(const std::string& path);

}  // namespace dimple::eval
