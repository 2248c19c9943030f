// The live denoising view of `dimple run`: what a frame shows (held-back UTF-8, masks, control
// characters), how it is cut into rows, and, in a real terminal of fixed size (tmux), that a long
// answer is redrawn in place instead of scrolling copies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "chat_model.h"
#include "cli/live_view.h"
#include "testing.h"
#include "text/reference.h"

using namespace dimple;
using dimple::cli::layout_rows;
using dimple::cli::render_partial;

TEST(LiveView, RowsCountDisplayCells) {
    EXPECT_EQ(cli::cell_width(U'a'), 1);
    EXPECT_EQ(cli::cell_width(U'\u9451'), 2);      // CJK
    EXPECT_EQ(cli::cell_width(U'\u0301'), 0);      // combining acute
    EXPECT_EQ(cli::cell_width(U'\U0001F980'), 2);  // emoji
    EXPECT_EQ(cli::cell_width(U'\u2591'), 1);      // the mask glyph

    auto rows = layout_rows("abcdefg", 3);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].text, "abc");
    EXPECT_EQ(rows[2].text, "g");
    EXPECT_EQ(rows[2].cells, 1);
    // A wide character that does not fit in what is left of a row starts the next one.
    rows = layout_rows("ab\u9451\u9451", 3);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].text, "ab");
    EXPECT_EQ(rows[1].cells, 2);
    // Combining marks stay with their letter and take no cell.
    rows = layout_rows("e\u0301e\u0301e\u0301", 2);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].text, "e\u0301e\u0301");
    EXPECT_EQ(rows[0].cells, 2);
    EXPECT_EQ(layout_rows("", 10).size(), 1u);
    EXPECT_EQ(layout_rows("\u9451\u9451", 1).size(), 2u);  // wider than the row: one a row, no loop
}

TEST(LiveView, GoesUpAsManyRowsAsTheLastFrameTakesAfterAResize) {
    EXPECT_EQ(cli::rows_above({}, 60), 0);
    EXPECT_EQ(cli::rows_above({11}, 60), 0);
    EXPECT_EQ(cli::rows_above({59, 59, 16}, 60), 2);
    EXPECT_EQ(cli::rows_above({59, 59, 16}, 40), 4);  // narrowed: the two full rows wrap again
    EXPECT_EQ(cli::rows_above({59, 0, 16}, 20), 4);   // an empty row still takes one
    EXPECT_EQ(cli::rows_above({39, 39}, 80), 1);      // widened
}

TEST(LiveView, HoldsBackACharacterAMaskMayStillComplete) {
    DIMPLE_REQUIRE_NPM();
    const Engine engine(dtest::chat_model_dir(), {Compute::F32, "", 0, {}});
    const text::Tokenizer& tok = engine.tokenizer();
    const std::vector<int32_t> clef = tok.encode("\U0001D11E");  // musical G clef: 4 bytes, 2 tokens
    ASSERT_EQ(clef.size(), 2u);
    const int64_t a = clef[0], b = clef[1], mask = engine.config().ids.mask, eos = engine.config().ids.eos,
                  pad = engine.config().ids.pad;
    EXPECT_EQ(render_partial(engine, {a, b}), "\U0001D11E");
    EXPECT_EQ(render_partial(engine, {a, mask}), "\u2591");      // first half waits for the mask
    EXPECT_EQ(render_partial(engine, {mask, b}), "\u2591");      // second half waits for a lead byte
    EXPECT_EQ(render_partial(engine, {a, eos, pad}), "\uFFFD\u00b7\u00b7");  // nothing can finish it
    EXPECT_EQ(render_partial(engine, {a, b, mask}), "\U0001D11E\u2591");
    const std::vector<int32_t> hello = tok.encode("Hello world\n\t\x1b");
    std::vector<int64_t> ids(hello.begin(), hello.end());
    ids.push_back(mask);
    EXPECT_EQ(render_partial(engine, ids), "Hello world\u21B5 \u241B\u2591");  // controls as glyphs
}

namespace {

// A tmux server of its own, with one detached session of a fixed size running a command.
class Tmux {
public:
    Tmux(int width, int height, const std::string& command) : socket_("dimple-test-" + std::to_string(getpid())) {
        const std::string cmd = tmux() + " new-session -d -x " + std::to_string(width) + " -y " +
                                std::to_string(height) + " " + quote(command + "; echo __DONE__; sleep 600");
        started_ = std::system(cmd.c_str()) == 0;
    }
    ~Tmux() { std::system((tmux() + " kill-server 2>/dev/null").c_str()); }
    bool started() const { return started_; }

    // Output of a tmux command.
    std::string query(const std::string& args) const {
        std::string out;
        FILE* p = popen((tmux() + " " + args).c_str(), "r");
        if (!p) return out;
        char buf[4096];
        for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        pclose(p);
        return out;
    }
    // The whole pane, scrollback included, wrapped lines joined.
    std::string capture() const { return query("capture-pane -p -J -S - -E -"); }
    bool wait_for(const std::string& what, int seconds) const {
        for (int i = 0; i < seconds * 4; ++i) {
            if (query("capture-pane -p -J").find(what) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
        return false;
    }

private:
    std::string tmux() const { return "tmux -f /dev/null -L " + socket_; }
    static std::string quote(const std::string& s) {
        std::string q = "'";
        for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return q + "'";
    }
    std::string socket_;
    bool started_ = false;
};

int count_lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

// 96 answer tokens at width 60 fill several rows a frame; every frame must replace the last.
TEST(LiveView, RedrawsALongAnswerInPlaceInAFixedSizeTerminal) {
    DIMPLE_REQUIRE_NPM();
    if (std::system("command -v tmux >/dev/null") != 0) GTEST_SKIP() << "tmux is absent (scripts/setup installs it)";
    const std::string args = "run --model " + dtest::chat_model_dir() +
                             " --prompt 'Describe the image.' -n 96 -s 12 --threshold 0 --temperature 0 --threads 1";
    const auto plain = dtest::run_cli(args);  // to a pipe: the text and the summary line (stderr)
    ASSERT_EQ(plain.exit_code, 0) << plain.out;
    EXPECT_EQ(plain.out.find('\033'), std::string::npos) << "control codes written to a pipe";
    // Drop the stderr lines: the summary and auto's choice of compute (whose memory figure varies).
    // (No <regex>: GCC 12 warns inside it in sanitizer builds.)
    std::string text;
    std::istringstream lines(plain.out);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("[12 steps", 0) != 0 && line.rfind("dimple: compute", 0) != 0) text += line + "\n";

    Tmux tmux(60, 20, "OMP_WAIT_POLICY=passive " + dtest::cli_path() + " " + args);
    ASSERT_TRUE(tmux.started());
    ASSERT_TRUE(tmux.wait_for("__DONE__", 600)) << tmux.capture();
    const std::string screen = tmux.capture();
    const int history = std::stoi(tmux.query("display -p '#{history_size}'"));
    // The final text (as printed to a pipe) and the summary stay; no frame is left behind.
    EXPECT_NE(screen.find(text.substr(0, text.find('\n'))), std::string::npos) << screen;
    const size_t summary = screen.find("[12 steps, ");
    ASSERT_NE(summary, std::string::npos) << screen;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(screen[summary + 11]))) << screen;
    EXPECT_EQ(screen.find("[step"), std::string::npos) << screen;
    EXPECT_EQ(history, 0) << screen;
    EXPECT_LT(count_lines(screen), 20) << screen;
}
