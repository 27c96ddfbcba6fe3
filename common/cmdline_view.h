// The kernel command line, read the way the kernel reads it: the
// allocation-free part of common/cmdline.h, for freestanding code too
// (saveoops.efi has no libc and no libstdc++: only <stddef.h> here).
//
// Words (lib/cmdline.c, next_arg(); kernel/params.c, parse_args()):
//   - words are separated by runs of blanks (space, \t, \n, \v, \f, \r);
//   - a double quote toggles "inside quotes", where blanks do not separate:
//     `a="x y"` and `"a=x y"` are one word each;
//   - a word's name runs to its first '=', its value is the rest; quotes
//     around the value (or around the whole word) are dropped, quotes inside
//     are kept;
//   - a word `--` (without '=') ends the kernel's parameters: the rest of the
//     line is init's (init/main.c, start_kernel(): after_dashes).
//
// Example:
//   CmdlineReader r("root=/dev/sda2 q=\"a b\" quiet -- single", n);
//   CmdlineWord w;
//   while (r.Next(&w)) ...   // {root, /dev/sda2}, {q, a b}, {quiet, no value}
//   r.init_arguments()       // "single"
#ifndef SAVEOOPS_COMMON_CMDLINE_VIEW_H_
#define SAVEOOPS_COMMON_CMDLINE_VIEW_H_

#include <stddef.h>

namespace saveoops {

// A run of bytes inside the command line being read; never owns them.
struct CmdlineSpan {
  const char* data = nullptr;
  size_t size = 0;

  constexpr bool empty() const { return size == 0; }
  // True if the bytes equal the NUL-terminated `text`.
  constexpr bool Equals(const char* text) const {
    size_t i = 0;
    for (; i < size; ++i) {
      if (text[i] == '\0' || text[i] != data[i]) return false;
    }
    return text[i] == '\0';
  }
  // True if the bytes equal data[0, n).
  constexpr bool Equals(const char* text, size_t n) const {
    if (n != size) return false;
    for (size_t i = 0; i < n; ++i) {
      if (text[i] != data[i]) return false;
    }
    return true;
  }
};

// The kernel's isspace() on ASCII (include/linux/ctype.h, lib/ctype.c).
constexpr bool IsCmdlineBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// One word of the command line, as next_arg() splits it.
struct CmdlineWord {
  CmdlineSpan text;   // the word as written, quotes included
  CmdlineSpan name;   // up to the first '=' (the whole word if none)
  CmdlineSpan value;  // after the '=', outer quotes dropped; empty if none
  bool has_value = false;

  // True if this is `key` or `key=...`.
  constexpr bool Is(const char* key) const { return name.Equals(key); }
};

// Walks the kernel's part of a command line word by word.
class CmdlineReader {
 public:
  // Reads data[0, size); a NUL ends the line early, as it ends the kernel's.
  constexpr CmdlineReader(const char* data, size_t size) : data_(data), size_(size) {
    for (size_t i = 0; i < size_; ++i) {
      if (data_[i] == '\0') {
        size_ = i;
        break;
      }
    }
  }

  // The next word; false at the end of the line or at `--`.
  constexpr bool Next(CmdlineWord* word) {
    SkipBlanks();
    if (done_ || pos_ == size_) return false;
    const size_t start = pos_;
    bool in_quote = false;
    while (pos_ < size_ && (in_quote || !IsCmdlineBlank(data_[pos_]))) {
      if (data_[pos_] == '"') in_quote = !in_quote;
      ++pos_;
    }
    const size_t end = pos_;
    // next_arg(): a leading quote opens the word, and a quote at its end
    // closes it.
    size_t body = start;
    size_t body_end = end;
    const bool quoted = data_[body] == '"';
    if (quoted) ++body;
    size_t equals = body_end;
    for (size_t i = body + 1; i < body_end; ++i) {  // next_arg() ignores '=' at index 0
      if (data_[i] == '=') {
        equals = i;
        break;
      }
    }
    CmdlineWord w;
    w.text = {data_ + start, end - start};
    if (equals == body_end) {
      if (quoted && body_end > body && data_[body_end - 1] == '"') --body_end;
      w.name = {data_ + body, body_end - body};
      if (w.name.Equals("--")) {
        done_ = true;
        SkipBlanks();
        return false;
      }
    } else {
      w.name = {data_ + body, equals - body};
      size_t v = equals + 1;
      if (v < body_end && data_[v] == '"') {
        ++v;
        if (body_end > v && data_[body_end - 1] == '"') --body_end;
      } else if (quoted && body_end > v && data_[body_end - 1] == '"') {
        --body_end;
      }
      w.value = {data_ + v, body_end - v};
      w.has_value = true;
    }
    *word = w;
    return true;
  }

  // After Next() returned false: the words after `--` (init's), leading
  // blanks skipped; empty if the line has no `--`.
  constexpr CmdlineSpan init_arguments() const {
    if (!done_) return {data_ + size_, 0};
    return {data_ + pos_, size_ - pos_};
  }

 private:
  constexpr void SkipBlanks() {
    while (pos_ < size_ && IsCmdlineBlank(data_[pos_])) ++pos_;
  }

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  bool done_ = false;
};

// The last `key=value` among the kernel's words (for most parameters the
// last occurrence wins: each one overwrites the value). False if none has
// a value.
constexpr bool FindCmdlineValue(const char* data, size_t size, const char* key,
                                CmdlineSpan* value) {
  CmdlineReader r(data, size);
  CmdlineWord w;
  bool found = false;
  while (r.Next(&w)) {
    if (w.has_value && w.Is(key)) {
      *value = w.value;
      found = true;
    }
  }
  return found;
}

// True if a kernel word is `key` or `key=...`.
constexpr bool CmdlineHasParam(const char* data, size_t size, const char* key) {
  CmdlineReader r(data, size);
  CmdlineWord w;
  while (r.Next(&w)) {
    if (w.Is(key)) return true;
  }
  return false;
}

// Builds a command line in a caller's fixed buffer, for code without
// allocation (saveoops.efi). Every word is appended whole or not at all;
// the text stays NUL-terminated.
class CmdlineBuffer {
 public:
  // `capacity` counts the text's bytes, not the NUL: buf holds capacity+1.
  CmdlineBuffer(char* buf, size_t capacity) : buf_(buf), capacity_(capacity) { buf_[0] = '\0'; }

  // Appends data[0, n) as one or more words, a space before it unless the
  // buffer is empty. False (and nothing appended) if it would not fit or
  // holds a NUL.
  bool Append(const char* data, size_t n) { return AppendPieces(data, n, nullptr, 0); }
  // Appends the NUL-terminated `text` (see above).
  bool Append(const char* text) { return Append(text, Length(text)); }
  // Appends `key=value` as one word.
  bool AppendParam(const char* key, const char* value) {
    return AppendPieces(key, Length(key), value, Length(value));
  }

  const char* c_str() const { return buf_; }
  size_t size() const { return size_; }

 private:
  static size_t Length(const char* text) {
    size_t n = 0;
    while (text[n] != '\0') ++n;
    return n;
  }
  static bool HasNul(const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (data[i] == '\0') return true;
    }
    return false;
  }
  // Appends a, then '=' and b if b is given, as one piece; all or nothing.
  bool AppendPieces(const char* a, size_t an, const char* b, size_t bn) {
    if (an == 0 && b == nullptr) return true;
    if (HasNul(a, an) || (b != nullptr && HasNul(b, bn))) return false;
    const size_t sep = size_ == 0 ? 0 : 1;
    const size_t eq = b == nullptr ? 0 : 1;
    const size_t room = capacity_ - size_;
    // Each term is compared on its own so that no sum can wrap.
    if (an > room || bn > room - an || sep + eq > room - an - bn) return false;
    if (sep) buf_[size_++] = ' ';
    for (size_t i = 0; i < an; ++i) buf_[size_++] = a[i];
    if (eq) buf_[size_++] = '=';
    for (size_t i = 0; i < bn; ++i) buf_[size_++] = b[i];
    buf_[size_] = '\0';
    return true;
  }

  char* buf_;
  size_t capacity_;
  size_t size_ = 0;
};

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_CMDLINE_VIEW_H_
