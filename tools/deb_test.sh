#!/bin/bash
# The Debian package of the kexec backend (pack --backend=kexec --format=deb):
#  - its files, modes, conffiles, control fields and trigger;
#  - lintian --pedantic finds nothing but the overrides it carries (each with
#    its reason), and shellcheck passes every shell script in it;
#  - its update-bundles, run against this machine's kernel (files moved into
#    the test's directory), builds a bundle that `saveoops bundle verify`
#    accepts and writes GRUB's crashkernel= as `saveoops plan` recommends
#    for it; --remove drops the bundle and the setting.
# The maintainer scripts themselves run in a real Debian guest:
# //e2e:debian12_deb_install.
set -u
saveoops=$PWD/tools/saveoops
pack=tools/pack
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/deb_test.XXXXXX")
chmod 0755 "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

"$pack" --backend=kexec --format=deb --out="$tmp/out" >"$tmp/pack.log" 2>&1 ||
  { cat "$tmp/pack.log"; fail "pack --format=deb failed"; }
debs=("$tmp"/out/saveoops_*_amd64.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || fail "pack wrote no single saveoops_*_amd64.deb: $(ls "$tmp/out")"
deb=${debs[0]}
grep -q "install with: sudo apt install $deb" "$tmp/pack.log" || fail "pack did not say how to install"
ls -A "$tmp/out" | grep -qv '\.deb$' && fail "pack left scratch files in --out: $(ls -A "$tmp/out")"

dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' >"$tmp/contents"
want=(
  "-rwxr-xr-x ./usr/sbin/saveoops"
  "-rwxr-xr-x ./usr/lib/saveoops/saveoops-capture"
  "-rw-r--r-- ./usr/lib/saveoops/purgatory.bin"
  "-rwxr-xr-x ./usr/lib/saveoops/update-bundles"
  "-rw-r--r-- ./lib/systemd/system/saveoops-arm.service"
  "-rw-r--r-- ./lib/systemd/system/saveoops-collect.service"
  "-rw-r--r-- ./usr/lib/systemd/catalog/saveoops.catalog"
  "-rwxr-xr-x ./usr/share/initramfs-tools/hooks/saveoops"
  "-rwxr-xr-x ./usr/share/initramfs-tools/scripts/init-bottom/saveoops"
  "-rw-r--r-- ./etc/saveoops/saveoops.conf"
  "-rwxr-xr-x ./etc/kernel/postinst.d/00saveoops"
  "-rwxr-xr-x ./etc/kernel/postrm.d/00saveoops"
  "-rw-r--r-- ./usr/share/doc/saveoops/copyright"
  "-rw-r--r-- ./usr/share/man/man8/saveoops.8.gz"
)
for w in "${want[@]}"; do
  grep -q "^${w%% *} root/root ${w#* }$" "$tmp/contents" || fail "the package lacks '$w' (root-owned): $(cat "$tmp/contents")"
done
grep -q "^d.* root/root ./var" "$tmp/contents" && fail "the package ships /var (postinst makes it)"

[ "$(dpkg-deb -f "$deb" Package)" = saveoops ] || fail "Package is not saveoops"
[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "Architecture is not amd64"
version=$(dpkg-deb -f "$deb" Version)
[[ "$deb" == *"_${version}_amd64.deb" ]] || fail "file name does not carry Version $version"
[ "$("$saveoops" --version)" = "saveoops $version" ] || fail "saveoops --version is not the package's $version"
size=$(dpkg-deb -f "$deb" Installed-Size)
[ "$size" -gt 1000 ] || fail "Installed-Size $size KiB is too small for the binaries"

rm -rf "$tmp/x"
dpkg-deb -R "$deb" "$tmp/x" || fail "dpkg-deb -R failed"
printf '%s\n' /etc/kernel/postinst.d/00saveoops /etc/kernel/postrm.d/00saveoops \
  /etc/saveoops/saveoops.conf | sort >"$tmp/want.conffiles"
sort "$tmp/x/DEBIAN/conffiles" | diff -u "$tmp/want.conffiles" - || fail "conffiles differ"
grep -qx "activate-noawait update-initramfs" "$tmp/x/DEBIAN/triggers" ||
  fail "no update-initramfs trigger"
(cd "$tmp/x" && md5sum --quiet -c DEBIAN/md5sums) || fail "md5sums do not match the files"
grep -qx "store=/var/lib/saveoops/store" "$tmp/x/etc/saveoops/saveoops.conf" ||
  fail "the shipped saveoops.conf does not name the default store file"
grep -qxF "ExecStart=/usr/sbin/saveoops arm --bundle=/var/lib/saveoops/bundles/%v.bundle" \
  "$tmp/x/lib/systemd/system/saveoops-arm.service" || fail "the arm unit does not arm the running kernel's bundle"
zcat "$tmp/x/usr/share/man/man8/saveoops.8.gz" | grep -q '^\.SH COLLECT' ||
  fail "the manual page has no section per command"

# shellcheck: every shell script the package installs or runs.
scripts=("$tmp"/x/DEBIAN/{postinst,prerm,postrm} "$tmp"/x/usr/lib/saveoops/update-bundles
  "$tmp"/x/etc/kernel/postinst.d/00saveoops "$tmp"/x/etc/kernel/postrm.d/00saveoops
  "$tmp"/x/usr/share/initramfs-tools/hooks/saveoops
  "$tmp"/x/usr/share/initramfs-tools/scripts/init-bottom/saveoops)
shellcheck -s sh "${scripts[@]}" || fail "shellcheck found problems (above)"

# lintian: nothing left but the package's own overrides.
lintian --pedantic --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>&1
grep -v '^running with root privileges' "$tmp/lintian" >"$tmp/lintian.tags"
if [ -s "$tmp/lintian.tags" ]; then
  cat "$tmp/lintian.tags"
  fail "lintian reports the tags above"
fi
lintian --pedantic --show-overrides "$deb" 2>/dev/null | grep -c '^O:' >"$tmp/overrides"
[ "$(cat "$tmp/overrides")" -eq 4 ] || fail "lintian overrides: $(cat "$tmp/overrides"), not the 4 the README lists"

# update-bundles against this machine's newest kernel, into the test's files.
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
release=${kernel#/boot/vmlinuz-}
mkdir -p "$tmp/boot" "$tmp/grub.d"
# /proc/iomem hides addresses from a sandbox: plan against a QEMU 1 GiB map.
memmap=$PWD/common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt
ln -s "$kernel" "$tmp/boot/vmlinuz-$release"
printf 'store=%s\n' "$tmp/no-such-store" >"$tmp/saveoops.conf"
env SAVEOOPS_BIN="$saveoops" SAVEOOPS_CONF="$tmp/saveoops.conf" SAVEOOPS_BUNDLES="$tmp/bundles" \
  SAVEOOPS_GRUB_CFG="$tmp/grub.d/saveoops.cfg" SAVEOOPS_BOOT="$tmp/boot" SAVEOOPS_MEMMAP="$memmap" \
  sh "$tmp/x/usr/lib/saveoops/update-bundles" >"$tmp/ub.log" 2>&1 ||
  { cat "$tmp/ub.log"; fail "update-bundles failed"; }
bundle=$tmp/bundles/$release.bundle
[ -f "$bundle" ] || { cat "$tmp/ub.log"; fail "update-bundles built no $bundle"; }
[ "$(stat -c %a "$bundle")" = 644 ] || fail "the bundle is not 0644"
"$saveoops" bundle verify --bundle="$bundle" >/dev/null || fail "bundle verify refuses the built bundle"
ls -A "$tmp/bundles" | grep -v '\.bundle$' && fail "update-bundles left scratch files"
mib=$("$saveoops" plan --bundle="$bundle" --memmap="$memmap" --cpus="$(nproc --all)" --print=recommended-mib)
grep -qxF "GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=${mib}M\"" \
  "$tmp/grub.d/saveoops.cfg" || fail "saveoops.cfg does not set crashkernel=${mib}M: $(cat "$tmp/grub.d/saveoops.cfg")"
# A GRUB settings file is shell: it must leave the variable as GRUB reads it.
got=$(GRUB_CMDLINE_LINUX_DEFAULT="quiet" sh -c ". '$tmp/grub.d/saveoops.cfg'; echo \"\$GRUB_CMDLINE_LINUX_DEFAULT\"")
[ "$got" = "quiet crashkernel=${mib}M" ] || fail "sourcing saveoops.cfg gives '$got'"
grep -q "capture initramfs: every disk kind" "$tmp/ub.log" ||
  fail "update-bundles did not say it used the default module set for a missing store"
# A kernel without its modules is skipped, saying so; --remove drops a bundle
# and, with none left, the crashkernel= setting.
touch "$tmp/boot/vmlinuz-0.0.0-none"
env SAVEOOPS_BIN="$saveoops" SAVEOOPS_CONF="$tmp/saveoops.conf" SAVEOOPS_BUNDLES="$tmp/bundles" \
  SAVEOOPS_GRUB_CFG="$tmp/grub.d/saveoops.cfg" SAVEOOPS_BOOT="$tmp/boot" SAVEOOPS_MEMMAP="$memmap" \
  sh "$tmp/x/usr/lib/saveoops/update-bundles" 0.0.0-none >"$tmp/ub2.log" 2>&1 || fail "update-bundles of a module-less kernel failed"
grep -q "skipping 0.0.0-none" "$tmp/ub2.log" || fail "update-bundles did not say it skipped 0.0.0-none"
env SAVEOOPS_BIN="$saveoops" SAVEOOPS_CONF="$tmp/saveoops.conf" SAVEOOPS_BUNDLES="$tmp/bundles" \
  SAVEOOPS_GRUB_CFG="$tmp/grub.d/saveoops.cfg" SAVEOOPS_BOOT="$tmp/boot" SAVEOOPS_MEMMAP="$memmap" \
  sh "$tmp/x/usr/lib/saveoops/update-bundles" --remove "$release" >"$tmp/ub3.log" 2>&1 || fail "update-bundles --remove failed"
[ -e "$bundle" ] && fail "--remove left $bundle"
[ -e "$tmp/grub.d/saveoops.cfg" ] && fail "--remove of the last bundle left saveoops.cfg"
echo "PASS: $deb ($size KiB installed), lintian clean but for 4 overrides, update-bundles crashkernel=${mib}M"
