#include "store/signature.h"

#include "common/sha256.h"

namespace saveoops {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsWordChar(char c) {
  return IsHex(c) || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '_';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSymbolChar(char c) { return IsWordChar(c) || c == '.' || c == '$'; }

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Drops a leading "[ <anything but ]> ] " kernel timestamp and white space.
std::string_view StripLinePrefix(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsSpace(line[i])) ++i;
  if (i < line.size() && line[i] == '[') {
    size_t close = line.find(']', i);
    if (close != std::string_view::npos && close - i <= 32) i = close + 1;
  }
  while (i < line.size() && IsSpace(line[i])) ++i;
  return line.substr(i);
}

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

bool IsCrashLine(std::string_view l) {
  static constexpr std::string_view kMarkers[] = {
      "Kernel panic", "Oops:", "BUG:", "general protection fault", "kernel BUG at"};
  for (std::string_view m : kMarkers) {
    if (l.find(m) != std::string_view::npos) return true;
  }
  return false;
}

// The function name of "name+0x1/0x2 [mod]", or empty if s is not a frame.
std::string_view FrameName(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsSymbolChar(s[n])) ++n;
  if (n == 0 || n > kMaxSignatureFrameBytes) return {};
  if (!StartsWith(s.substr(n), "+0x")) return {};
  return s.substr(0, n);
}

}  // namespace

std::string NormaliseReason(std::string_view reason) {
  reason = reason.substr(0, kMaxSignatureReasonBytes);
  std::string out;
  size_t i = 0;
  bool pending_space = false;
  while (i < reason.size()) {
    char c = reason[i];
    if (IsSpace(c) || static_cast<unsigned char>(c) < 0x20) {
      pending_space = !out.empty();
      ++i;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    bool at_word_start = i == 0 || !IsWordChar(reason[i - 1]);
    if (at_word_start && c == '0' && i + 2 < reason.size() &&
        (reason[i + 1] == 'x' || reason[i + 1] == 'X') && IsHex(reason[i + 2])) {
      i += 2;
      while (i < reason.size() && IsHex(reason[i])) ++i;
      out += "<hex>";
      continue;
    }
    if (at_word_start && IsHex(c)) {
      size_t j = i;
      while (j < reason.size() && IsHex(reason[j])) ++j;
      bool word_end = j == reason.size() || !IsWordChar(reason[j]);
      if (word_end && j - i >= 8) {
        out += "<hex>";
        i = j;
        continue;
      }
    }
    if (IsDigit(c)) {
      while (i < reason.size() && IsDigit(reason[i])) ++i;
      out += "<n>";
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

std::vector<std::string> SignatureFrames(std::string_view log) {
  if (log.size() > kMaxSignatureLogBytes) log = log.substr(log.size() - kMaxSignatureLogBytes);
  std::vector<std::string> frames;
  std::string rip;
  // Two passes at most: with a crash line, the trace after it; without one,
  // the first trace of the log.
  for (int pass = 0; pass < 2 && frames.empty(); ++pass) {
    bool seen_crash = pass == 1;
    bool in_trace = false;
    rip.clear();
    size_t pos = 0;
    while (pos < log.size()) {
      size_t nl = log.find('\n', pos);
      if (nl == std::string_view::npos) nl = log.size();
      std::string_view line = StripLinePrefix(log.substr(pos, nl - pos));
      pos = nl + 1;
      if (!in_trace) {
        if (!seen_crash) {
          seen_crash = IsCrashLine(line);
          continue;
        }
        if (StartsWith(line, "RIP: ")) {
          std::string_view r = line.substr(5);
          size_t colon = r.find(':');
          if (colon != std::string_view::npos && colon <= 8) r = r.substr(colon + 1);
          rip = std::string(FrameName(r));
        } else if (line.find("Call Trace:") != std::string_view::npos) {
          in_trace = true;
          if (!rip.empty()) frames.push_back(rip);
        }
        continue;
      }
      std::string_view f = TrimLeft(line);
      if (StartsWith(f, "</TASK>")) break;
      if (StartsWith(f, "<") || StartsWith(f, "? ")) continue;
      std::string_view name = FrameName(f);
      if (name.empty()) break;
      frames.emplace_back(name);
      if (frames.size() >= kMaxSignatureFrames) break;
    }
    if (!in_trace) frames.clear();
  }
  return frames;
}

CrashSignature ComputeSignature(std::string_view reason, std::string_view log) {
  CrashSignature sig;
  sig.reason = NormaliseReason(reason);
  sig.frames = SignatureFrames(log);
  std::string canonical = sig.reason + "\n";
  for (size_t i = 0; i < sig.frames.size(); ++i) {
    if (i) canonical += '\n';
    canonical += sig.frames[i];
  }
  Sha256 h(Sha256Engine::kPortable);
  h.Update(canonical.data(), canonical.size());
  Sha256Digest d = h.Finish();
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < 8; ++i) {
    sig.hex += kHex[d.bytes[i] >> 4];
    sig.hex += kHex[d.bytes[i] & 15];
  }
  return sig;
}

}  // namespace saveoops
