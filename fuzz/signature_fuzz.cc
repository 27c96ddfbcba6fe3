// Fuzzes the crash signature of a record: the input's first line is the
// record's reason field, the rest its log text. The parser must stay in
// bounds, return at most kMaxSignatureFrames bounded frames and a 16-digit
// signature, and give the same result for the same input twice.
#include <stddef.h>
#include <stdint.h>

#include <string_view>

#include "store/signature.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view reason = in.substr(0, nl);
  std::string_view log = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  saveoops::CrashSignature a = saveoops::ComputeSignature(reason, log);
  saveoops::CrashSignature b = saveoops::ComputeSignature(reason, log);
  Check(a.hex.size() == 16);
  Check(a.hex == b.hex && a.reason == b.reason && a.frames == b.frames);
  Check(a.frames.size() <= saveoops::kMaxSignatureFrames);
  for (const auto& f : a.frames) {
    Check(!f.empty() && f.size() <= saveoops::kMaxSignatureFrameBytes);
  }
  Check(a.reason.size() <= 5 * saveoops::kMaxSignatureReasonBytes);
  return 0;
}
