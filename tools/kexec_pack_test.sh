#!/bin/bash
# The kexec pack's collect side: saveoops-collect.service (oneshot after
# local-fs.target, enabled beside saveoops-arm.service), a saveoops.conf
# that saveoops reads back (installed only where none is), and a catalog
# entry journalctl accepts (journalctl --root=DIR --update-catalog, then
# --list-catalog names Saveoops' MESSAGE_ID); saveoops arm takes store= from a config
# and names FILE:LINE of a bad one.
set -u
saveoops=tools/saveoops
pack=tools/pack
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/kexec_pack.XXXXXX")
chmod 0755 "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
MESSAGE_ID=0a5408bae23243a592f789604e67cc94

"$pack" --backend=kexec --store=/var/lib/saveoops/store --out="$tmp/pk" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail "pack --backend=kexec failed"; }
out=$tmp/pk
for f in systemd/saveoops-arm.service systemd/saveoops-collect.service saveoops.conf \
  catalog/saveoops.catalog install.sh; do
  [ -s "$out/$f" ] || fail "the pack wrote no $f"
done

unit=$out/systemd/saveoops-collect.service
for line in "Type=oneshot" "After=local-fs.target" "ExecStart=/usr/sbin/saveoops collect" \
  "WantedBy=multi-user.target"; do
  grep -qxF "$line" "$unit" || fail "saveoops-collect.service lacks '$line'"
done

grep -qx "store=/var/lib/saveoops/store" "$out/saveoops.conf" || fail "saveoops.conf has no store="
# saveoops reads the config back: collect with it and only --store/--dir overridden.
"$saveoops" store format --store="$tmp/store" --size=1M >/dev/null || fail "store format failed"
"$saveoops" collect --config="$out/saveoops.conf" --store="$tmp/store" --dir="$tmp/collected" \
  --journal-socket=none >"$tmp/collect.log" 2>&1 || { cat "$tmp/collect.log"; fail "collect --config failed"; }
grep -q "collected 0 new record(s) into $tmp/collected/records" "$tmp/collect.log" ||
  fail "collect said: $(cat "$tmp/collect.log")"
# arm takes its store from the config (here a copy naming the test's store);
# a bad config is an error naming FILE:LINE.
sed "s|^store=.*|store=$tmp/store|" "$out/saveoops.conf" >"$tmp/arm.conf"
chmod 0600 "$tmp/arm.conf"
"$saveoops" arm --config="$tmp/arm.conf" --bundle="$out/saveoops.bundle" --dry-run \
  --root="$tmp/noroot" >"$tmp/arm.log" 2>&1
grep -qF "saveoops arm: store $tmp/store (store= of $tmp/arm.conf)" "$tmp/arm.log" ||
  fail "arm did not take store= from the config: $(cat "$tmp/arm.log")"
grep -q "saveoops arm: store [0-9a-f-]* on $tmp/store at offset 0" "$tmp/arm.log" ||
  fail "arm did not read the configured store: $(cat "$tmp/arm.log")"
# arm takes capture_action= from the config (e2e/debian_guest.sh shows the
# capture kernel powering off with it).
printf 'capture_action=poweroff\n' >>"$tmp/arm.conf"
"$saveoops" arm --config="$tmp/arm.conf" --bundle="$out/saveoops.bundle" --dry-run \
  --root="$tmp/noroot" >"$tmp/arm.log" 2>&1
grep -qF "saveoops arm: capture action poweroff (capture_action= of $tmp/arm.conf)" "$tmp/arm.log" ||
  fail "arm did not take capture_action= from the config: $(cat "$tmp/arm.log")"
printf 'store=/dev/vda2\ncapture=poweroff\n' >"$tmp/bad.conf"
chmod 0600 "$tmp/bad.conf"
if "$saveoops" arm --config="$tmp/bad.conf" --bundle="$out/saveoops.bundle" --dry-run \
  >"$tmp/arm.log" 2>&1; then
  fail "arm accepted a config with an unknown key"
fi
grep -qF "$tmp/bad.conf:2: unknown key 'capture'" "$tmp/arm.log" ||
  fail "arm's config error does not name FILE:LINE: $(cat "$tmp/arm.log")"
# A store= that is not an absolute path cannot go into the config.
if "$pack" --backend=kexec --store=sda9 --out="$tmp/bad" >"$tmp/bad.log" 2>&1; then
  fail "pack accepted --store=sda9"
fi
grep -q -- "--store=sda9: not a path saveoops.conf can hold" "$tmp/bad.log" ||
  fail "pack --store=sda9 said: $(cat "$tmp/bad.log")"

sh -n "$out/install.sh" || fail "install.sh is not valid sh"
grep -qF 'if [ ! -e /etc/saveoops/saveoops.conf ]; then' "$out/install.sh" ||
  fail "install.sh does not keep an existing saveoops.conf"
grep -qF 'systemctl enable saveoops-arm.service saveoops-collect.service' "$out/install.sh" ||
  fail "install.sh does not enable both units"
grep -qF '/usr/lib/systemd/catalog/saveoops.catalog' "$out/install.sh" ||
  fail "install.sh does not install the catalog entry"
grep -qF 'journalctl --update-catalog' "$out/install.sh" || fail "install.sh does not update the catalog"

head -2 "$out/catalog/saveoops.catalog" | grep -qx -- "-- $MESSAGE_ID" ||
  fail "the catalog entry does not start with -- $MESSAGE_ID"
if command -v journalctl >/dev/null; then
  root=$tmp/root
  mkdir -p "$root/usr/lib/systemd/catalog"
  cp "$out/catalog/saveoops.catalog" "$root/usr/lib/systemd/catalog/"
  journalctl --root="$root" --update-catalog || fail "journalctl --update-catalog refused it"
  journalctl --root="$root" --list-catalog | grep -q "^$MESSAGE_ID saveoops: Kernel panic on boot" ||
    fail "journalctl --list-catalog does not list $MESSAGE_ID: $(journalctl --root="$root" --list-catalog)"
else
  fail "journalctl is missing (systemd): the catalog entry cannot be checked"
fi
echo "PASS: kexec pack writes saveoops-collect.service, saveoops.conf and a catalog entry journalctl accepts"
