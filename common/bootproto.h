// The Linux/x86 boot protocol's on-the-wire structures: the real-mode kernel
// header of a bzImage (struct setup_header), the "zero page" a loader hands to
// the kernel (struct boot_params) and the setup_data list that extends it.
//
// Sources (all in the Linux tree):
//   Documentation/arch/x86/boot.rst       setup_header, field by field, with
//                                         offsets given as FILE offsets
//                                         (0x1f1 + offset in the struct)
//   Documentation/arch/x86/zero-page.rst  boot_params layout
//   arch/x86/include/uapi/asm/bootparam.h the C definitions
//   arch/x86/include/uapi/asm/setup_data.h setup_data types and nodes
//
// Freestanding: shared by host tools, the purgatory and the UEFI application,
// so it includes only <stddef.h> and <stdint.h> and declares plain data.
// Every struct is packed and every field offset is checked at compile time;
// the byte order is the machine's, which the boot protocol fixes as
// little-endian ("this is x86, after all", boot.rst).
#ifndef SAVEOOPS_COMMON_BOOTPROTO_H_
#define SAVEOOPS_COMMON_BOOTPROTO_H_

#include <stddef.h>
#include <stdint.h>

#include "common/e820.h"

namespace saveoops {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the x86 boot protocol structures are little-endian and are "
              "read/written here with memcpy in host byte order");

// --- Constants from Documentation/arch/x86/boot.rst

// "a sector" is 512 bytes regardless of the medium (boot.rst, "The Real-Mode
// Kernel Header").
inline constexpr size_t kBootSectorSize = 512;

// File offset of struct setup_header inside a bzImage (boot.rst).
inline constexpr size_t kSetupHeaderOffset = 0x1f1;

// File offset of the 2-byte jump instruction whose displacement, taken
// relative to 0x202, marks the end of the setup header (boot.rst, field
// "jump", and "64-bit Boot Protocol": end = 0x0202 + byte at 0x0201).
inline constexpr size_t kSetupHeaderJumpOffset = 0x200;
inline constexpr size_t kSetupHeaderJumpBase = 0x202;
// The jump is a short JMP (opcode 0xEB) with a signed 8-bit displacement.
inline constexpr uint8_t kSetupHeaderJumpOpcode = 0xEB;

// If setup_sects is 0 the real value is 4 (boot.rst, note (1)).
inline constexpr uint8_t kSetupSectsDefault = 4;
// arch/x86/boot/tools/build.c pads the real-mode part to at least
// SETUP_SECT_MIN = 5 sectors and refuses more than SETUP_SECT_MAX = 64, both
// counting the boot sector (boot.rst: "The real-mode code can total up to
// 32K"); so 4 <= setup_sects <= 63 in any kernel it built.
inline constexpr uint8_t kSetupSectsMin = 4;
inline constexpr uint8_t kSetupSectsMax = 63;

// boot_flag (0x1fe): "Contains 0xAA55" (boot.rst).
inline constexpr uint16_t kBootFlagMagic = 0xAA55;
// header (0x202): "HdrS" read as a little-endian 32-bit value (boot.rst).
inline constexpr uint32_t kSetupHeaderMagic = 0x53726448;

// Boot protocol versions, (major << 8) | minor (boot.rst, field "version").
// 2.10 added init_size and pref_address, 2.12 xloadflags and the ext_* fields,
// 2.15 kernel_info_offset.
inline constexpr uint16_t kBootProtocol2_10 = 0x020a;
inline constexpr uint16_t kBootProtocol2_12 = 0x020c;
inline constexpr uint16_t kBootProtocol2_15 = 0x020f;

// The 64-bit entry point is at the loaded protected-mode kernel + 0x200
// (boot.rst, "64-bit Boot Protocol").
inline constexpr uint64_t kKernel64EntryOffset = 0x200;

// loadflags bits (boot.rst, field "loadflags"; bootparam.h).
// LOADED_HIGH (read): protected-mode code is loaded at 0x100000 (bzImage).
inline constexpr uint8_t kLoadedHigh = 1u << 0;
// KASLR_FLAG (kernel internal): the decompressor reports KASLR status.
inline constexpr uint8_t kKaslrFlag = 1u << 1;
// QUIET_FLAG (write): suppress early messages that touch display hardware.
inline constexpr uint8_t kQuietFlag = 1u << 5;
// KEEP_SEGMENTS: introduced in protocol 2.07, now obsolete (boot.rst).
inline constexpr uint8_t kKeepSegments = 1u << 6;
// CAN_USE_HEAP (write): heap_end_ptr is valid (real-mode setup code only).
inline constexpr uint8_t kCanUseHeap = 1u << 7;

// xloadflags bits (boot.rst, field "xloadflags"; bootparam.h).
// The kernel has the 64-bit entry point at load address + 0x200.
inline constexpr uint16_t kXlfKernel64 = 1u << 0;
// kernel/boot_params/cmdline/ramdisk can be above 4G.
inline constexpr uint16_t kXlfCanBeLoadedAbove4G = 1u << 1;
// 32-bit EFI handover entry at handover_offset.
inline constexpr uint16_t kXlfEfiHandover32 = 1u << 2;
// 64-bit EFI handover entry at handover_offset + 0x200.
inline constexpr uint16_t kXlfEfiHandover64 = 1u << 3;
// kexec EFI boot with EFI runtime support.
inline constexpr uint16_t kXlfEfiKexec = 1u << 4;
// The kernel supports 5-level paging at entry (bootparam.h).
inline constexpr uint16_t kXlf5Level = 1u << 5;
// 5-level paging is enabled in this kernel's configuration (bootparam.h).
inline constexpr uint16_t kXlf5LevelEnabled = 1u << 6;

// type_of_loader (0x210): "If your boot loader has [no] assigned id ... enter
// 0xFF here" (boot.rst). 0xE0 means "extended: see ext_loader_type".
inline constexpr uint8_t kLoaderTypeUndefined = 0xff;
inline constexpr uint8_t kLoaderTypeExtended = 0xe0;

// kernel_info header magic "LToP" (boot.rst, "Details of the kernel_info
// Fields").
inline constexpr uint32_t kKernelInfoMagic = 0x506f544c;

// --- setup_data (arch/x86/include/uapi/asm/setup_data.h)

// setup_data node types.
inline constexpr uint32_t kSetupNone = 0;
inline constexpr uint32_t kSetupE820Ext = 1;
inline constexpr uint32_t kSetupDtb = 2;
inline constexpr uint32_t kSetupPci = 3;
inline constexpr uint32_t kSetupEfi = 4;
inline constexpr uint32_t kSetupAppleProperties = 5;
inline constexpr uint32_t kSetupJailhouse = 6;
inline constexpr uint32_t kSetupCcBlob = 7;
inline constexpr uint32_t kSetupIma = 8;
inline constexpr uint32_t kSetupRngSeed = 9;
// Flag OR-ed into a type to say the node is a struct setup_indirect
// (boot.rst, field "setup_data", protocol 2.15).
inline constexpr uint32_t kSetupIndirect = 1u << 31;

// struct setup_data: one node of the singly linked list rooted at
// setup_header.setup_data. `next` is the 64-bit PHYSICAL address of the next
// node (0 ends the list); `len` bytes of payload follow this 16-byte header
// immediately (the C struct's `data[]`, left out here because flexible array
// members are not standard C++).
struct __attribute__((packed)) SetupData {
  uint64_t next;
  uint32_t type;
  uint32_t len;
};
static_assert(sizeof(SetupData) == 16, "setup_data header is 16 bytes");
static_assert(offsetof(SetupData, next) == 0, "setup_data.next at 0");
static_assert(offsetof(SetupData, type) == 8, "setup_data.type at 8");
static_assert(offsetof(SetupData, len) == 12, "setup_data.len at 12");

// struct setup_indirect (setup_data.h; boot.rst "setup_data"): the payload of
// a SETUP_INDIRECT node, pointing at data that lives elsewhere.
struct __attribute__((packed)) SetupIndirect {
  uint32_t type;      // kSetupIndirect | kSetup*.
  uint32_t reserved;  // Must be zero.
  uint64_t len;
  uint64_t addr;
};
static_assert(sizeof(SetupIndirect) == 24, "setup_indirect is 24 bytes");
static_assert(offsetof(SetupIndirect, type) == 0, "setup_indirect.type at 0");
static_assert(offsetof(SetupIndirect, reserved) == 4, "setup_indirect.reserved at 4");
static_assert(offsetof(SetupIndirect, len) == 8, "setup_indirect.len at 8");
static_assert(offsetof(SetupIndirect, addr) == 16, "setup_indirect.addr at 16");

// --- struct setup_header

// struct setup_header (bootparam.h), located at file offset 0x1f1 of a
// bzImage and at offset 0x1f1 of boot_params. boot.rst lists each field with
// its absolute file offset; the static_asserts below check
// kSetupHeaderOffset + offsetof(...) against those numbers. "read" fields are
// the kernel informing the loader, "write"/"modify" fields are the loader's
// to fill in (boot.rst, "Details of Header Fields").
struct __attribute__((packed)) SetupHeader {
  uint8_t setup_sects;             // read: setup size in sectors (0 means 4)
  uint16_t root_flags;             // modify (optional)
  uint32_t syssize;                // read: protected-mode size, 16-byte paragraphs
  uint16_t ram_size;               // obsolete
  uint16_t vid_mode;               // modify (obligatory)
  uint16_t root_dev;               // modify (optional)
  uint16_t boot_flag;              // read: 0xAA55
  uint16_t jump;                   // read: 0xEB + displacement to end of header
  uint32_t header;                 // read: "HdrS"
  uint16_t version;                // read: boot protocol version
  uint32_t realmode_swtch;         // modify (optional): real-mode hook
  uint16_t start_sys_seg;          // read: obsolete
  uint16_t kernel_version;         // read: version string pointer - 0x200
  uint8_t type_of_loader;          // write (obligatory)
  uint8_t loadflags;               // modify (obligatory)
  uint16_t setup_move_size;        // modify: protocols 2.00-2.01 only
  uint32_t code32_start;           // modify (optional, reloc)
  uint32_t ramdisk_image;          // write (obligatory): initrd address, low 32
  uint32_t ramdisk_size;           // write (obligatory): initrd size, low 32
  uint32_t bootsect_kludge;        // obsolete
  uint16_t heap_end_ptr;           // write (obligatory for real-mode entry)
  uint8_t ext_loader_ver;          // write (optional)
  uint8_t ext_loader_type;         // write (if type_of_loader is 0xEx)
  uint32_t cmd_line_ptr;           // write (obligatory): command line, low 32
  uint32_t initrd_addr_max;        // read: highest byte an initrd may occupy
  uint32_t kernel_alignment;       // read/modify (reloc)
  uint8_t relocatable_kernel;      // read (reloc)
  uint8_t min_alignment;           // read (reloc): log2 of minimum alignment
  uint16_t xloadflags;             // read
  uint32_t cmdline_size;           // read: max command line length without NUL
  uint32_t hardware_subarch;       // write (optional, 0 = PC)
  uint64_t hardware_subarch_data;  // write (subarch-dependent)
  uint32_t payload_offset;         // read: compressed payload, from PM code start
  uint32_t payload_length;         // read
  uint64_t setup_data;             // write (special): physical list head
  uint64_t pref_address;           // read (reloc): preferred load address
  uint32_t init_size;              // read: linear memory needed during init
  uint32_t handover_offset;        // read: EFI handover entry offset
  uint32_t kernel_info_offset;     // read (2.15+): offset of kernel_info
};
static_assert(sizeof(SetupHeader) == 0x26c - kSetupHeaderOffset,
              "setup_header spans file offsets 0x1f1..0x26c (boot.rst)");

// The absolute file offset of a setup_header field, as boot.rst writes it.
#define SAVEOOPS_SETUP_HEADER_AT(field) (kSetupHeaderOffset + offsetof(SetupHeader, field))
static_assert(SAVEOOPS_SETUP_HEADER_AT(setup_sects) == 0x1f1, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(root_flags) == 0x1f2, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(syssize) == 0x1f4, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(ram_size) == 0x1f8, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(vid_mode) == 0x1fa, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(root_dev) == 0x1fc, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(boot_flag) == 0x1fe, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(jump) == 0x200, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(header) == 0x202, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(version) == 0x206, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(realmode_swtch) == 0x208, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(start_sys_seg) == 0x20c, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(kernel_version) == 0x20e, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(type_of_loader) == 0x210, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(loadflags) == 0x211, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(setup_move_size) == 0x212, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(code32_start) == 0x214, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(ramdisk_image) == 0x218, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(ramdisk_size) == 0x21c, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(bootsect_kludge) == 0x220, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(heap_end_ptr) == 0x224, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(ext_loader_ver) == 0x226, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(ext_loader_type) == 0x227, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(cmd_line_ptr) == 0x228, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(initrd_addr_max) == 0x22c, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(kernel_alignment) == 0x230, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(relocatable_kernel) == 0x234, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(min_alignment) == 0x235, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(xloadflags) == 0x236, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(cmdline_size) == 0x238, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(hardware_subarch) == 0x23c, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(hardware_subarch_data) == 0x240, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(payload_offset) == 0x248, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(payload_length) == 0x24c, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(setup_data) == 0x250, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(pref_address) == 0x258, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(init_size) == 0x260, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(handover_offset) == 0x264, "boot.rst");
static_assert(SAVEOOPS_SETUP_HEADER_AT(kernel_info_offset) == 0x268, "boot.rst");
#undef SAVEOOPS_SETUP_HEADER_AT

// A protocol >= 2.12 header must reach at least through handover_offset
// (2.11), i.e. end at file offset >= 0x268; kernel_info_offset exists only
// from 2.15 on.
inline constexpr size_t kSetupHeaderMinEnd2_12 =
    kSetupHeaderOffset + offsetof(SetupHeader, kernel_info_offset);
// setup_header must fit the hole in boot_params that ends at 0x290
// (boot.rst, "The kernel_info": "permanently limited to 144 bytes").
inline constexpr size_t kSetupHeaderMaxEnd = 0x290;

// --- struct boot_params (the "zero page")

// Number of EDD MBR signatures / EDD records in boot_params (EDD_MBR_SIG_MAX
// and EDDMAXNR in include/uapi/linux/edd.h).
inline constexpr size_t kEddMbrSigMax = 16;
// sizeof(struct edd_info) * EDDMAXNR = 82 * 6.
inline constexpr size_t kEddBufBytes = 0x1ec;

// struct boot_params (bootparam.h; Documentation/arch/x86/zero-page.rst),
// exactly one 4 KiB page. Sub-structures Saveoops never fills (screen_info,
// apm_bios_info, ist_info, edid_info, efi_info, EDD) are opaque byte arrays
// of their documented size; a loader leaves them zero. Padding fields are
// named pad_<offset>. The sentinel at 0x1ef must stay 0: a nonzero sentinel
// tells the kernel the loader copied boot_params wholesale and makes it wipe
// fields (sanitize_boot_params(), arch/x86/include/asm/bootparam_utils.h).
struct __attribute__((packed)) BootParams {
  uint8_t screen_info[0x40];                          // 0x000
  uint8_t apm_bios_info[0x14];                        // 0x040
  uint8_t pad_054[4];                                 // 0x054
  uint64_t tboot_addr;                                // 0x058
  uint8_t ist_info[0x10];                             // 0x060
  uint64_t acpi_rsdp_addr;                            // 0x070
  uint8_t pad_078[8];                                 // 0x078
  uint8_t hd0_info[0x10];                             // 0x080 (obsolete)
  uint8_t hd1_info[0x10];                             // 0x090 (obsolete)
  uint8_t sys_desc_table[0x10];                       // 0x0a0 (obsolete)
  uint8_t olpc_ofw_header[0x10];                      // 0x0b0
  uint32_t ext_ramdisk_image;                         // 0x0c0: ramdisk_image high 32 bits
  uint32_t ext_ramdisk_size;                          // 0x0c4: ramdisk_size high 32 bits
  uint32_t ext_cmd_line_ptr;                          // 0x0c8: cmd_line_ptr high 32 bits
  uint8_t pad_0cc[0x70];                              // 0x0cc
  uint32_t cc_blob_address;                           // 0x13c
  uint8_t edid_info[0x80];                            // 0x140
  uint8_t efi_info[0x20];                             // 0x1c0
  uint32_t alt_mem_k;                                 // 0x1e0
  uint32_t scratch;                                   // 0x1e4
  uint8_t e820_entries;                               // 0x1e8
  uint8_t eddbuf_entries;                             // 0x1e9
  uint8_t edd_mbr_sig_buf_entries;                    // 0x1ea
  uint8_t kbd_status;                                 // 0x1eb
  uint8_t secure_boot;                                // 0x1ec
  uint8_t pad_1ed[2];                                 // 0x1ed
  uint8_t sentinel;                                   // 0x1ef
  uint8_t pad_1f0[1];                                 // 0x1f0
  SetupHeader hdr;                                    // 0x1f1
  uint8_t pad_26c[kSetupHeaderMaxEnd - 0x26c];        // 0x26c
  uint32_t edd_mbr_sig_buffer[kEddMbrSigMax];         // 0x290
  BootE820Entry e820_table[kE820MaxEntriesZeroPage];  // 0x2d0
  uint8_t pad_cd0[0x30];                              // 0xcd0
  uint8_t eddbuf[kEddBufBytes];                       // 0xd00
  uint8_t pad_eec[0x114];                             // 0xeec
};
static_assert(sizeof(BootParams) == 4096, "boot_params is one 4 KiB page");
static_assert(offsetof(BootParams, screen_info) == 0x000, "zero-page.rst");
static_assert(offsetof(BootParams, apm_bios_info) == 0x040, "zero-page.rst");
static_assert(offsetof(BootParams, pad_054) == 0x054, "bootparam.h");
static_assert(offsetof(BootParams, tboot_addr) == 0x058, "zero-page.rst");
static_assert(offsetof(BootParams, ist_info) == 0x060, "zero-page.rst");
static_assert(offsetof(BootParams, acpi_rsdp_addr) == 0x070, "zero-page.rst");
static_assert(offsetof(BootParams, pad_078) == 0x078, "bootparam.h");
static_assert(offsetof(BootParams, hd0_info) == 0x080, "zero-page.rst");
static_assert(offsetof(BootParams, hd1_info) == 0x090, "zero-page.rst");
static_assert(offsetof(BootParams, sys_desc_table) == 0x0a0, "zero-page.rst");
static_assert(offsetof(BootParams, olpc_ofw_header) == 0x0b0, "zero-page.rst");
static_assert(offsetof(BootParams, ext_ramdisk_image) == 0x0c0, "zero-page.rst");
static_assert(offsetof(BootParams, ext_ramdisk_size) == 0x0c4, "zero-page.rst");
static_assert(offsetof(BootParams, ext_cmd_line_ptr) == 0x0c8, "zero-page.rst");
static_assert(offsetof(BootParams, pad_0cc) == 0x0cc, "bootparam.h");
static_assert(offsetof(BootParams, cc_blob_address) == 0x13c, "zero-page.rst");
static_assert(offsetof(BootParams, edid_info) == 0x140, "zero-page.rst");
static_assert(offsetof(BootParams, efi_info) == 0x1c0, "zero-page.rst");
static_assert(offsetof(BootParams, alt_mem_k) == 0x1e0, "zero-page.rst");
static_assert(offsetof(BootParams, scratch) == 0x1e4, "zero-page.rst");
static_assert(offsetof(BootParams, e820_entries) == 0x1e8, "zero-page.rst");
static_assert(offsetof(BootParams, eddbuf_entries) == 0x1e9, "zero-page.rst");
static_assert(offsetof(BootParams, edd_mbr_sig_buf_entries) == 0x1ea, "zero-page.rst");
static_assert(offsetof(BootParams, kbd_status) == 0x1eb, "zero-page.rst");
static_assert(offsetof(BootParams, secure_boot) == 0x1ec, "zero-page.rst");
static_assert(offsetof(BootParams, pad_1ed) == 0x1ed, "bootparam.h");
static_assert(offsetof(BootParams, sentinel) == 0x1ef, "zero-page.rst");
static_assert(offsetof(BootParams, pad_1f0) == 0x1f0, "bootparam.h");
static_assert(offsetof(BootParams, hdr) == kSetupHeaderOffset, "boot.rst");
static_assert(offsetof(BootParams, pad_26c) == 0x26c, "bootparam.h");
static_assert(offsetof(BootParams, edd_mbr_sig_buffer) == 0x290, "zero-page.rst");
static_assert(offsetof(BootParams, e820_table) == 0x2d0, "zero-page.rst");
static_assert(offsetof(BootParams, pad_cd0) == 0xcd0, "bootparam.h");
static_assert(offsetof(BootParams, eddbuf) == 0xd00, "zero-page.rst");
static_assert(offsetof(BootParams, pad_eec) == 0xeec, "bootparam.h");

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_BOOTPROTO_H_
