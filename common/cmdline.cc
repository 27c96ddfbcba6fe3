#include "common/cmdline.h"

#include <limits.h>

#include "common/format.h"

namespace saveoops {
namespace {

std::string_view View(CmdlineSpan s) { return std::string_view(s.data, s.size); }

std::string Escaped(std::string_view s) { return HexEscape({s.data(), s.size()}); }

bool IsControl(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The word `key` names: printable, no blank, no '=' (it would end the name)
// and no '"' (it would start a quoted run).
Status CheckName(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("command line parameter with an empty name");
  for (char c : key) {
    if (IsControl(c) || c == ' ' || c == '=' || c == '"') {
      return InvalidArgumentError(Concat("command line parameter name '", Escaped(key),
                                         "' holds a blank, control character, '=' or '\"'"));
    }
  }
  return OkStatus();
}

}  // namespace

CmdlineInteger CmdlineIntegerInRange(std::string_view line, std::string_view key,
                                     long long fallback, long long min, long long max) {
  const std::optional<std::string> text = CmdlineValue(line, key);
  if (!text) return {fallback, ""};
  const std::string range = Concat("(", min, "..", max, ")");
  const std::string said = Concat(key, "=", Escaped(*text));
  const CmdlineInteger not_a_number{
      fallback, Concat(said, " is not an integer ", range, ": using ", fallback)};
  std::string_view digits = *text;
  const bool negative = !digits.empty() && digits[0] == '-';
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
  if (digits.empty()) return not_a_number;
  // The value, saturated at the ends of long long: any value that saturates
  // is out of every range a caller can give.
  long long value = 0;
  bool saturated = false;
  for (const char c : digits) {
    if (c < '0' || c > '9') return not_a_number;
    const int d = c - '0';
    if (saturated) continue;
    if (negative ? value < (LLONG_MIN + d) / 10 : value > (LLONG_MAX - d) / 10) {
      saturated = true;
      value = negative ? LLONG_MIN : LLONG_MAX;
      continue;
    }
    value = value * 10 + (negative ? -d : d);
  }
  if (saturated || value < min || value > max) {
    const long long used = (saturated ? negative : value < min) ? min : max;
    return {used, Concat(said, " is out of range ", range, ": using ", used)};
  }
  return {value, ""};
}

std::vector<KernelParam> KernelParams(std::string_view line) {
  std::vector<KernelParam> out;
  CmdlineReader r(line.data(), line.size());
  CmdlineWord w;
  while (r.Next(&w)) {
    KernelParam p{View(w.text), View(w.name), std::nullopt};
    if (w.has_value) p.value = View(w.value);
    out.push_back(p);
  }
  return out;
}

std::string_view InitArguments(std::string_view line) {
  CmdlineReader r(line.data(), line.size());
  CmdlineWord w;
  while (r.Next(&w)) {
  }
  return View(r.init_arguments());
}

std::optional<std::string> CmdlineValue(std::string_view line, std::string_view key) {
  std::optional<std::string> value;
  for (const KernelParam& p : KernelParams(line)) {
    if (p.name == key && p.value) value = std::string(*p.value);
  }
  return value;
}

bool CmdlineHas(std::string_view line, std::string_view key) {
  for (const KernelParam& p : KernelParams(line)) {
    if (p.name == key) return true;
  }
  return false;
}

Status Cmdline::Insert(std::string_view key, std::string_view value) {
  if (Status s = CheckName(key); !s.ok()) return s;
  bool blank = false;
  for (char c : value) {
    if (c == '"' || (IsControl(c) && c != '\t')) {
      return InvalidArgumentError(Concat("command line value ", key, "='", Escaped(value),
                                         "' holds a '\"' or control character"));
    }
    blank = blank || IsCmdlineBlank(c);
  }
  return Append(blank ? Concat(key, "=\"", value, "\"") : Concat(key, "=", value));
}

Status Cmdline::InsertWords(std::string_view words) {
  while (!words.empty() && IsCmdlineBlank(words.front())) words.remove_prefix(1);
  while (!words.empty() && IsCmdlineBlank(words.back())) words.remove_suffix(1);
  if (words.empty()) return OkStatus();
  bool in_quote = false;
  for (char c : words) {
    if (IsControl(c) && c != '\t') {
      return InvalidArgumentError(
          Concat("command line words '", Escaped(words), "' hold a control character"));
    }
    if (c == '"') in_quote = !in_quote;
  }
  if (in_quote) {
    return InvalidArgumentError(
        Concat("command line words '", Escaped(words), "' open a double quote and never close it"));
  }
  return Append(words);
}

Status Cmdline::Append(std::string_view piece) {
  const size_t start = line_.size() + (line_.empty() ? 0 : 1);
  const size_t grown = start + piece.size();
  if (grown > capacity_) {
    // Name the first word that crosses the capacity, not all of `piece`.
    std::string_view word = piece;
    CmdlineReader r(piece.data(), piece.size());
    CmdlineWord w;
    while (r.Next(&w)) {
      if (start + static_cast<size_t>(w.text.data - piece.data()) + w.text.size > capacity_) {
        word = View(w.text);
        break;
      }
    }
    return InvalidArgumentError(Concat("the command line would be ", grown, " bytes with '",
                                       Escaped(word), "'; its capacity is ", capacity_, " bytes"));
  }
  if (!line_.empty()) line_ += ' ';
  line_.append(piece.data(), piece.size());
  return OkStatus();
}

}  // namespace saveoops
