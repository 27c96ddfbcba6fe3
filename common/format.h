// String building and splitting for the libraries the static capture
// program links (capture/vmcore, vmcoreinfo, printk, store/store). absl's
// StrCat, StrFormat, StrSplit and string_view::find are not inline: they
// bring absl's number, int128 and iostream code, hundreds of KiB, into a
// static binary. These use only header-only std::to_chars and
// std::string_view. Host code keeps using absl.
//
// Format() takes absl::StrFormat's format strings and, like it, formats
// each integer by its value whatever length modifier the string names
// ("%u" prints a uint64_t whole). Directives: % then flags (-, +, space,
// #, 0), a width, a precision (.N), length modifiers (ignored), and one of
// d i u x X o c s %. A directive whose argument is missing, or an unknown
// one, is copied as it is; a string given for an integer directive (or the
// other way round) is printed as the argument is, never misread.
//
// Example:
//   std::string s = Concat("segment ", 3, " of ", name);
//   AppendFormat(&s, " at %#x (%u bytes)", addr, size);
//   HexEscape("a\n\x01") == "a\\n\\x01"
#ifndef SAVEOOPS_COMMON_FORMAT_H_
#define SAVEOOPS_COMMON_FORMAT_H_

#include <stdint.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace saveoops {
namespace format_internal {

// One argument: a string, or an integer kept with its sign.
class Arg {
 public:
  Arg(std::string_view s) : text_(s) {}
  Arg(absl::string_view s) : text_(s.data(), s.size()) {}
  Arg(const std::string& s) : text_(s) {}
  Arg(const char* s) : text_(s) {}
  template <typename I,
            typename = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Arg(I value) : is_integer_(true) {
    if constexpr (std::is_signed_v<I>) {
      negative_ = value < 0;
      // Negate in unsigned arithmetic: -INT64_MIN overflows int64_t.
      magnitude_ = negative_ ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    } else {
      magnitude_ = value;
    }
  }

  bool is_integer() const { return is_integer_; }
  bool negative() const { return negative_; }
  uint64_t magnitude() const { return magnitude_; }
  std::string_view text() const { return text_; }

 private:
  bool is_integer_ = false;
  bool negative_ = false;
  uint64_t magnitude_ = 0;
  std::string_view text_;
};

void AppendArgs(std::string* out, std::initializer_list<Arg> args);
void AppendFormatted(std::string* out, std::string_view format, std::initializer_list<Arg> args);

}  // namespace format_internal

// Its arguments (strings and integers, in decimal) one after the other,
// like absl::StrCat.
template <typename... Args>
std::string Concat(const Args&... args) {
  std::string out;
  format_internal::AppendArgs(&out, {format_internal::Arg(args)...});
  return out;
}

// Appends its arguments to `out`, like absl::StrAppend.
template <typename... Args>
void AppendTo(std::string* out, const Args&... args) {
  format_internal::AppendArgs(out, {format_internal::Arg(args)...});
}

// `format` with its directives replaced by `args` (see the file comment),
// like absl::StrFormat.
template <typename... Args>
std::string Format(std::string_view format, const Args&... args) {
  std::string out;
  format_internal::AppendFormatted(&out, format, {format_internal::Arg(args)...});
  return out;
}

// Appends Format(format, args...) to `out`, like absl::StrAppendFormat.
template <typename... Args>
void AppendFormat(std::string* out, std::string_view format, const Args&... args) {
  format_internal::AppendFormatted(out, format, {format_internal::Arg(args)...});
}

// The pieces of `text` between `separator`s, empty ones included, like
// absl::StrSplit(text, separator): Split("a,,b", ',') == {"a", "", "b"},
// Split("", ',') == {""}.
std::vector<std::string_view> Split(std::string_view text, char separator);

// `pieces` with `separator` between them, like absl::StrJoin.
std::string Join(const std::vector<std::string>& pieces, std::string_view separator);

// `bytes` with \n \r \t \" \' \\ escaped and other bytes outside printable
// ASCII as \xHH, like absl::CHexEscape: safe to quote in a message.
std::string HexEscape(absl::string_view bytes);

// Lower-case hex digits of `bytes`, two per byte.
std::string HexString(absl::string_view bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_FORMAT_H_
