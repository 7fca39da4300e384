// Case files (include/edgecase/case_file.h, docs/CASE_FILES.md): the canonical writer, and a strict
// reader that a fuzzer can drive.
#include "edgecase/case_file.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#ifndef EDGECASE_VERSION
#error "EDGECASE_VERSION must be defined (CMakeLists.txt sets it from the project version)"
#endif

namespace edgecase {

std::string_view build_kit_version() { return EDGECASE_VERSION; }

namespace {

using L = CaseLimits;

constexpr std::string_view kMagic = "edgecase-case";
constexpr std::string_view kStepIndent = "  ";
// The optional lines after `handler NAME`: a shared object's handler arguments, in order.
constexpr std::string_view kHandlerArg = "handler-arg";
// The header's keywords in the order they must appear, then the peers' and the last line's:
// a misplaced keyword's position in this list tells a repeated line from a missing one.
constexpr std::array<std::string_view, 9> kOrder = {
    "edgecase-case", "kit", "handler", "protocol", "listen", "seed", "fault", "peer", "end-case"};
// A rejected line is quoted in the message up to this many characters.
constexpr size_t kMaxShown = 80;
// No line has more words than a fault line; a longer line is wrong whatever it says.
constexpr size_t kMaxWords = 4;

// --- steps: one keyword and one argument form per kind of step ---------------------------------

enum class Args : uint8_t { none, bytes, text, nanos, bytes_nanos };

struct StepSyntax {
  std::string_view keyword;
  Step::Op op;
  Args args;
  uint64_t min_bytes;  // the least `n` that makes sense (when the form has BYTES)
  Nanos min_nanos;     // the least `t` that makes sense (when the form has NANOS)
};

// `send` with data is spelled `send-data`; every other op has one keyword. `expect 0` and
// `slow-read 0 T` would never finish or never read, and `slow-read N 0` would spin.
constexpr std::array<StepSyntax, 12> kSteps = {{
    {"connect", Step::Op::connect, Args::none, 0, 0},
    {"send", Step::Op::send, Args::bytes, 0, 0},
    {"send-data", Step::Op::send, Args::text, 0, 0},
    {"expect", Step::Op::expect, Args::bytes, 1, 0},
    {"expect-line", Step::Op::expect_line, Args::none, 0, 0},
    {"read-eof", Step::Op::read_eof, Args::none, 0, 0},
    {"shutdown-write", Step::Op::shutdown_write, Args::none, 0, 0},
    {"close", Step::Op::close, Args::none, 0, 0},
    {"reset", Step::Op::reset, Args::none, 0, 0},
    {"sleep", Step::Op::sleep, Args::nanos, 0, 0},
    {"rcvbuf", Step::Op::rcvbuf, Args::bytes, 0, 0},
    {"slow-read", Step::Op::slow_read, Args::bytes_nanos, 1, 1},
}};

bool has_bytes(Args a) { return a == Args::bytes || a == Args::bytes_nanos; }
bool has_nanos(Args a) { return a == Args::nanos || a == Args::bytes_nanos; }

// "slow-read BYTES NANOS": the form error messages show.
std::string step_form(const StepSyntax& s) {
  std::string form(s.keyword);
  if (has_bytes(s.args)) form += " BYTES";
  if (s.args == Args::text) form += " \"TEXT\"";
  if (has_nanos(s.args)) form += " NANOS";
  return form;
}

const StepSyntax* syntax_of(const Step& step) {
  for (const StepSyntax& s : kSteps)
    if (s.op == step.op && (s.op != Step::Op::send || (s.args == Args::text) != step.data.empty()))
      return &s;
  return nullptr;
}

const StepSyntax* syntax_named(std::string_view keyword) {
  for (const StepSyntax& s : kSteps)
    if (s.keyword == keyword) return &s;
  return nullptr;
}

// --- values: one spelling each -----------------------------------------------------------------

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '+' || c == '-';
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > L::kMaxNameLength) return false;
  for (char c : s)
    if (!name_char(c)) return false;
  return true;
}

// Decimal digits, no sign, no leading zero (but "0").
bool parse_decimal(std::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "127.0.0.1": four decimal octets.
bool parse_address(std::string_view s, uint32_t& out) {
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return false;
    uint64_t octet = 0;
    if (!parse_decimal(s.substr(0, dot), octet) || octet > 255) return false;
    out = out << 8 | static_cast<uint32_t>(octet);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical
}

// "0x" and exactly 16 lower-case hex digits.
constexpr size_t kSeedDigits = 16;
bool parse_seed(std::string_view s, uint64_t& out) {
  if (s.size() != 2 + kSeedDigits || s.substr(0, 2) != "0x") return false;
  out = 0;
  for (char c : s.substr(2)) {
    const int d = hex_digit(c);
    if (d < 0) return false;
    out = out << 4 | static_cast<uint64_t>(d);
  }
  return true;
}

bool printable(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

// The one escape for `c`, or 0 when it is written as itself or as \xHH.
char short_escape(unsigned char c) {
  switch (c) {
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    case '\\': return '\\';
    case '"': return '"';
    default: return 0;
  }
}

// The byte `\e` stands for, for the escapes short_escape gives.
std::optional<char> short_unescape(char e) {
  switch (e) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '\\': return '\\';
    case '"': return '"';
    default: return std::nullopt;
  }
}

std::string quote(std::string_view data) {
  std::string out = "\"";
  for (char ch : data) {
    const auto c = static_cast<unsigned char>(ch);
    if (const char e = short_escape(c)) {
      out += '\\';
      out += e;
    } else if (printable(c)) {
      out += ch;
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out + '"';
}

std::string address_text(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

// --- checking a case ---------------------------------------------------------------------------

std::optional<std::string> check_step(const Step& step) {
  const StepSyntax* s = syntax_of(step);
  if (!s) return fmt::format("unknown op {}", static_cast<int>(step.op));
  const std::string form = step_form(*s);
  if (!has_bytes(s->args) && step.n != 0) return form + ": n must be 0";
  if (!has_nanos(s->args) && step.t != 0) return form + ": t must be 0";
  if (has_bytes(s->args) && (step.n < s->min_bytes || step.n > L::kMaxBytes))
    return fmt::format("{}: BYTES {} is outside {}..{}", form, step.n, s->min_bytes, L::kMaxBytes);
  if (has_nanos(s->args) && (step.t < s->min_nanos || step.t > L::kMaxTime))
    return fmt::format("{}: NANOS {} is outside {}..{}", form, step.t, s->min_nanos, L::kMaxTime);
  if (s->args != Args::text && !step.data.empty()) return form + ": data must be empty";
  if (step.data.size() > L::kMaxDataBytes)
    return fmt::format("{}: more than {} bytes", form, L::kMaxDataBytes);
  return std::nullopt;
}

std::optional<std::string> check_peer(const PeerScript& p) {
  if (p.start < 0 || p.start > L::kMaxTime)
    return fmt::format("start {} is outside 0..{}", p.start, L::kMaxTime);
  if (p.steps.size() > L::kMaxSteps) return fmt::format("more than {} steps", L::kMaxSteps);
  for (size_t i = 0; i < p.steps.size(); ++i)
    if (auto why = check_step(p.steps[i])) return fmt::format("step {}: {}", i + 1, *why);
  return std::nullopt;
}

// --- reading -----------------------------------------------------------------------------------

// A malformed file. Thrown by the reader's helpers and caught once, in parse_case, so that each
// helper reads as the grammar does.
struct Malformed {
  CaseError error;
};

[[noreturn]] void fail_at(int line, std::string_view what) {
  throw Malformed{CaseError{line, fmt::format("line {}: {}", line, what)}};
}

// A line that matters (not blank, not a comment). No text: the file ended before it.
struct Line {
  int number = 0;
  std::optional<std::string_view> text;
  bool eof() const { return !text; }
};

std::string shown(const Line& l) {
  if (l.eof()) return "end of file";
  if (l.text->size() <= kMaxShown) return fmt::format("`{}`", *l.text);
  return fmt::format("`{}...`", l.text->substr(0, kMaxShown));
}

// "line 7: expected `E`, got `LINE` (why)".
[[noreturn]] void fail(const Line& l, std::string_view expected, std::string_view why = {}) {
  std::string msg = fmt::format("expected {}, got {}", expected, shown(l));
  if (!why.empty()) msg += fmt::format(" ({})", why);
  fail_at(l.number, msg);
}

// The file's lines, each checked for length and bytes; skips blank lines and comments.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  // The next line; with `skip`, the next one that is neither blank nor a comment.
  Line next(bool skip = true) {
    for (;;) {
      if (pos_ == text_.size()) return Line{number_ + 1, std::nullopt};
      const std::string_view line = raw_line();
      const size_t first = line.find_first_not_of(' ');
      const bool comment = first != std::string_view::npos && line[first] == '#';
      if (!skip || !(line.empty() || comment)) return Line{number_, line};
    }
  }

 private:
  std::string_view raw_line() {
    if (++number_ > static_cast<int>(L::kMaxLines))
      fail_at(number_, fmt::format("more than {} lines", L::kMaxLines));
    const std::string_view window = text_.substr(pos_, L::kMaxLineLength + 1);
    const size_t nl = window.find('\n');
    if (nl == std::string_view::npos) {
      if (window.size() > L::kMaxLineLength)
        fail_at(number_, fmt::format("line longer than {} characters", L::kMaxLineLength));
      fail_at(number_, "missing newline at the end of the file");
    }
    const std::string_view line = window.substr(0, nl);
    pos_ += nl + 1;
    for (size_t i = 0; i < line.size(); ++i)
      if (!printable(static_cast<unsigned char>(line[i])))
        fail_at(number_, fmt::format("unexpected byte 0x{:02x} at column {} (a case file is "
                                     "printable ASCII; strings spell other bytes with escapes)",
                                     static_cast<unsigned char>(line[i]), i + 1));
    return line;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int number_ = 0;
};

// A line's words, split at single spaces.
struct Words {
  std::array<std::string_view, kMaxWords> w{};
  size_t n = 0;
  bool ok = true;  // false: an empty word (two spaces, a space at either end) or too many words
};

Words split(std::string_view s) {
  Words out;
  for (;;) {
    const size_t sp = s.find(' ');
    const std::string_view word = s.substr(0, sp);
    if (word.empty() || out.n == kMaxWords) {
      out.ok = false;
      return out;
    }
    out.w[out.n++] = word;
    if (sp == std::string_view::npos) return out;
    s.remove_prefix(sp + 1);
  }
}

// Why a line whose first word (after any indentation) is not one of kOrder[lo..hi], the ones
// expected here, is misplaced, when it is a keyword found elsewhere.
std::string order_hint(std::string_view line, size_t lo, size_t hi) {
  const size_t first = line.find_first_not_of(' ');
  line.remove_prefix(first == std::string_view::npos ? line.size() : first);
  const std::string_view word = line.substr(0, line.find(' '));
  if (syntax_named(word)) return "steps belong between `peer start NANOS` and `end`";
  if (word == kHandlerArg) return fmt::format("`{}` lines follow the `handler` line", kHandlerArg);
  for (size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] != word || (i >= lo && i <= hi)) continue;
    if (word == "fault" && i < lo) return "every fault is listed already";
    if (i < lo) return fmt::format("`{}` appears only once", word);
    return fmt::format("`{}` is missing before it", kOrder[lo]);
  }
  return {};
}

class Parser {
 public:
  explicit Parser(std::string_view text, CaseLines* lines) : reader_(text), lines_(lines) {}

  Case parse() {
    Case c;
    parse_magic(reader_.next(/*skip=*/false));
    c.kit_version = parse_name(reader_.next(), 1, "`kit VERSION`");
    c.scenario.handler = parse_name(reader_.next(), 2, "`handler NAME`");
    Line l = reader_.next();
    for (; !l.eof() && l.text->substr(0, kHandlerArg.size() + 1) == fmt::format("{} ", kHandlerArg);
         l = reader_.next())
      c.scenario.handler_args.push_back(parse_handler_arg(l, c.scenario.handler_args.size()));
    c.scenario.protocol = parse_name(l, 3, "`protocol NAME`");
    parse_listen(reader_.next(), c.scenario);
    c.seed = parse_seed_line(reader_.next());
    for (size_t i = 0; i < kFaultCount; ++i) c.faults.faults[i] = parse_fault(reader_.next(), i);
    parse_peers(c.scenario);
    const Line after = reader_.next();
    if (!after.eof()) fail(after, "end of file", "only comments may follow `end-case`");
    assert(!check_case(c) && "the reader accepts only cases the writer can write");
    return c;
  }

 private:
  static constexpr size_t kPeerIndex = 7;  // "peer" in kOrder; "end-case" follows it

  // Words of a header line whose first word must be kOrder[index].
  static Words header_words(const Line& l, size_t index, std::string_view form) {
    if (l.eof()) fail(l, form);
    const Words w = split(*l.text);
    if (w.n == 0 || w.w[0] != kOrder[index]) fail(l, form, order_hint(*l.text, index, index));
    return w;
  }

  static void parse_magic(const Line& l) {
    const std::string form = fmt::format("`{} {}`", kMagic, Case::kFormatVersion);
    if (l.eof()) fail(l, form);
    const Words w = split(*l.text);
    uint64_t version = 0;
    if (!w.ok || w.n != 2 || w.w[0] != kMagic || !parse_decimal(w.w[1], version))
      fail(l, form, "not a case file");
    if (version != Case::kFormatVersion)
      fail(l, form, fmt::format("format version {} is not supported: this build reads version {}",
                                w.w[1], Case::kFormatVersion));
  }

  static std::string parse_name(const Line& l, size_t index, std::string_view form) {
    const Words w = header_words(l, index, form);
    if (!w.ok || w.n != 2) fail(l, form);
    if (!valid_name(w.w[1]))
      fail(l, form, fmt::format("a name is 1 to {} characters from A-Z a-z 0-9 . _ + -",
                                L::kMaxNameLength));
    return std::string(w.w[1]);
  }

  // `handler-arg STRING`: one argument of a shared object's handler (argv[1...]), 0 to
  // kMaxHandlerArgBytes bytes, none of them NUL (argv cannot hold one).
  static std::string parse_handler_arg(const Line& l, size_t already) {
    const std::string form = fmt::format("`{} \"TEXT\"`", kHandlerArg);
    if (already == L::kMaxHandlerArgs)
      fail(l, form, fmt::format("a case has at most {} handler arguments", L::kMaxHandlerArgs));
    std::string arg = parse_text(l, form, l.text->substr(kHandlerArg.size()),
                                 L::kMaxHandlerArgBytes, /*allow_empty=*/true);
    if (arg.find('\0') != std::string::npos)
      fail(l, form, "an argument cannot hold a NUL byte (\\x00)");
    return arg;
  }

  static void parse_listen(const Line& l, Scenario& s) {
    constexpr std::string_view form = "`listen ADDRESS PORT`";
    const Words w = header_words(l, 4, form);
    if (!w.ok || w.n != 3) fail(l, form);
    if (!parse_address(w.w[1], s.addr)) fail(l, form, "ADDRESS is four decimal octets, a.b.c.d");
    uint64_t port = 0;
    if (!parse_decimal(w.w[2], port) || port == 0 || port > UINT16_MAX)
      fail(l, form, "PORT is 1 to 65535");
    s.port = static_cast<uint16_t>(port);
  }

  static uint64_t parse_seed_line(const Line& l) {
    constexpr std::string_view form = "`seed 0xHEX`";
    const Words w = header_words(l, 5, form);
    uint64_t seed = 0;
    if (!w.ok || w.n != 2 || !parse_seed(w.w[1], seed))
      fail(l, form, "the seed is 0x and 16 lower-case hex digits");
    return seed;
  }

  static Fault parse_fault(const Line& l, size_t i) {
    const std::string_view name = fault_name(static_cast<FaultKind>(i));
    const std::string form = fmt::format("`fault {} on|off PER_MILLE`", name);
    const Words w = header_words(l, 6, form);
    if (w.ok && w.n >= 2 && w.w[1] != name)
      fail(l, form, fmt::format("each fault once, in a fixed order: `{}` comes next", name));
    uint64_t per_mille = 0;
    if (!w.ok || w.n != 4 || (w.w[2] != "on" && w.w[2] != "off")) fail(l, form);
    if (!parse_decimal(w.w[3], per_mille) || per_mille > Fault::kPerMille)
      fail(l, form, fmt::format("PER_MILLE is 0 to {}", Fault::kPerMille));
    return Fault{w.w[2] == "on", static_cast<uint32_t>(per_mille)};
  }

  void parse_peers(Scenario& s) {
    constexpr std::string_view form = "`peer start NANOS` or `end-case`";
    for (;;) {
      const Line l = reader_.next();
      if (l.eof()) fail(l, form);
      if (*l.text == "end-case") return;
      const Words w = split(*l.text);
      if (!w.ok || w.n != 3 || w.w[0] != "peer" || w.w[1] != "start")
        fail(l, form, order_hint(*l.text, kPeerIndex, kPeerIndex + 1));
      uint64_t start = 0;
      if (!parse_decimal(w.w[2], start) || start > static_cast<uint64_t>(L::kMaxTime))
        fail(l, form, fmt::format("NANOS is 0 to {}", L::kMaxTime));
      if (s.peers.size() == L::kMaxPeers)
        fail(l, form, fmt::format("a case has at most {} peers", L::kMaxPeers));
      s.peers.push_back(PeerScript{static_cast<Nanos>(start), {}});
      if (lines_) {
        lines_->peers.push_back(l.number);
        lines_->steps.emplace_back();
      }
      parse_steps(s.peers.back());
    }
  }

  void parse_steps(PeerScript& p) {
    constexpr std::string_view form = "a step or `end`";
    for (;;) {
      const Line l = reader_.next();
      if (l.eof()) fail(l, form);
      const std::string_view text = *l.text;
      if (text == "end") return;
      if (text.size() <= kStepIndent.size() || text.substr(0, kStepIndent.size()) != kStepIndent ||
          text[kStepIndent.size()] == ' ')
        fail(l, form, indentation_hint(text));
      if (p.steps.size() == L::kMaxSteps)
        fail(l, form, fmt::format("a peer has at most {} steps", L::kMaxSteps));
      p.steps.push_back(parse_step(l, text.substr(kStepIndent.size())));
      if (lines_) lines_->steps.back().push_back(l.number);
    }
  }

  static std::string indentation_hint(std::string_view text) {
    const size_t first = text.find_first_not_of(' ');
    const std::string_view rest = text.substr(first == std::string_view::npos ? 0 : first);
    if (syntax_named(rest.substr(0, rest.find(' ')))) return "steps are indented by two spaces";
    return {};
  }

  static Step parse_step(const Line& l, std::string_view text) {
    const std::string_view keyword = text.substr(0, text.find(' '));
    const StepSyntax* s = syntax_named(keyword);
    if (!s) fail(l, "a step or `end`", fmt::format("no step is called `{}`", keyword));
    const std::string form = fmt::format("`{}`", step_form(*s));
    Step step;
    step.op = s->op;
    if (s->args == Args::text) {
      step.data = parse_text(l, form, text.substr(keyword.size()));
      return step;
    }
    const Words w = split(text);
    const size_t want = 1 + has_bytes(s->args) + has_nanos(s->args);
    if (!w.ok || w.n != want) fail(l, form);
    if (has_bytes(s->args)) step.n = parse_count(l, form, w.w[1], s->min_bytes, L::kMaxBytes);
    if (has_nanos(s->args))
      step.t = static_cast<Nanos>(parse_count(l, form, w.w[want - 1],
                                              static_cast<uint64_t>(s->min_nanos),
                                              static_cast<uint64_t>(L::kMaxTime)));
    return step;
  }

  static uint64_t parse_count(const Line& l, const std::string& form, std::string_view word,
                              uint64_t lo, uint64_t hi) {
    uint64_t v = 0;
    if (!parse_decimal(word, v) || v < lo || v > hi)
      fail(l, form, fmt::format("`{}` is not a decimal number from {} to {}", word, lo, hi));
    return v;
  }

  // ` "TEXT"` to the end of the line: the bytes, unescaped.
  static std::string parse_text(const Line& l, const std::string& form, std::string_view s,
                                size_t max_bytes = L::kMaxDataBytes, bool allow_empty = false) {
    if (s.substr(0, 2) != " \"") fail(l, form);
    std::string out;
    size_t i = 2;
    for (;; ++i) {
      if (i == s.size()) fail(l, form, "unterminated string");
      if (s[i] == '"') break;
      if (out.size() == max_bytes) fail(l, form, fmt::format("at most {} bytes", max_bytes));
      if (s[i] != '\\') {
        out += s[i];
        continue;
      }
      out += parse_escape(l, form, s, i);
    }
    if (i + 1 != s.size()) fail(l, form, "nothing may follow the closing quote");
    if (out.empty() && !allow_empty) fail(l, form, "at least one byte: `send 0` sends none");
    return out;
  }

  // The escape at s[i] (a backslash); leaves i on its last character.
  static char parse_escape(const Line& l, const std::string& form, std::string_view s, size_t& i) {
    const std::string_view esc = s.substr(i, 2);
    if (esc.size() < 2) fail(l, form, "unterminated string");
    if (const std::optional<char> c = short_unescape(esc[1])) {
      ++i;
      return *c;
    }
    if (esc[1] != 'x')
      fail(l, form, fmt::format("`{}` is not an escape: \\n \\r \\t \\\\ \\\" \\xHH", esc));
    const std::string_view hex = s.substr(i, 4);
    const int hi = hex.size() == 4 ? hex_digit(hex[2]) : -1;
    const int lo = hex.size() == 4 ? hex_digit(hex[3]) : -1;
    if (hi < 0 || lo < 0) fail(l, form, "\\x takes two lower-case hex digits");
    const auto c = static_cast<unsigned char>(hi << 4 | lo);
    const char byte = static_cast<char>(c);
    if (printable(c) || short_escape(c))
      fail(l, form, fmt::format("`{}` is spelled {}", hex, quote(std::string_view(&byte, 1))));
    i += 3;
    return byte;
  }

  Reader reader_;
  CaseLines* lines_;
};

// --- validating: what a well-formed case needs to run -------------------------------------------

// The connection a script holds, step by step, as the peer engine (harness/peer.cc) will.
struct SocketState {
  bool socket = false;     // a socket exists (rcvbuf creates one before connect)
  bool connected = false;  // a connect step ran on it
  bool write_shut = false;
  bool read_eof = false;
  int closed_at = 0;       // the line of the close/reset that ended the last connection
};

// Why `step` cannot run in state `st` ("" if it can).
std::string impossible_step(const Step& step, const SocketState& st) {
  using Op = Step::Op;
  const bool needs_connection = step.op == Op::send || step.op == Op::expect ||
                                step.op == Op::expect_line || step.op == Op::read_eof ||
                                step.op == Op::shutdown_write;
  if (needs_connection && !st.connected) {
    if (st.closed_at != 0)
      return fmt::format("needs a connection, and the peer's own close or reset at line {} "
                         "ended it (add a `connect`)",
                         st.closed_at);
    return "needs a connection, and no `connect` comes before it";
  }
  if ((step.op == Op::close || step.op == Op::reset) && !st.socket)
    return "needs a socket, and the peer has none here";
  if (step.op == Op::connect && st.connected)
    return "the peer is connected already (close or reset first)";
  if (step.op == Op::send && st.write_shut)
    return "comes after the peer's own shutdown-write (it would fail with EPIPE)";
  if ((step.op == Op::expect || step.op == Op::expect_line || step.op == Op::read_eof) &&
      st.read_eof)
    return "comes after read-eof: no byte can arrive after the end of the stream";
  return {};
}

void apply_step(const Step& step, int line, SocketState& st) {
  switch (step.op) {
    case Step::Op::connect: st = SocketState{true, true, false, false, st.closed_at}; break;
    case Step::Op::rcvbuf: st.socket = true; break;
    case Step::Op::shutdown_write: st.write_shut = true; break;
    case Step::Op::read_eof: st.read_eof = true; break;
    case Step::Op::close:
    case Step::Op::reset: st = SocketState{false, false, false, false, line}; break;
    default: break;
  }
}

// The least virtual time `step` takes under a slow_read of `slow` (n bytes per t): ceil(n/b)
// reads, t apart. Saturates at RunLimits::kTimeLimit + 1.
Nanos least_time(const Step& step, const Step* slow) {
  constexpr Nanos kPast = RunLimits::kTimeLimit + 1;
  if (step.op == Step::Op::sleep) return std::min(step.t, kPast);
  if (step.op != Step::Op::expect || slow == nullptr) return 0;
  const uint64_t reads = (step.n + slow->n - 1) / slow->n;
  const uint64_t pauses = reads - 1;
  if (pauses > static_cast<uint64_t>(kPast / slow->t)) return kPast;
  return std::min(static_cast<Nanos>(pauses) * slow->t, kPast);
}

// Every validation error of `c`; `line_of(peer, step)` gives the line of a step (step -1: the
// peer's `peer start` line).
template <class LineOf>
std::vector<CaseError> validation_errors(const Case& c, const LineOf& line_of) {
  std::vector<CaseError> out;
  const auto error = [&](int line, std::string text) {
    out.push_back(CaseError{line, fmt::format("line {}: {}", line, text)});
  };
  uint64_t sent = 0;
  uint64_t expected = 0;
  bool bytes_reported = false;
  for (size_t pi = 0; pi < c.scenario.peers.size(); ++pi) {
    const PeerScript& p = c.scenario.peers[pi];
    const uint32_t peer = static_cast<uint32_t>(pi + 1);
    if (p.start >= RunLimits::kTimeLimit) {
      error(line_of(pi, -1), fmt::format("peer#{} starts at {} ns, at or past the run's time limit of "
                                         "{} ns: it would never run (peers start after the server first waits)",
                                         peer, p.start, RunLimits::kTimeLimit));
      continue;
    }
    SocketState st;
    bool connects = false;
    bool failed = false;
    Nanos t = p.start;
    const Step* slow = nullptr;
    for (size_t si = 0; si < p.steps.size() && !failed; ++si) {
      const Step& step = p.steps[si];
      const int line = line_of(pi, static_cast<int>(si));
      if (const std::string why = impossible_step(step, st); !why.empty()) {
        error(line, fmt::format("peer#{} step {} ({}) {}", peer, si + 1,
                                syntax_of(step)->keyword, why));
        failed = true;
        break;
      }
      apply_step(step, line, st);
      connects = connects || step.op == Step::Op::connect;
      if (step.op == Step::Op::slow_read) slow = &step;
      t += least_time(step, slow);
      if (t >= RunLimits::kTimeLimit) {
        error(line, fmt::format("peer#{} needs more than the run's time limit of {} ns of "
                                "virtual time by step {} (its start, sleeps and slow reads)",
                                peer, RunLimits::kTimeLimit, si + 1));
        failed = true;
      }
      const uint64_t n = step.bytes();
      if (step.op == Step::Op::send) sent += n;
      if (step.op == Step::Op::expect) expected += n;
      if (!bytes_reported && (sent > RunLimits::kMaxRunBytes || expected > RunLimits::kMaxRunBytes)) {
        bytes_reported = true;
        error(line, fmt::format("the peers {} more than {} bytes in total by peer#{} step {}: "
                                "more than one run can move (RunLimits::kMaxRunBytes)",
                                sent > RunLimits::kMaxRunBytes ? "send" : "expect",
                                RunLimits::kMaxRunBytes, peer, si + 1));
      }
    }
    if (!failed && !connects)
      error(line_of(pi, -1), fmt::format("peer#{} never connects (no `connect` step): a peer "
                                         "without a connection tests nothing",
                                         peer));
  }
  return out;
}

}  // namespace

std::vector<CaseError> validate_case(const Case& c, const CaseLines* lines) {
  assert(!check_case(c) && "validate_case: the case is not well formed (see check_case)");
  // Lines are looked up only when there is an error: most cases are valid.
  const auto no_line = [](size_t, int) { return 0; };
  if (validation_errors(c, no_line).empty()) return {};
  CaseLines canonical;
  if (lines == nullptr) {
    const auto parsed = parse_case(write_case(c), &canonical);
    assert(std::holds_alternative<Case>(parsed));
    (void)parsed;
    lines = &canonical;
  }
  assert(lines->peers.size() == c.scenario.peers.size());
  return validation_errors(c, [lines](size_t peer, int step) {
    return step < 0 ? lines->peers[peer] : lines->steps[peer][static_cast<size_t>(step)];
  });
}

std::optional<std::string> check_case(const Case& c) {
  if (!valid_name(c.kit_version)) return "kit version: not a name";
  if (!valid_name(c.scenario.handler)) return "handler: not a name";
  if (c.scenario.handler_args.size() > L::kMaxHandlerArgs)
    return fmt::format("more than {} handler arguments", L::kMaxHandlerArgs);
  for (const std::string& a : c.scenario.handler_args) {
    if (a.size() > L::kMaxHandlerArgBytes)
      return fmt::format("a handler argument of more than {} bytes", L::kMaxHandlerArgBytes);
    if (a.find('\0') != std::string::npos) return "a handler argument with a NUL byte";
  }
  if (!valid_name(c.scenario.protocol)) return "protocol: not a name";
  if (c.scenario.port == 0) return "port 0";
  for (size_t i = 0; i < kFaultCount; ++i)
    if (c.faults.faults[i].per_mille > Fault::kPerMille)
      return fmt::format("fault {}: per_mille above {}", fault_name(static_cast<FaultKind>(i)),
                         Fault::kPerMille);
  if (c.scenario.peers.size() > L::kMaxPeers)
    return fmt::format("more than {} peers", L::kMaxPeers);
  for (size_t i = 0; i < c.scenario.peers.size(); ++i)
    if (auto why = check_peer(c.scenario.peers[i])) return fmt::format("peer#{}: {}", i + 1, *why);
  return std::nullopt;
}

std::string write_case(const Case& c) {
  assert(!check_case(c) && "write_case: the case cannot be written (see check_case)");
  std::string out = fmt::format("{} {}\nkit {}\nhandler {}\n", kMagic, Case::kFormatVersion,
                                c.kit_version, c.scenario.handler);
  for (const std::string& a : c.scenario.handler_args)
    out += fmt::format("{} {}\n", kHandlerArg, quote(a));
  out += fmt::format("protocol {}\nlisten {} {}\nseed 0x{:016x}\n", c.scenario.protocol,
                     address_text(c.scenario.addr), c.scenario.port, c.seed);
  for (size_t i = 0; i < kFaultCount; ++i) {
    const Fault& f = c.faults.faults[i];
    out += fmt::format("fault {} {} {}\n", fault_name(static_cast<FaultKind>(i)),
                       f.on ? "on" : "off", f.per_mille);
  }
  for (const PeerScript& p : c.scenario.peers) {
    out += fmt::format("peer start {}\n", p.start);
    for (const Step& step : p.steps) {
      const StepSyntax* s = syntax_of(step);
      assert(s);
      out += fmt::format("{}{}", kStepIndent, s->keyword);
      if (s->args == Args::text) out += " " + quote(step.data);
      if (has_bytes(s->args)) out += fmt::format(" {}", step.n);
      if (has_nanos(s->args)) out += fmt::format(" {}", step.t);
      out += '\n';
    }
    out += "end\n";
  }
  return out + "end-case\n";
}

std::variant<Case, CaseError> parse_case(std::string_view text, CaseLines* lines) {
  CaseLines found;
  try {
    Case c = Parser(text, lines ? &found : nullptr).parse();
    if (lines) *lines = std::move(found);
    return c;
  } catch (const Malformed& m) {
    return m.error;
  }
}

std::variant<Case, CaseError> read_case_file(const std::string& path, CaseLines* lines) {
  const auto cannot = [&](int err) {
    return CaseError{0, fmt::format("cannot read {}: {}", path, std::strerror(err))};
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return cannot(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return CaseError{0, fmt::format("cannot read {}: not a regular file", path)};
  }
  if (static_cast<uint64_t>(st.st_size) > L::kMaxFileBytes) {  // refused before reading it
    ::close(fd);
    return CaseError{0, fmt::format("cannot read {}: longer than {} bytes", path,
                                    L::kMaxFileBytes)};
  }
  std::string text;
  std::array<char, 1 << 16> buf;  // the file is read in pieces of this size
  for (;;) {
    const ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      return cannot(err);
    }
    if (r == 0) break;
    text.append(buf.data(), static_cast<size_t>(r));
    if (text.size() > L::kMaxFileBytes) {
      ::close(fd);
      return CaseError{0, fmt::format("cannot read {}: longer than {} bytes", path,
                                      L::kMaxFileBytes)};
    }
  }
  ::close(fd);
  return parse_case(text, lines);
}

}  // namespace edgecase
