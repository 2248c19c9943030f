#include "cli/live_view.h"

#include <sys/ioctl.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdio>

#include "text/utf8.h"

namespace dimple::cli {

namespace {

// Calls f(code point, its bytes) for each code point of valid UTF-8 `s`.
template <typename F>
void for_each_code_point(std::string_view s, F&& f) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    for (utf8proc_ssize_t i = 0, n = utf8proc_ssize_t(s.size()); i < n;) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t len = std::max<utf8proc_ssize_t>(utf8proc_iterate(p + i, n - i, &cp), 1);
        f(char32_t(cp), s.substr(size_t(i), size_t(len)));
        i += len;
    }
}

// Line breaks and other control characters as glyphs: printed raw they would move the cursor
// behind the view's back (or be terminal commands).
void append_visible(std::string_view text, std::string& out) {
    for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
        if (cp == '\n' || cp == '\r') out += "\u21B5";          // downwards arrow with corner leftwards
        else if (cp == '\t') out += ' ';
        else if (cp < 0x20) text::append_utf8(0x2400 + cp, out);  // control pictures
        else if (cp == 0x7F) out += "\u2421";
        else if (cp >= 0x80 && cp < 0xA0) out += text::kReplacementChar;
        else out += bytes;
    });
}

void write_out(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

std::string render_partial(const Engine& engine, const std::vector<int64_t>& answer) {
    const SpecialIds& ids = engine.config().ids;
    std::string out, run;    // run: the bytes of the committed tokens since the last mask/eos/pad
    bool after_mask = false;  // whether that run follows a mask
    // A mask before the run may still bring the lead byte of continuation bytes that open it, and
    // a mask after it the rest of a character it leaves unfinished: both are held back.
    const auto flush = [&](bool before_mask) {
        std::string_view bytes = run;
        for (int k = 0; after_mask && k < 3 && !bytes.empty() && (uint8_t(bytes[0]) & 0xC0) == 0x80; ++k)
            bytes.remove_prefix(1);
        std::string text;
        text::append_utf8_lossy(bytes, text, !before_mask);
        append_visible(text, out);
        run.clear();
    };
    for (int64_t id : answer) {
        if (id == ids.mask || id == ids.eos || id == ids.pad) {
            flush(id == ids.mask);
            out += id == ids.mask ? "\u2591" : "\u00b7";  // light shade, middle dot
            after_mask = id == ids.mask;
        } else if (!engine.has_tokenizer()) {
            out.append("[").append(std::to_string(id)).append("]");
        } else if (!engine.tokenizer().is_special(int32_t(id))) {
            run += engine.tokenizer().token_bytes(int32_t(id));
        }
    }
    flush(false);
    return out;
}

int cell_width(char32_t cp) { return std::max(utf8proc_charwidth(utf8proc_int32_t(cp)), 0); }

std::vector<Row> layout_rows(std::string_view text, int width) {
    std::vector<Row> rows(1);
    for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
        const int w = cell_width(cp);
        if (rows.back().cells > 0 && rows.back().cells + w > width) rows.emplace_back();
        rows.back().text += bytes;
        rows.back().cells += w;
    });
    return rows;
}

int rows_above(const std::vector<int>& cells, int width) {
    int rows = 0;
    for (int c : cells) rows += std::max(1, (c + width - 1) / width);
    return std::max(rows - 1, 0);
}

void LiveView::show(std::string_view text) {
    if (!enabled_) return;
    winsize ws{};
    const bool known = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0;
    const int width = known ? ws.ws_col : 80, height = known ? ws.ws_row : 24;
    // One cell to spare on each row: a character the terminal draws wider than utf8proc says must
    // not push the row into an automatic wrap that this count would miss.
    std::vector<Row> rows = layout_rows(text, std::max(width - 1, 1));
    if (int(rows.size()) > std::max(height - 1, 1)) rows.resize(size_t(std::max(height - 1, 1)));

    std::string out;
    if (const int up = rows_above(last_cells_, width); up > 0) out += "\033[" + std::to_string(up) + "A";
    out += "\r";
    last_cells_.clear();
    for (size_t i = 0; i < rows.size(); ++i) {
        out += rows[i].text + "\033[K";
        if (i + 1 < rows.size()) out += "\r\n";
        last_cells_.push_back(rows[i].cells);
    }
    write_out(out + "\033[J");
}

void LiveView::clear() {
    if (!enabled_ || last_cells_.empty()) return;
    winsize ws{};
    const int width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
    // Line by line, then back to the top: erasing the screen's end from its top-left corner would
    // look like a screen clear to tmux, which then copies the screen into its history.
    const int up = rows_above(last_cells_, width);
    const std::string up_code = up > 0 ? "\033[" + std::to_string(up) + "A" : "";
    std::string out = up_code + "\r";
    for (int row = 0; row <= up; ++row) out += row < up ? "\033[2K\033[1B" : "\033[2K";
    write_out(out + up_code);
    last_cells_.clear();
}

}  // namespace dimple::cli
