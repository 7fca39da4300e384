// A small JSON writer for the timelines' files (harness/timeline.cc): commas and escapes in one
// place. Strings are written as UTF-8 with the escapes JSON requires (RFC 8259 section 7);
// a byte that is not valid UTF-8 becomes U+FFFD (trace lines are ASCII: strace quoting escapes
// every other byte, so none is expected).
#pragma once

#include <cassert>
#include <cstdint>
#include <fmt/format.h>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace edgecase {

class JsonText {
 public:
  JsonText& begin_object() { return open('{'); }
  JsonText& end_object() { return close('}'); }
  JsonText& begin_array() { return open('['); }
  JsonText& end_array() { return close(']'); }

  JsonText& key(std::string_view k) {
    value_start();
    quoted(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonText& string(std::string_view s) {
    value_start();
    quoted(s);
    return *this;
  }
  template <typename Int>
  JsonText& number(Int v) {
    value_start();
    fmt::format_to(std::back_inserter(out_), "{}", v);
    return *this;
  }

  // thousandths / 1000 as a decimal number with three digits after the point (the trace
  // event format's microseconds from nanoseconds).
  JsonText& thousandths(int64_t v) {
    value_start();
    if (v < 0) {
      out_ += '-';
      v = -v;
    }
    fmt::format_to(std::back_inserter(out_), "{}.{:03}", v / 1000, v % 1000);
    return *this;
  }

  std::string take() {
    assert(depth_.empty());
    return std::move(out_);
  }

 private:
  JsonText& open(char c) {
    value_start();
    out_ += c;
    depth_.push_back(true);
    return *this;
  }
  JsonText& close(char c) {
    assert(!depth_.empty());
    depth_.pop_back();
    out_ += c;
    return *this;
  }
  // A comma before every value but the first of its container (and none after a key).
  void value_start() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!depth_.empty()) {
      if (!depth_.back()) out_ += ',';
      depth_.back() = false;
    }
  }
  void quoted(std::string_view s) {
    out_ += '"';
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += static_cast<char>(c);
      } else if (c < 0x20) {
        fmt::format_to(std::back_inserter(out_), "\\u{:04x}", c);
      } else if (c < 0x80) {
        out_ += static_cast<char>(c);
      } else {
        i += utf8_sequence(s, i) - 1;
      }
    }
    out_ += '"';
  }
  // Copies the UTF-8 sequence at s[i] (or U+FFFD for an invalid one); returns bytes consumed.
  // Valid is what RFC 3629 section 4 allows: no lead byte past 0xf4 (beyond U+10FFFF), no
  // overlong form, no UTF-16 surrogate (0xed 0xa0-0xbf); the second byte's range depends on
  // the lead byte, the others are 0x80-0xbf.
  size_t utf8_sequence(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char low = 0x80, high = 0xbf;  // the second byte's range
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) n = 3;
    else if (c >= 0xf0 && c <= 0xf4) n = 4;
    if (c == 0xe0) low = 0xa0;
    if (c == 0xed) high = 0x9f;
    if (c == 0xf0) low = 0x90;
    if (c == 0xf4) high = 0x8f;
    bool ok = n != 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? b >= low && b <= high : (b & 0xc0) == 0x80;
    }
    if (!ok) {
      out_ += "\\ufffd";
      return 1;
    }
    out_.append(s.substr(i, n));
    return n;
  }

  std::string out_;
  std::vector<bool> depth_;  // per open container: no value written in it yet
  bool after_key_ = false;
};

}  // namespace edgecase
