// The answer being denoised, redrawn in place on a terminal after every step (`dimple run`).
//
// A frame is laid out in rows of the terminal's width by this code (display cells counted per code
// point, rows ended explicitly), so it knows how many rows to go back up for the next frame
// whatever the width; the terminal size is read (TIOCGWINSZ) before each frame, so a resize
// between steps is followed (rows a terminal moves into its scrollback while it reflows on a resize
// are out of reach), and the frame is cut to the screen's height (rows that scrolled off the
// screen could not be redrawn). Text that is not complete yet is held back: the bytes of a
// character split over a committed token and a mask next to it are shown once both are there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace dimple::cli {

// The answer so far as text: masks as U+2591, eos and pad as U+00B7, committed tokens decoded
// with the bytes of a character that a neighbouring mask may still complete held back, and line
// breaks and other control characters shown as visible glyphs. Without a tokenizer, ids as [id].
std::string render_partial(const Engine& engine, const std::vector<int64_t>& answer);

// Terminal cells the code point takes: 0 (combining, zero width), 1, or 2 (wide, emoji).
int cell_width(char32_t cp);

struct Row {
    std::string text;
    int cells = 0;
};
// `text` (valid UTF-8, no control characters) cut into rows of at most `width` cells (a character
// wider than `width` gets a row of its own); at least one row.
std::vector<Row> layout_rows(std::string_view text, int width);

// How many rows above the cursor a frame whose rows were `cells` wide now reaches on a terminal
// `width` cells wide: its row count less one, or more when the terminal has been narrowed since
// and wraps the old rows again (a terminal that cuts them instead keeps fewer: going up as if
// wrapped never leaves an old frame behind, at worst it erases a line above the view).
int rows_above(const std::vector<int>& cells, int width);

class LiveView {
public:
    explicit LiveView(bool enabled) : enabled_(enabled) {}
    ~LiveView() { clear(); }
    bool enabled() const { return enabled_; }

    // Replaces the previous frame with `text` (one line, no control characters) on stdout.
    void show(std::string_view text);
    // Erases the last frame, leaving the cursor where it began.
    void clear();

private:
    bool enabled_;
    std::vector<int> last_cells_;  // cells of each row of the last frame
};

}  // namespace dimple::cli
