#include "text/bpe.h"

#include <algorithm>

namespace dimple::text {

namespace {

uint64_t mix(uint64_t k) {  // a 64-bit finalizer (splitmix64): ids are dense, spread them out
    k ^= k >> 30, k *= 0xbf58476d1ce4e5b9ull;
    k ^= k >> 27, k *= 0x94d049bb133111ebull;
    return k ^ (k >> 31);
}

}  // namespace

Bpe::Bpe(const int32_t (&byte_tokens)[256]) { std::copy(byte_tokens, byte_tokens + 256, byte_tokens_); }

Bpe::Merge& Bpe::slot(uint64_t k) {
    const size_t mask = table_.size() - 1;
    for (size_t i = mix(k) & mask;; i = (i + 1) & mask)
        if (table_[i].key == k || table_[i].key == kEmpty) return table_[i];
}

void Bpe::grow() {
    std::vector<Merge> old = std::move(table_);
    table_.assign(std::max<size_t>(64, old.size() * 2), Merge{});
    for (const Merge& m : old)
        if (m.key != kEmpty) slot(m.key) = m;
}

void Bpe::add_merge(int32_t left, int32_t right, int32_t merged) {
    if (2 * (count_ + 1) > table_.size()) grow();
    Merge& m = slot(key(left, right));
    count_ += m.key == kEmpty;
    m = Merge{key(left, right), next_rank_++, merged};
}

const Bpe::Merge* Bpe::find(int32_t left, int32_t right) const {
    if (table_.empty()) return nullptr;
    const uint64_t k = key(left, right);
    const size_t mask = table_.size() - 1;
    for (size_t i = mix(k) & mask;; i = (i + 1) & mask) {
        if (table_[i].key == k) return &table_[i];
        if (table_[i].key == kEmpty) return nullptr;
    }
}

void Bpe::encode(std::string_view word, std::vector<int32_t>& out) const {
    if (word.size() == 1) {
        out.push_back(byte_tokens_[uint8_t(word[0])]);
        return;
    }
    merge(word.size(), [&](size_t i) { return byte_tokens_[uint8_t(word[i])]; }, out);
}

void Bpe::encode(std::span<const int32_t> symbols, std::vector<int32_t>& out) const {
    merge(symbols.size(), [&](size_t i) { return symbols[i]; }, out);
}

template <typename Initial>
void Bpe::merge(size_t count, Initial initial, std::vector<int32_t>& out) const {
    const int n = int(count);
    if (n == 0) return;
    // A doubly linked list of symbols and a min-heap of candidate merges keyed by (rank, position):
    // O(n log n), where rescanning all pairs after each merge would be quadratic in long pieces.
    struct Symbol {
        int32_t id;
        int prev, next;  // -1 at the ends
    };
    struct Candidate {
        int32_t rank;
        int pos;              // the left symbol
        int32_t left, right;  // the ids it was made for: stale once either side has changed
        int32_t merged;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    // Reused between calls: most pieces are a few bytes, and allocating would dominate. A long
    // piece gets buffers of its own, freed on return: kept per thread, one 10 MB piece left each
    // of a server's threads holding 300 MB.
    thread_local std::vector<Symbol> kept_sym;
    thread_local std::vector<Candidate> kept_heap;
    std::vector<Symbol> own_sym;
    std::vector<Candidate> own_heap;
    const bool long_piece = count > kKeptScratch;
    std::vector<Symbol>& sym = long_piece ? own_sym : kept_sym;
    std::vector<Candidate>& heap = long_piece ? own_heap : kept_heap;
    sym.resize(count);
    heap.clear();
    for (int i = 0; i < n; ++i) sym[i] = {initial(size_t(i)), i - 1, i + 1 < n ? i + 1 : -1};

    auto consider = [&](int pos) {
        const int next = sym[pos].next;
        if (next < 0) return;
        if (const Merge* m = find(sym[pos].id, sym[next].id)) {
            heap.push_back({m->rank, pos, sym[pos].id, sym[next].id, m->merged});
            std::push_heap(heap.begin(), heap.end(), std::greater<>{});
        }
    };
    for (int i = 0; i + 1 < n; ++i) consider(i);

    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        const Candidate c = heap.back();
        heap.pop_back();
        Symbol& s = sym[c.pos];
        // A symbol that was merged away has id -1, so a candidate naming it is stale too.
        if (s.id != c.left || s.next < 0 || sym[s.next].id != c.right) continue;
        Symbol& r = sym[s.next];
        s.id = c.merged;
        r.id = -1;
        s.next = r.next;
        if (r.next >= 0) sym[r.next].prev = c.pos;
        if (s.prev >= 0) consider(s.prev);
        consider(c.pos);
    }
    for (int i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

}  // namespace dimple::text
