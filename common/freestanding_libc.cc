// The four memory functions clang may emit calls to even in freestanding
// code (struct copies, zeroing; -fno-builtin does not stop that), for the
// programs that link no C library: purgatory.bin and saveoops.efi. Byte
// loops: the purgatory moves small amounts and must not depend on SSE state
// (saveoops.efi does large copies through boot services instead), and
// `volatile` keeps the optimiser from turning a loop back into a call to
// itself.
#include <stddef.h>

extern "C" {

void* memcpy(void* dest, const void* src, size_t n) {
  auto* d = static_cast<volatile unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  for (size_t i = 0; i < n; ++i) d[i] = s[i];
  return dest;
}

void* memmove(void* dest, const void* src, size_t n) {
  auto* d = static_cast<volatile unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
  } else {
    for (size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
  }
  return dest;
}

void* memset(void* dest, int c, size_t n) {
  auto* d = static_cast<volatile unsigned char*>(dest);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<unsigned char>(c);
  return dest;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

}  // extern "C"
