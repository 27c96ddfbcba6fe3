#include "host/flags.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace saveoops {

CommandLine::CommandLine(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

void CommandLine::Flag(const std::string& name, const std::string& default_value,
                       const std::string& help) {
  order_.push_back(name);
  specs_[name] = Spec{default_value, help};
}

void CommandLine::Switch(const std::string& name, const std::string& help) {
  order_.push_back(name);
  Spec spec{"false", help};
  spec.kind = Kind::kSwitch;
  specs_[name] = spec;
}

void CommandLine::IntFlag(const std::string& name, const std::string& default_value,
                          const std::string& help, int64_t min, int64_t max) {
  order_.push_back(name);
  Spec spec{default_value, help};
  spec.kind = Kind::kInt;
  spec.int_min = min;
  spec.int_max = max;
  specs_[name] = spec;
}

void CommandLine::SizeFlag(const std::string& name, const std::string& default_value,
                           const std::string& help, uint64_t min, uint64_t max) {
  order_.push_back(name);
  Spec spec{default_value, help};
  spec.kind = Kind::kSize;
  spec.size_min = min;
  spec.size_max = max;
  specs_[name] = spec;
}

absl::Status CommandLine::CheckValue(const std::string& name, const Spec& spec,
                                     const std::string& value) const {
  if (spec.kind == Kind::kInt) {
    const std::string range = absl::StrCat(spec.int_min, "..", spec.int_max);
    int64_t v = 0;
    const bool parsed = absl::SimpleAtoi(value, &v);
    // Digits SimpleAtoi refuses are a number past 64 bits: out of range too.
    absl::string_view digits = value;
    if (!absl::ConsumePrefix(&digits, "-")) absl::ConsumePrefix(&digits, "+");
    const bool number =
        !digits.empty() && digits.find_first_not_of("0123456789") == absl::string_view::npos;
    if (!parsed && !number) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", value, " is not an integer in ", range));
    }
    if (!parsed || v < spec.int_min || v > spec.int_max) {
      return absl::OutOfRangeError(
          absl::StrCat("--", name, "=", value, " is out of range (", range, ")"));
    }
  } else if (spec.kind == Kind::kSize) {
    if (value.empty() && spec.default_value.empty()) return absl::OkStatus();
    const std::string range =
        absl::StrCat(FormatSizeForRange(spec.size_min), "..", FormatSizeForRange(spec.size_max));
    absl::StatusOr<uint64_t> v = ParseSize(value);
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": ", v.status().message(), " (want a size in ", range, ")"));
    }
    if (*v < spec.size_min || *v > spec.size_max) {
      return absl::OutOfRangeError(
          absl::StrCat("--", name, "=", value, " is out of range (", range, ")"));
    }
  }
  return absl::OkStatus();
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
    if (it->second.kind == Kind::kSwitch) {
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
    if (absl::Status s = CheckValue(name, it->second, value); !s.ok()) return s;
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
  auto spec = specs_.find(name);
  if (spec != specs_.end()) {
    if (absl::Status s = CheckValue(name, spec->second, Get(name)); !s.ok()) return s;
  }
  int64_t v = 0;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", Get(name), " is not an integer"));
  }
  return v;
}

absl::StatusOr<uint64_t> CommandLine::GetSize(const std::string& name) const {
  auto spec = specs_.find(name);
  if (spec != specs_.end()) {
    if (absl::Status s = CheckValue(name, spec->second, Get(name)); !s.ok()) return s;
    if (spec->second.kind == Kind::kSize && Get(name).empty()) return 0;
  }
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
    const bool is_switch = s.kind == Kind::kSwitch;
    std::string left =
        is_switch ? absl::StrCat("  --", name) : absl::StrCat("  --", name, "=VALUE");
    absl::StrAppendFormat(&out, "%-28s %s", left, s.help);
    if (s.kind == Kind::kInt) absl::StrAppend(&out, " (", s.int_min, "..", s.int_max);
    if (s.kind == Kind::kSize) {
      absl::StrAppend(&out, " (", FormatSizeForRange(s.size_min), "..",
                      FormatSizeForRange(s.size_max));
    }
    const bool ranged = s.kind == Kind::kInt || s.kind == Kind::kSize;
    if (!is_switch && !s.default_value.empty()) {
      absl::StrAppend(&out, ranged ? "; " : " (", "default: ", s.default_value, ")");
    } else if (ranged) {
      absl::StrAppend(&out, ")");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "  --help                       print this help\n");
  return out;
}

absl::StatusOr<uint64_t> ParseSize(const std::string& text) {
  std::string t = std::string(absl::StripAsciiWhitespace(text));
  if (t.empty()) return absl::InvalidArgumentError("empty size");
  // SimpleAtoi would read "-5" into a uint64_t as 2^64 - 5.
  if (t[0] == '-' || t[0] == '+')
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size"));
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

std::string FormatSizeForRange(uint64_t bytes) {
  static constexpr std::pair<int, char> kUnits[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
  for (const auto& [shift, unit] : kUnits) {
    const uint64_t one = uint64_t{1} << shift;
    if (bytes >= one && bytes % one == 0) return absl::StrCat(bytes >> shift, std::string(1, unit));
  }
  return absl::StrCat(bytes);
}

}  // namespace saveoops
