#include "backends/uefi/efi_files.h"

namespace saveoops {
namespace {

constexpr uint64_t kPageSize = 4096;
// Read in pieces so progress can be shown and no firmware FAT driver is
// asked for one huge transfer.
constexpr uint64_t kReadChunk = 4ull << 20;
// Progress every this many bytes on big files.
constexpr uint64_t kProgressStep = 16ull << 20;

}  // namespace

bool AsciiToUcs2(const char* s, CHAR16* out, size_t cap) {
  size_t i = 0;
  for (; s[i] != '\0'; ++i) {
    if (i + 1 >= cap) return false;
    out[i] = static_cast<unsigned char>(s[i]);
  }
  if (cap == 0) return false;
  out[i] = 0;
  return true;
}

size_t AsciiLength(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

void FileBuffer::Free(const EfiEnv& efi) {
  if (data != nullptr) efi.bs->FreePages(reinterpret_cast<EFI_PHYSICAL_ADDRESS>(data), pages);
  data = nullptr;
  size = 0;
  pages = 0;
}

EFI_STATUS OpenBootVolume(const EfiEnv& efi, Console& console, BootVolume* out) {
  void* iface = nullptr;
  EFI_STATUS s = efi.bs->HandleProtocol(efi.image, Guid(kLoadedImageProtocolGuid), &iface);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: no LoadedImage protocol on our own image: ", Status{s});
    return s;
  }
  auto* loaded = static_cast<EFI_LOADED_IMAGE_PROTOCOL*>(iface);
  out->device = loaded->DeviceHandle;
  s = efi.bs->HandleProtocol(out->device, Guid(kSimpleFileSystemProtocolGuid), &iface);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: the device saveoops.efi was loaded from has no file system: ", Status{s});
    return s;
  }
  auto* fs = static_cast<EFI_SIMPLE_FILE_SYSTEM_PROTOCOL*>(iface);
  s = fs->OpenVolume(fs, &out->root);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: cannot open the ESP: ", Status{s});
    return s;
  }
  void* dp = nullptr;
  if (efi.bs->HandleProtocol(out->device, Guid(kDevicePathProtocolGuid), &dp) == EFI_SUCCESS) {
    out->device_path = static_cast<EFI_DEVICE_PATH*>(dp);
  }
  return EFI_SUCCESS;
}

EFI_STATUS ReadWholeFile(const EfiEnv& efi, Console& console, const BootVolume& volume,
                         const char* path, const char* what, uint64_t max_size, FileBuffer* out) {
  CHAR16 wide[260];
  if (!AsciiToUcs2(path, wide, sizeof(wide) / sizeof(wide[0]))) {
    console.Say("ERROR: ", what, " path too long: ", path);
    return EFI_INVALID_PARAMETER;
  }
  EFI_FILE_PROTOCOL* file = nullptr;
  EFI_STATUS s = volume.root->Open(volume.root, &file, wide, EFI_FILE_MODE_READ, 0);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: cannot open ", what, " ", path, ": ", Status{s});
    return s;
  }
  // EFI_FILE_INFO ends in the file name; room for a full-length one.
  alignas(8) uint8_t info_buf[sizeof(EFI_FILE_INFO) + 2 * 260];
  UINTN info_size = sizeof(info_buf);
  s = file->GetInfo(file, Guid(kFileInfoGuid), &info_size, info_buf);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: cannot stat ", what, " ", path, ": ", Status{s});
    file->Close(file);
    return s;
  }
  const uint64_t size = reinterpret_cast<EFI_FILE_INFO*>(info_buf)->FileSize;
  if (size > max_size) {
    console.Say("ERROR: ", what, " ", path, " is ", Bytes{size}, ", more than the ",
                Bytes{max_size}, " allowed");
    file->Close(file);
    return EFI_BAD_BUFFER_SIZE;
  }
  const UINTN pages = (size + kPageSize - 1) / kPageSize + (size == 0 ? 1 : 0);
  EFI_PHYSICAL_ADDRESS addr = 0;
  s = efi.bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &addr);
  if (s != EFI_SUCCESS) {
    console.Say("ERROR: no memory for ", what, " (", Bytes{size}, "): ", Status{s});
    file->Close(file);
    return s;
  }
  auto* data = reinterpret_cast<uint8_t*>(addr);
  console.Say("reading ", what, " ", path, " (", Bytes{size}, ")");
  uint64_t done = 0, next_report = kProgressStep;
  while (done < size) {
    UINTN chunk = size - done < kReadChunk ? size - done : kReadChunk;
    s = file->Read(file, &chunk, data + done);
    if (s != EFI_SUCCESS || chunk == 0) {
      console.Say("ERROR: reading ", what, " ", path, " stopped at byte ", Dec{done}, " of ",
                  Dec{size}, ": ", Status{s == EFI_SUCCESS ? EFI_END_OF_FILE : s});
      efi.bs->FreePages(addr, pages);
      file->Close(file);
      return s == EFI_SUCCESS ? EFI_END_OF_FILE : s;
    }
    done += chunk;
    if (done >= next_report && done < size) {
      console.Say("  ", Bytes{done}, " of ", Bytes{size});
      next_report += kProgressStep;
    }
  }
  file->Close(file);
  out->data = data;
  out->size = size;
  out->pages = pages;
  return EFI_SUCCESS;
}

EFI_DEVICE_PATH* FileDevicePath(const EfiEnv& efi, const BootVolume& volume, const char* path) {
  if (volume.device_path == nullptr) return nullptr;
  // Length of the volume's path up to (not including) its end node. A
  // firmware device path is trusted to end, but the walk is capped anyway.
  const uint8_t* dp = reinterpret_cast<const uint8_t*>(volume.device_path);
  size_t prefix = 0;
  for (int nodes = 0;; ++nodes) {
    const size_t len = dp[prefix + 2] | static_cast<size_t>(dp[prefix + 3]) << 8;
    if (dp[prefix] == END_DEVICE_PATH_TYPE || len < 4 || nodes > 64) break;
    prefix += len;
  }
  const size_t chars = AsciiLength(path) + 1;
  const size_t file_node = 4 + 2 * chars;
  const size_t total = prefix + file_node + 4;
  if (file_node > 0xffff) return nullptr;
  void* mem = nullptr;
  if (efi.bs->AllocatePool(EfiLoaderData, total, &mem) != EFI_SUCCESS) return nullptr;
  auto* out = static_cast<uint8_t*>(mem);
  efi.bs->CopyMem(out, const_cast<uint8_t*>(dp), prefix);
  uint8_t* node = out + prefix;
  node[0] = MEDIA_DEVICE_PATH;
  node[1] = MEDIA_FILEPATH_DP;
  node[2] = static_cast<uint8_t>(file_node & 0xff);
  node[3] = static_cast<uint8_t>(file_node >> 8);
  for (size_t i = 0; i < chars; ++i) {
    const uint16_t c = static_cast<unsigned char>(path[i]);
    node[4 + 2 * i] = static_cast<uint8_t>(c & 0xff);
    node[5 + 2 * i] = static_cast<uint8_t>(c >> 8);
  }
  uint8_t* end = node + file_node;
  end[0] = END_DEVICE_PATH_TYPE;
  end[1] = END_ENTIRE_DEVICE_PATH_SUBTYPE;
  end[2] = 4;
  end[3] = 0;
  return reinterpret_cast<EFI_DEVICE_PATH*>(out);
}

}  // namespace saveoops
