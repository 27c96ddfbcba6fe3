#include "host/flags.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace saveoops {

CommandLine::CommandLine(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

void CommandLine::Flag(const std::string& name, const std::string& default_value,
                       const std::string& help) {
  order_.push_back(name);
  specs_[name] = Spec{default_value, help, false};
}

void CommandLine::Switch(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = Spec{"false", help, true};
}

absl::StatusOr<bool> CommandLine::Parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (arg == "--") {
      for (++i; i < argc; ++i) positional_.push_back(argv[i]);
      break;
    }
    if (!absl::StartsWith(arg, "--")) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = specs_.find(name);
    if (it == specs_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (it->second.is_switch) {
      if (!has_value) value = "true";
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value or true/false, got '", value, "'"));
      }
    } else if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = argv[++i];
    }
    values_[name] = value;
  }
  return true;
}

std::string CommandLine::Get(const std::string& name) const {
  auto v = values_.find(name);
  if (v != values_.end()) return v->second;
  auto s = specs_.find(name);
  return s == specs_.end() ? "" : s->second.default_value;
}

bool CommandLine::IsSet(const std::string& name) const { return values_.count(name) > 0; }

bool CommandLine::Enabled(const std::string& name) const { return Get(name) == "true"; }

absl::StatusOr<int64_t> CommandLine::GetInt(const std::string& name) const {
  int64_t v = 0;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", Get(name), " is not an integer"));
  }
  return v;
}

absl::StatusOr<uint64_t> CommandLine::GetSize(const std::string& name) const {
  absl::StatusOr<uint64_t> v = ParseSize(Get(name));
  if (!v.ok())
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", v.status().message()));
  return v;
}

std::string CommandLine::Help() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n\n", summary_, "\n");
  if (!order_.empty()) absl::StrAppend(&out, "\nflags:\n");
  for (const std::string& name : order_) {
    const Spec& s = specs_.at(name);
    std::string left =
        s.is_switch ? absl::StrCat("  --", name) : absl::StrCat("  --", name, "=VALUE");
    absl::StrAppendFormat(&out, "%-28s %s", left, s.help);
    if (!s.is_switch && !s.default_value.empty()) {
      absl::StrAppend(&out, " (default: ", s.default_value, ")");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "  --help                       print this help\n");
  return out;
}

absl::StatusOr<uint64_t> ParseSize(const std::string& text) {
  std::string t = std::string(absl::StripAsciiWhitespace(text));
  if (t.empty()) return absl::InvalidArgumentError("empty size");
  uint64_t mult = 1;
  const char last = absl::ascii_toupper(t.back());
  const int shift = last == 'K' ? 10 : last == 'M' ? 20 : last == 'G' ? 30 : last == 'T' ? 40 : 0;
  if (shift != 0) {
    mult = uint64_t{1} << shift;
    t.pop_back();
  }
  uint64_t v = 0;
  const bool ok =
      absl::StartsWith(t, "0x") ? absl::SimpleHexAtoi(t.substr(2), &v) : absl::SimpleAtoi(t, &v);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size"));
  if (v > UINT64_MAX / mult)
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is too large"));
  return v * mult;
}

}  // namespace saveoops
