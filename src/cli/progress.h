// A one-line progress bar on stderr for long runs (`dimple eval`): redrawn in place, and nothing
// at all when stderr is not a terminal.
#pragma once

#include <chrono>
#include <string>

namespace dimple::cli {

class ProgressBar {
public:
    explicit ProgressBar(int64_t total);  // enabled when stderr is a terminal
    ~ProgressBar() { clear(); }

    // Draws `done` of `total` with the rate, the time left and a short note (e.g. the accuracy).
    void update(int64_t done, const std::string& note);
    // Removes the bar (before printing other lines, and at the end).
    void clear();

private:
    int64_t total_;
    bool enabled_, shown_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace dimple::cli
