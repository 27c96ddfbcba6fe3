// saveoops.efi's messages: every line goes to the UEFI console (ConOut) and
// to the serial port, prefixed "saveoops.efi: ".
//
// Firmware often routes ConOut to the serial port already (OVMF does: its
// ConOut variable lists a UART terminal). Writing to the port as well would
// print every line twice there, so the serial port is written directly only
// when no instance of the ConOut device path holds a UART node
// (MESSAGING_DEVICE_PATH / MSG_UART_DP, UEFI 2.10 section 10.3.4.12).
#ifndef SAVEOOPS_BACKENDS_UEFI_EFI_CONSOLE_H_
#define SAVEOOPS_BACKENDS_UEFI_EFI_CONSOLE_H_

#include "backends/uefi/efi_env.h"

namespace saveoops {

// Values with their own formatting in Console::Say().
struct Dec {
  uint64_t v;
};
struct Hex {
  uint64_t v;
};
// Bytes as "12.3 MiB" (or "512 bytes").
struct Bytes {
  uint64_t v;
};
// An EFI_STATUS as its name, e.g. "EFI_NOT_FOUND".
struct Status {
  EFI_STATUS v;
};
// A 32-byte digest as 64 hex digits.
struct Digest32 {
  const uint8_t* bytes;
};

// One line of text being built.
class Text {
 public:
  void Append(const char* s);
  void Append(Dec d);
  void Append(Hex h);
  void Append(Bytes b);
  void Append(Status s);
  void Append(Digest32 d);
  const char* c_str() const { return buf_; }
  size_t size() const { return n_; }

 private:
  void Put(char c);
  char buf_[640] = {};
  size_t n_ = 0;
};

class Console {
 public:
  // Looks at ConOut and, if it lacks a serial terminal, finds a serial port.
  explicit Console(const EfiEnv& efi);

  // Prints "saveoops.efi: " and the arguments as one line.
  template <typename... Args>
  void Say(const Args&... args) {
    Text t;
    t.Append("saveoops.efi: ");
    (t.Append(args), ...);
    Emit(t);
  }

  // Whether lines also go straight to a serial port (for tests/diagnosis).
  bool writes_serial() const { return serial_ != nullptr; }

 private:
  void Emit(const Text& t);
  const EfiEnv& efi_;
  EFI_SERIAL_IO_PROTOCOL* serial_ = nullptr;
};

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_UEFI_EFI_CONSOLE_H_
