#include "text/bpe.h"

#include <algorithm>
#include <queue>

namespace dimple::text {

Bpe::Bpe(const int32_t (&byte_tokens)[256]) { std::copy(byte_tokens, byte_tokens + 256, byte_tokens_); }

void Bpe::add_merge(int32_t left, int32_t right, int32_t merged) {
    merges_.insert_or_assign(key(left, right), Merge{next_rank_++, merged});
}

const Bpe::Merge* Bpe::find(int32_t left, int32_t right) const {
    auto it = merges_.find(key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
}

void Bpe::encode(std::string_view word, std::vector<int32_t>& out) const {
    const int n = int(word.size());
    if (n == 1) {
        out.push_back(byte_tokens_[uint8_t(word[0])]);
        return;
    }
    // A doubly linked list of symbols and a min-heap of candidate merges keyed by (rank, position):
    // O(n log n), where rescanning all pairs after each merge would be quadratic in long pieces.
    struct Symbol {
        int32_t id;
        int prev, next;  // -1 at the ends
    };
    struct Candidate {
        int32_t rank;
        int pos;  // the left symbol
        int32_t left, right;  // the ids it was made for: stale once either side has changed
        int32_t merged;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::vector<Symbol> sym(word.size());
    for (int i = 0; i < n; ++i) sym[i] = {byte_tokens_[uint8_t(word[i])], i - 1, i + 1 < n ? i + 1 : -1};

    std::vector<Candidate> storage;
    storage.reserve(word.size());
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap(std::greater<>{}, std::move(storage));
    auto consider = [&](int pos) {
        const int next = sym[pos].next;
        if (next < 0) return;
        if (const Merge* m = find(sym[pos].id, sym[next].id))
            heap.push({m->rank, pos, sym[pos].id, sym[next].id, m->merged});
    };
    for (int i = 0; i + 1 < n; ++i) consider(i);

    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        Symbol& s = sym[c.pos];
        if (s.id != c.left || s.next < 0 || sym[s.next].id != c.right) continue;  // stale
        // A symbol that was merged away has id -1, so a candidate naming it is stale above.
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
