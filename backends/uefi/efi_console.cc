#include "backends/uefi/efi_console.h"

namespace saveoops {
namespace {

// True if the multi-instance device path in data[0, size) has a UART node.
// The walk is bounds-checked: ConOut is firmware data, but a damaged
// variable must not send us past its end.
bool DevicePathHasUart(const uint8_t* data, size_t size) {
  size_t off = 0;
  while (off + 4 <= size) {
    const uint8_t type = data[off], subtype = data[off + 1];
    const size_t len = data[off + 2] | static_cast<size_t>(data[off + 3]) << 8;
    if (len < 4 || off + len > size) return false;
    if (type == MESSAGING_DEVICE_PATH && subtype == MSG_UART_DP) return true;
    if (type == END_DEVICE_PATH_TYPE && subtype == END_ENTIRE_DEVICE_PATH_SUBTYPE) return false;
    off += len;
  }
  return false;
}

const char* StatusName(EFI_STATUS s) {
  switch (s) {
    case EFI_SUCCESS:
      return "EFI_SUCCESS";
    case EFI_LOAD_ERROR:
      return "EFI_LOAD_ERROR";
    case EFI_INVALID_PARAMETER:
      return "EFI_INVALID_PARAMETER";
    case EFI_UNSUPPORTED:
      return "EFI_UNSUPPORTED";
    case EFI_BAD_BUFFER_SIZE:
      return "EFI_BAD_BUFFER_SIZE";
    case EFI_BUFFER_TOO_SMALL:
      return "EFI_BUFFER_TOO_SMALL";
    case EFI_NOT_READY:
      return "EFI_NOT_READY";
    case EFI_DEVICE_ERROR:
      return "EFI_DEVICE_ERROR";
    case EFI_WRITE_PROTECTED:
      return "EFI_WRITE_PROTECTED";
    case EFI_OUT_OF_RESOURCES:
      return "EFI_OUT_OF_RESOURCES";
    case EFI_VOLUME_CORRUPTED:
      return "EFI_VOLUME_CORRUPTED";
    case EFI_NOT_FOUND:
      return "EFI_NOT_FOUND";
    case EFI_ACCESS_DENIED:
      return "EFI_ACCESS_DENIED";
    case EFI_SECURITY_VIOLATION:
      return "EFI_SECURITY_VIOLATION";
    case EFI_ABORTED:
      return "EFI_ABORTED";
    default:
      return nullptr;
  }
}

}  // namespace

void Text::Put(char c) {
  if (n_ + 1 < sizeof(buf_)) {
    buf_[n_++] = c;
    buf_[n_] = '\0';
  }
}

void Text::Append(const char* s) {
  while (*s != '\0') Put(*s++);
}

void Text::Append(Dec d) {
  char digits[21];
  int n = 0;
  uint64_t v = d.v;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) Put(digits[--n]);
}

void Text::Append(Hex h) {
  Append("0x");
  bool started = false;
  for (int shift = 60; shift >= 0; shift -= 4) {
    const unsigned nibble = (h.v >> shift) & 0xf;
    if (nibble != 0 || started || shift == 0) {
      Put("0123456789abcdef"[nibble]);
      started = true;
    }
  }
}

void Text::Append(Bytes b) {
  if (b.v < 1024 * 1024) {
    Append(Dec{b.v});
    Append(" bytes");
    return;
  }
  // One decimal, rounded down: no floating point in the image (PE images
  // that touch the FPU need the _fltused symbol and an FPU state the
  // firmware may not have set up for us).
  const uint64_t tenths = b.v * 10 / (1024 * 1024);
  Append(Dec{tenths / 10});
  Put('.');
  Put(static_cast<char>('0' + tenths % 10));
  Append(" MiB");
}

void Text::Append(Status s) {
  const char* name = StatusName(s.v);
  if (name != nullptr) {
    Append(name);
  } else {
    Append("EFI status ");
    Append(Hex{s.v});
  }
}

void Text::Append(Digest32 d) {
  for (int i = 0; i < 32; ++i) {
    Put("0123456789abcdef"[d.bytes[i] >> 4]);
    Put("0123456789abcdef"[d.bytes[i] & 0xf]);
  }
}

Console::Console(const EfiEnv& efi) : efi_(efi) {
  uint8_t conout[1024];
  UINTN size = sizeof(conout);
  UINT32 attributes = 0;
  CHAR16 name[] = {'C', 'o', 'n', 'O', 'u', 't', 0};
  EFI_STATUS s = efi.rt->GetVariable(name, Guid(kGlobalVariableGuid), &attributes, &size, conout);
  if (s == EFI_SUCCESS && DevicePathHasUart(conout, size)) return;
  void* serial = nullptr;
  if (efi.bs->LocateProtocol(Guid(kSerialIoProtocolGuid), nullptr, &serial) == EFI_SUCCESS) {
    serial_ = static_cast<EFI_SERIAL_IO_PROTOCOL*>(serial);
  }
}

void Console::Emit(const Text& t) {
  // ConOut wants UCS-2 and CR LF.
  CHAR16 wide[sizeof(Text) + 3];
  size_t n = 0;
  for (size_t i = 0; i < t.size(); ++i) wide[n++] = static_cast<unsigned char>(t.c_str()[i]);
  wide[n++] = L'\r';
  wide[n++] = L'\n';
  wide[n] = 0;
  if (efi_.st->ConOut != nullptr) efi_.st->ConOut->OutputString(efi_.st->ConOut, wide);
  if (serial_ != nullptr) {
    char narrow[sizeof(Text) + 3];
    for (size_t i = 0; i < t.size(); ++i) narrow[i] = t.c_str()[i];
    narrow[t.size()] = '\r';
    narrow[t.size() + 1] = '\n';
    UINTN len = t.size() + 2;
    serial_->Write(serial_, &len, narrow);
  }
}

}  // namespace saveoops
