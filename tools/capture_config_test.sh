#!/usr/bin/env bash
# Checks kernel/capture.config, the fragment of Saveoops' own capture kernel:
#   - every option line has its one-line reason as the comment line right above it;
#   - no option is set twice;
#   - modules are off (the capture initramfs is saveoops-capture alone);
#   - what saveoops-capture relies on is on (/proc/vmcore, devtmpfs, the initramfs);
#   - every store driver the distribution kernel's capture initramfs carries as a
#     module (kDefaultCaptureModules, initramfs/builder.h) is built in.
# Usage: capture_config_test.sh FRAGMENT BUILDER_H
set -u
FRAGMENT=$1 BUILDER_H=$2
bad=0
err() { echo "capture_config_test: $*"; bad=1; }

prev=""
declare -A seen
while IFS= read -r line; do
  opt=""
  case "$line" in
    CONFIG_*=*) opt=${line%%=*} ;;
    "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *} ;;
  esac
  if [ -n "$opt" ]; then
    case "$prev" in
      "# CONFIG_"*" is not set"|CONFIG_*|"#"|"") err "$opt has no comment line above it saying why" ;;
      "#"*) ;;
      *) err "$opt has no comment line above it saying why" ;;
    esac
    [ -z "${seen[$opt]:-}" ] || err "$opt is set twice"
    seen[$opt]=$line
  fi
  prev=$line
done <"$FRAGMENT"

want() {  # OPTION LINE
  [ "${seen[$1]:-}" = "$2" ] || err "expected '$2', have '${seen[$1]:-nothing}'"
}
want CONFIG_MODULES "# CONFIG_MODULES is not set"
for o in 64BIT RELOCATABLE CRASH_DUMP PROC_FS PROC_VMCORE SYSFS DEVTMPFS DEVTMPFS_MOUNT \
  BLK_DEV_INITRD BINFMT_ELF PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE PCI PCI_MSI ACPI \
  BLOCK MSDOS_PARTITION EFI_PARTITION; do
  want "CONFIG_$o" "CONFIG_$o=y"
done

# The module each default capture module is, as a kernel option.
declare -A option_of=(
  [virtio_pci]=VIRTIO_PCI [virtio_blk]=VIRTIO_BLK [virtio_scsi]=SCSI_VIRTIO
  [sd_mod]=BLK_DEV_SD [ahci]=SATA_AHCI [nvme]=BLK_DEV_NVME [hv_storvsc]=HYPERV_STORAGE
  [xen_blkfront]=XEN_BLKDEV_FRONTEND [vmw_pvscsi]=VMWARE_PVSCSI [mpt3sas]=SCSI_MPT3SAS
  [megaraid_sas]=MEGARAID_SAS
)
modules=$(sed -n '/kDefaultCaptureModules\[\] = {/,/};/p' "$BUILDER_H" | grep -o '"[a-z0-9_]*"' | tr -d '"')
[ -n "$modules" ] || err "no kDefaultCaptureModules in $BUILDER_H"
for m in $modules; do
  o=${option_of[$m]:-}
  if [ -z "$o" ]; then err "default capture module $m: no kernel option known for it here"; continue; fi
  want "CONFIG_$o" "CONFIG_$o=y"
done

[ "$bad" = 0 ] && echo "capture_config_test: ${#seen[@]} options, each with its reason; $(echo $modules | wc -w) store drivers built in"
exit "$bad"
