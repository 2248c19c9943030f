#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace dimple::cli {

namespace {

int terminal_columns(int fd) {
    winsize ws{};
    return ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

std::string clock(double seconds) {
    const long s = long(seconds + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

}  // namespace

ProgressBar::ProgressBar(int64_t total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::update(int64_t done, const std::string& note) {
    if (!enabled_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
    char text[160];
    std::snprintf(text, sizeof text, " %lld/%lld %.2f/s left %s %s", (long long)done, (long long)total_, rate,
                  rate > 0 ? clock(double(total_ - done) / rate).c_str() : "?", note.c_str());
    // The bar takes what the text leaves of the line, so the line never wraps.
    const int columns = terminal_columns(STDERR_FILENO);
    const int bar = std::clamp(columns - 3 - int(std::string_view(text).size()), 0, 40);
    const int filled = total_ > 0 ? int(int64_t(bar) * done / total_) : bar;
    std::string line = "\r[" + std::string(size_t(filled), '#') + std::string(size_t(bar - filled), '.') + "]" + text;
    line.resize(std::min(line.size(), size_t(std::max(columns, 2))));  // '\r' and columns - 1 cells
    std::fprintf(stderr, "%s\033[K", line.c_str());
    std::fflush(stderr);
    shown_ = true;
}

void ProgressBar::clear() {
    if (!shown_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
}

}  // namespace dimple::cli
