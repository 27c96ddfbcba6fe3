// Fuzzes the kernel command line reader (common/cmdline_view.h) and the
// Cmdline builder: every word lies inside the input, names and values lie
// inside their word, and what the builder writes reads back the same.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string>
#include <string_view>

#include "common/cmdline.h"
#include "common/cmdline_view.h"

namespace {

void Check(bool ok) {
  if (!ok) abort();
}

bool Inside(saveoops::CmdlineSpan inner, saveoops::CmdlineSpan outer) {
  return inner.data >= outer.data && inner.data + inner.size <= outer.data + outer.size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  const char* text = reinterpret_cast<const char*>(data);
  const CmdlineSpan all{text, size};
  CmdlineReader r(text, size);
  CmdlineWord w;
  Cmdline rebuilt(size);
  size_t words = 0;
  while (r.Next(&w)) {
    ++words;
    Check(words <= size);
    Check(!w.text.empty() && Inside(w.text, all));
    Check(Inside(w.name, w.text));
    if (w.has_value) Check(Inside(w.value, w.text));
    // Each word read as it was written is the same word again.
    const std::string_view word(w.text.data, w.text.size);
    if (rebuilt.InsertWords(word).ok()) {
      const std::vector<KernelParam> again = KernelParams(word);
      Check(again.size() == 1);
      Check(again[0].name == std::string_view(w.name.data, w.name.size));
    }
  }
  Check(Inside(r.init_arguments(), all));
  Check(rebuilt.size() <= rebuilt.capacity());
  // Insert(key, value) reads back through CmdlineValue.
  if (size >= 1) {
    const size_t split = 1 + data[0] % size;  // key: text[1, split), value: the rest
    const std::string_view key(text + 1, split - 1);
    const std::string_view value(text + split, size - split);
    Cmdline line(4096);
    if (line.Insert(key, value).ok()) Check(CmdlineValue(line.text(), key) == std::string(value));
  }
  return 0;
}
