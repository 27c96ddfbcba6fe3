// KEY=VALUE text. Rules: common/key_value.h.
#include "common/key_value.h"

#include <string>
#include <string_view>
#include <vector>

#include "common/format.h"

namespace saveoops {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool IsKeyStart(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }

Status LineError(const std::string& name, int line, const std::string& why) {
  return InvalidArgumentError(Format("%s:%d: %s", name, line, why));
}

}  // namespace

StatusOr<std::vector<KeyValue>> ParseKeyValues(std::string_view text, const std::string& name) {
  if (text.size() > kMaxKeyValueBytes) {
    return InvalidArgumentError(Format("%s: %u bytes, more than the %u a settings file may have",
                                       name, text.size(), kMaxKeyValueBytes));
  }
  std::vector<KeyValue> out;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    if (raw.size() > kMaxKeyValueLine) {
      return LineError(name, line_number,
                       Format("line of %u bytes, longer than %u", raw.size(), kMaxKeyValueLine));
    }
    for (size_t i = 0; i < raw.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(raw[i]);
      // Tabs are blanks; a '\r' may end a line (CRLF files); nothing else
      // below 0x20 (nor DEL) belongs in a settings file.
      if ((c < 0x20 && c != '\t' && !(c == '\r' && i + 1 == raw.size())) || c == 0x7f) {
        return LineError(name, line_number, Format("control byte 0x%02x at column %u", c, i + 1));
      }
    }
    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return LineError(
          name, line_number,
          Format("'%s' is not KEY=VALUE", HexEscape(absl::string_view(line.data(), line.size()))));
    }
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    bool key_ok = !key.empty() && key.size() <= kMaxKeyLength && IsKeyStart(key.front());
    for (const char c : key) key_ok = key_ok && IsKeyChar(c);
    if (!key_ok) {
      return LineError(
          name, line_number,
          Format("'%s' is not a key (lower-case letters, digits and '_', at most %u, not "
                 "starting with a digit)",
                 HexEscape(absl::string_view(key.data(), key.size())), kMaxKeyLength));
    }
    for (const KeyValue& kv : out) {
      if (kv.key == key) {
        return LineError(name, line_number,
                         Format("%s is set again (first on line %d)", kv.key, kv.line));
      }
    }
    out.push_back({std::string(key), std::string(value), line_number});
  }
  return out;
}

StatusOr<uint64_t> KeyValueNumber(const KeyValue& kv, const std::string& name, uint64_t max) {
  auto bad = [&](const std::string& why) {
    return LineError(name, kv.line, Format("%s=%s: %s", kv.key, HexEscape(kv.value), why));
  };
  if (kv.value.empty()) return bad("not a number");
  uint64_t n = 0;
  for (const char c : kv.value) {
    if (c < '0' || c > '9') return bad("not a number");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (digit > max || n > (max - digit) / 10) return bad(Format("more than %u", max));
    n = n * 10 + digit;
  }
  return n;
}

}  // namespace saveoops
