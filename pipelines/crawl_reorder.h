// A bounded reorder window with a deadline: the crawl graph's replacement for a sequencer_node
// in front of the stages whose result depends on order (URL extraction, the commit order).
//
// Items are numbered densely from 0 (every number arrives exactly once) and leave in number
// order, except that no item waits more than `deadline` for the ones before it, and the window
// never holds more than `max_held` items: then the missing numbers are given up on, the held
// items go on in order, and a given-up item goes on alone the moment it arrives ("late").
// So one stalled URL costs the items behind it at most `deadline`, once, instead of its whole
// timeout; and the order (hence labels and near-duplicate groups) is the same for the same
// responses whenever no response is later than `deadline` behind the ones numbered after it.
//
// Thread-safety: none; owned by one serial flow-graph node (which also receives timer ticks).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace memes::pipelines::crawl {

template <class T>
class ReorderWindow {
 public:
  using Clock = std::chrono::steady_clock;

  // Requires: max_held >= 1.
  ReorderWindow(std::chrono::milliseconds deadline, size_t max_held)
      : deadline_(deadline), max_held_(max_held) {}

  // Item number `seq` has arrived at `now`; appends to `out` every item that may go on now, in
  // order. Requires: each seq is added once.
  void Add(uint64_t seq, T item, Clock::time_point now, std::vector<T>& out) {
    if (seq < next_) {  // given up on earlier: it goes on alone, out of order
      ++late_;
      out.push_back(std::move(item));
      return;
    }
    held_.emplace(seq, Held{std::move(item), now});
    Drain(now, out);
  }

  // A timer tick: gives up on a gap older than the deadline even when nothing arrives.
  void Expire(Clock::time_point now, std::vector<T>& out) { Drain(now, out); }

  size_t held() const { return held_.size(); }
  uint64_t late() const { return late_; }  // items that arrived after their place was given up
  uint64_t next() const { return next_; }  // the number the window waits for

 private:
  struct Held {
    T item;
    Clock::time_point arrived;
  };

  void Drain(Clock::time_point now, std::vector<T>& out) {
    for (;;) {
      while (!held_.empty() && held_.begin()->first == next_) {
        out.push_back(std::move(held_.begin()->second.item));
        held_.erase(held_.begin());
        ++next_;
      }
      if (held_.empty()) return;
      // Invariant: held_.begin()->first > next_: a gap. The lowest held item waited longest
      // for it (items behind it wait on it too, so its wait is the one that counts).
      const bool too_old = now - held_.begin()->second.arrived >= deadline_;
      if (!too_old && held_.size() <= max_held_) return;
      next_ = held_.begin()->first;  // give up on [next_, first held)
    }
  }

  std::chrono::milliseconds deadline_;
  size_t max_held_;
  uint64_t next_ = 0;
  uint64_t late_ = 0;
  std::map<uint64_t, Held> held_;
};

}  // namespace memes::pipelines::crawl
