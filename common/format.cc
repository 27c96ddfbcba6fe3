#include "common/format.h"

#include <string.h>

#include <string>

namespace saveoops {
namespace {

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char kUpperHex[] = "0123456789ABCDEF";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True if `c` is one of `set`. (Not absl::string_view::find, which is not
// inline: it would bring absl's string_view.o and its iostream code along.)
bool IsOneOf(char c, const char* set) { return c != '\0' && strchr(set, c) != nullptr; }

// A parsed directive: %[flags][width][.precision][length]conversion.
struct Directive {
  bool left = false, plus = false, space = false, alternate = false, zero = false;
  size_t width = 0;
  bool has_precision = false;
  size_t precision = 0;
  char conversion = 0;
};

// Parses the directive starting after '%' at format[*i]; advances *i past
// it. False if the format ends inside it.
bool ParseDirective(std::string_view format, size_t* i, Directive* d) {
  size_t p = *i;
  for (; p < format.size(); ++p) {
    const char c = format[p];
    if (c == '-')
      d->left = true;
    else if (c == '+')
      d->plus = true;
    else if (c == ' ')
      d->space = true;
    else if (c == '#')
      d->alternate = true;
    else if (c == '0')
      d->zero = true;
    else
      break;
  }
  for (; p < format.size() && IsDigit(format[p]); ++p) d->width = d->width * 10 + (format[p] - '0');
  if (p < format.size() && format[p] == '.') {
    d->has_precision = true;
    for (++p; p < format.size() && IsDigit(format[p]); ++p) {
      d->precision = d->precision * 10 + (format[p] - '0');
    }
  }
  while (p < format.size() && IsOneOf(format[p], "hlLqjzt")) ++p;
  if (p >= format.size()) return false;
  d->conversion = format[p];
  *i = p + 1;
  return true;
}

void AppendPadded(std::string* out, const Directive& d, std::string_view prefix,
                  std::string_view body, bool zero_pad) {
  const size_t len = prefix.size() + body.size();
  const size_t pad = d.width > len ? d.width - len : 0;
  if (!d.left && !zero_pad) out->append(pad, ' ');
  out->append(prefix.data(), prefix.size());
  if (!d.left && zero_pad) out->append(pad, '0');
  out->append(body.data(), body.size());
  if (d.left) out->append(pad, ' ');
}

void AppendInteger(std::string* out, const Directive& d, const format_internal::Arg& arg) {
  const char conv = d.conversion;
  const unsigned base = conv == 'x' || conv == 'X' ? 16 : conv == 'o' ? 8 : 10;
  const char* digits = conv == 'X' ? kUpperHex : kLowerHex;
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  for (uint64_t v = arg.magnitude(); v != 0; v /= base) *--p = digits[v % base];
  // printf: precision is the minimum digit count, and "%.0d" of 0 is empty.
  const size_t min_digits = d.has_precision ? d.precision : 1;
  std::string body;
  if (static_cast<size_t>(end - p) < min_digits) body.append(min_digits - (end - p), '0');
  body.append(p, end);
  std::string prefix;
  const bool is_signed = conv == 'd' || conv == 'i';
  if (arg.negative()) {
    prefix = "-";
  } else if (is_signed && d.plus) {
    prefix = "+";
  } else if (is_signed && d.space) {
    prefix = " ";
  }
  if (d.alternate && arg.magnitude() != 0) {
    if (base == 16) prefix += conv == 'X' ? "0X" : "0x";
    if (base == 8 && body[0] != '0') body.insert(body.begin(), '0');
  }
  AppendPadded(out, d, prefix, body, d.zero && !d.left && !d.has_precision);
}

void AppendDirective(std::string* out, const Directive& d, const format_internal::Arg& arg) {
  switch (d.conversion) {
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o':
      if (arg.is_integer()) return AppendInteger(out, d, arg);
      return AppendPadded(out, d, "", arg.text(), false);
    case 'c':
      if (arg.is_integer()) {
        const char c = static_cast<char>(arg.magnitude());
        return AppendPadded(out, d, "", std::string_view(&c, 1), false);
      }
      return AppendPadded(out, d, "", arg.text(), false);
    default: {  // 's'
      if (arg.is_integer()) {
        Directive decimal = d;
        decimal.conversion = 'd';
        decimal.has_precision = false;
        return AppendInteger(out, decimal, arg);
      }
      std::string_view s = arg.text();
      if (d.has_precision && d.precision < s.size()) s = s.substr(0, d.precision);
      return AppendPadded(out, d, "", s, false);
    }
  }
}

}  // namespace

namespace format_internal {

void AppendArgs(std::string* out, std::initializer_list<Arg> args) {
  Directive decimal;
  decimal.conversion = 'd';
  for (const Arg& a : args) {
    if (a.is_integer()) {
      AppendInteger(out, decimal, a);
    } else {
      out->append(a.text().data(), a.text().size());
    }
  }
}

void AppendFormatted(std::string* out, std::string_view format, std::initializer_list<Arg> args) {
  const Arg* next = args.begin();
  size_t i = 0;
  while (i < format.size()) {
    const void* found = memchr(format.data() + i, '%', format.size() - i);
    if (found == nullptr) {
      out->append(format.data() + i, format.size() - i);
      return;
    }
    const size_t percent = static_cast<const char*>(found) - format.data();
    out->append(format.data() + i, percent - i);
    size_t after = percent + 1;
    Directive d;
    const bool parsed = ParseDirective(format, &after, &d);
    if (parsed && d.conversion == '%') {
      out->push_back('%');
    } else if (parsed && IsOneOf(d.conversion, "diuxXocs") && next != args.end()) {
      AppendDirective(out, d, *next++);
    } else {
      if (!parsed) after = format.size();
      out->append(format.data() + percent, after - percent);
    }
    i = after;
  }
}

}  // namespace format_internal

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const size_t at = text.find(separator);
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return pieces;
    text.remove_prefix(at + 1);
  }
}

std::string Join(const std::vector<std::string>& pieces, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(pieces[i]);
  }
  return out;
}

std::string HexEscape(absl::string_view bytes) {
  std::string out;
  bool after_hex_escape = false;
  for (const char c : bytes) {
    const unsigned char u = static_cast<unsigned char>(c);
    const bool hex_digit = IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    // A hex digit right after \xHH would read as part of it: escape it too.
    const bool hex_escape = u < 0x20 || u >= 0x7f || (after_hex_escape && hex_digit);
    after_hex_escape = false;
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (hex_escape) {
          out += "\\x";
          out += kLowerHex[u >> 4];
          out += kLowerHex[u & 0xf];
          after_hex_escape = true;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string HexString(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += kLowerHex[u >> 4];
    out += kLowerHex[u & 0xf];
  }
  return out;
}

}  // namespace saveoops
