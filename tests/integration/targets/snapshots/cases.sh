# The snapshot cases (sourced by test.sh): snap MODULE HOST CASE MODE 'ARGS' ['PREPARATION'].
# HOST is a short name of tests/fixtures/hosts/*.yml (test.sh's HOSTS); ARGS is
# the module's options as JSON, "root" added first unless given (<ROOT> is the
# root); MODE is check, check+diff (one run), real or diff (a real run and the
# same again: CASE.again.json). For each module: each host, check and real mode,
# state present and absent, diff mode, refusals and bad options.
# A case's snapshot is tests/fixtures/snapshots/MODULE/HOST.CASE.json.

ALL_HOSTS="pve1 pve2 pve3 twin shared dcoff deb12"

# ---- iommu_facts: reads only; each host, check mode, and the refusals
for h in $ALL_HOSTS; do
	snap iommu_facts "$h" facts real '{}'
done
snap iommu_facts pve1 facts-check check '{}'
snap iommu_facts pve1 unknown-option check '{"bogus": 1}'
snap iommu_facts pve1 root-missing real '{"root": "<ROOT>/missing"}'
snap iommu_facts pve1 root-not-a-string real '{"root": ["/"]}'

# ---- grub_iommu: each host predicted, then applied (GRUB or systemd-boot)
for h in $ALL_HOSTS; do
	snap grub_iommu "$h" present-check check+diff '{}'
	snap grub_iommu "$h" present diff '{}'
done
# absent after the parameters went on
snap grub_iommu pve1 absent-check check+diff '{"state": "absent"}' "module grub_iommu '{}'"
snap grub_iommu pve1 absent diff '{"state": "absent"}' "module grub_iommu '{}'"
snap grub_iommu pve1 absent-nothing-to-do check+diff '{"state": "absent"}'
# options
snap grub_iommu pve1 params-check check+diff '{"params": ["video=efifb:off", "pcie_acs_override=downstream"]}'
snap grub_iommu pve1 iommu-none check+diff '{"iommu": "none"}'
snap grub_iommu pve1 amd-on-intel check+diff '{"iommu": "amd"}'
snap grub_iommu pve1 no-passthrough-mode check+diff '{"passthrough_mode": false}'
snap grub_iommu pve1 backup diff '{"backup": true}'
snap grub_iommu pve1 no-update real '{"update": false}'
snap grub_iommu pve1 path-given check+diff '{"path": "/etc/default/grub"}'
snap grub_iommu pve3 absent diff '{"state": "absent", "params": ["video=efifb:off"]}' \
	"module grub_iommu '{\"params\": [\"video=efifb:off\"]}'"
# files the editor meets
snap grub_iommu pve1 legacy-spellings check+diff '{}' "grub legacy-iommu-spellings.grub"
snap grub_iommu pve1 already-on check+diff '{}' "grub already-on.grub"
snap grub_iommu pve1 self-reference check '{}' "grub self-reference.grub"
snap grub_iommu pve1 conditional check '{}' "grub conditional.grub"
snap grub_iommu pve2 zfs-already-on check+diff '{}' "cmdline zfs-already-on.cmdline"
snap grub_iommu pve2 no-root check '{}' "cmdline no-root.cmdline"
# boot loader chosen, and what fails
snap grub_iommu pve1 bootloader-systemd-boot check '{"bootloader": "systemd-boot"}'
snap grub_iommu pve2 bootloader-grub check+diff '{"bootloader": "grub", "update": false}'
snap grub_iommu pve1 update-grub-fails real '{}' "fails update-grub"
snap grub_iommu pve2 refresh-fails real '{}' "fails proxmox-boot-tool.refresh"
# bad options
snap grub_iommu pve1 bad-state check '{"state": "gone"}'
snap grub_iommu pve1 two-params-in-one check '{"params": ["intel_iommu=on iommu=pt"]}'
snap grub_iommu pve1 bad-timeout check '{"timeout": "soon"}'
snap grub_iommu pve1 unknown-option check '{"bogus": true}'

# ---- vfio_bind: the seed host pve1 (GTX 1050 Ti at 0000:07:00)
P1='"devices": ["0000:07:00"]'
snap vfio_bind pve1 present-check check+diff "{$P1}"
snap vfio_bind pve1 present diff "{$P1}"
snap vfio_bind pve1 user-files-check check+diff "{$P1}" user_files
snap vfio_bind pve1 user-files-backup diff "{$P1, \"backup\": true}" user_files
snap vfio_bind pve1 absent-check check+diff '{"state": "absent"}' "module vfio_bind '{$P1}'"
snap vfio_bind pve1 absent diff '{"state": "absent"}' "module vfio_bind '{$P1}'"
snap vfio_bind pve1 absent-user-files diff '{"state": "absent"}' "user_files; module vfio_bind '{$P1}'"
snap vfio_bind pve1 ids-check check+diff '{"ids": ["10de:1c82", "10de:0fb9"]}'
snap vfio_bind pve1 disable-vga check+diff "{$P1, \"disable_vga\": true}"
snap vfio_bind pve1 blacklist-auto check+diff "{$P1, \"blacklist_drivers\": [\"auto\"]}"
# binding now, through sysfs (plain files here: a device never moves by itself)
snap vfio_bind pve1 bind-now-check check+diff "{$P1, \"bind_now\": true}" vfio_pci_driver
snap vfio_bind pve1 bind-now-not-moved diff "{$P1, \"bind_now\": true}" vfio_pci_driver
snap vfio_bind pve1 bind-now-no-vfio-pci real "{$P1, \"bind_now\": true}"
snap vfio_bind pve1 bind-now-bound diff "{$P1, \"bind_now\": true}" \
	"on_vfio 0000:07:00.0; on_vfio 0000:07:00.1"
snap vfio_bind pve1 bind-now-absent diff "{$P1, \"bind_now\": true, \"state\": \"absent\"}" \
	"on_vfio 0000:07:00.0; on_vfio 0000:07:00.1; module vfio_bind '{$P1, \"bind_now\": true}'"
snap vfio_bind pve1 no-initramfs real "{$P1, \"update_initramfs\": false}"
snap vfio_bind pve1 initramfs-fails real "{$P1}" "fails update-initramfs"
# refusals: the host would lose something
snap vfio_bind pve1 blacklist-r8169 check "{$P1, \"blacklist_drivers\": [\"r8169\"]}"
snap vfio_bind pve1 nic-check check '{"devices": ["0000:06:00"]}'
snap vfio_bind pve1 nic real '{"devices": ["0000:06:00"]}'
snap vfio_bind pve1 root-disk check '{"devices": ["0000:01:00"]}'
snap vfio_bind pve1 nic-forced check+diff '{"devices": ["0000:06:00"], "force": true}'
snap vfio_bind shared group-with-nic-check check+diff '{"devices": ["0000:03:00"]}'
snap vfio_bind shared group-with-nic real '{"devices": ["0000:03:00"]}'
snap vfio_bind shared group-with-nic-forced check+diff '{"devices": ["0000:03:00"], "force": true}'
snap vfio_bind shared no-group check '{"devices": ["0000:03:00"], "include_group": false}'
# the other hosts
snap vfio_bind twin second-gpu-check check+diff '{"devices": ["0000:02:00"]}'
snap vfio_bind twin second-gpu diff '{"devices": ["0000:02:00"]}'
snap vfio_bind twin by-ids check '{"ids": ["10de:2504"]}'
snap vfio_bind pve2 rx6600 diff '{"devices": ["0000:0d:00"]}'
snap vfio_bind pve3 rx6800-blacklist-auto check+diff '{"devices": ["0000:0b:00"], "blacklist_drivers": ["auto"]}'
snap vfio_bind pve3 rx6800 diff '{"devices": ["0000:0b:00"], "blacklist_drivers": ["auto"]}'
snap vfio_bind deb12 virqfd-check check+diff '{"devices": ["0000:01:00"]}'
snap vfio_bind deb12 virqfd diff '{"devices": ["0000:01:00"]}'
snap vfio_bind dcoff iommu-off diff '{"devices": ["0000:3b:00"]}'
snap vfio_bind dcoff iommu-off-bind-now check '{"devices": ["0000:3b:00"], "bind_now": true}'
# bad options
snap vfio_bind pve1 bad-state check "{$P1, \"state\": \"gone\"}"
snap vfio_bind pve1 bad-address check '{"devices": ["zz:00"]}'
snap vfio_bind pve1 no-device check '{"devices": ["0000:99:00"]}'
snap vfio_bind pve1 nothing-selected check '{}'
snap vfio_bind pve1 relative-conf-path check "{$P1, \"conf_path\": \"etc/modprobe.d/vfio.conf\"}"
snap vfio_bind pve1 same-file check "{$P1, \"blacklist_path\": \"/etc/modprobe.d/vfio.conf\"}"
snap vfio_bind pve1 unknown-option check "{$P1, \"bogus\": 1}"

# ---- pve_pci_mapping: against the fake pvesh, from an empty cluster mapping
M1='"name": "gpu-gtx1050ti", "devices": ["0000:07:00"]'
MAPPED="module pve_pci_mapping '{$M1, \"description\": \"GTX 1050 Ti\"}'"
snap pve_pci_mapping pve1 create-check check+diff "{$M1, \"description\": \"GTX 1050 Ti\"}"
snap pve_pci_mapping pve1 create diff "{$M1, \"description\": \"GTX 1050 Ti\"}"
snap pve_pci_mapping pve1 update-check check+diff "{$M1, \"description\": \"GTX 1050 Ti incl. audio\", \"mdev\": true}" "$MAPPED"
snap pve_pci_mapping pve1 update diff "{$M1, \"description\": \"GTX 1050 Ti incl. audio\", \"live_migration_capable\": false}" "$MAPPED"
snap pve_pci_mapping pve1 absent-check check+diff '{"name": "gpu-gtx1050ti", "state": "absent"}' "$MAPPED"
snap pve_pci_mapping pve1 absent diff '{"name": "gpu-gtx1050ti", "state": "absent"}' "$MAPPED"
snap pve_pci_mapping pve1 absent-nothing check '{"name": "gpu-gtx1050ti", "state": "absent"}'
snap pve_pci_mapping pve1 function-only check+diff '{"name": "gpu-video", "devices": ["07:00.0"]}'
EXACT='"name": "gpu-gtx1050ti", "map_mode": "exact", "map": [{"node": "pve1", "path": "0000:07:00"}, {"node": "pve2", "path": "0000:02:00", "id": "10de:1c82", "subsystem_id": "1462:8c96", "iommugroup": 9}]'
snap pve_pci_mapping pve1 exact diff "{$EXACT}"
snap pve_pci_mapping pve1 other-node-kept-check check+diff '{"name": "gpu-gtx1050ti", "devices": ["0000:07:00.0"]}' \
	"module pve_pci_mapping '{$EXACT}'"
snap pve_pci_mapping pve1 other-node-kept diff '{"name": "gpu-gtx1050ti", "devices": ["0000:07:00.0"]}' \
	"module pve_pci_mapping '{$EXACT}'"
snap pve_pci_mapping pve1 exact-absent diff '{"name": "gpu-gtx1050ti", "map_mode": "exact", "state": "absent"}' \
	"module pve_pci_mapping '{$EXACT}'"
snap pve_pci_mapping pve1 hardware-mismatch check+diff "{$M1}" \
	"module pve_pci_mapping '{\"name\": \"gpu-gtx1050ti\", \"map_mode\": \"exact\", \"map\": [{\"node\": \"pve1\", \"path\": \"0000:07:00\", \"id\": \"10de:1b80\", \"iommugroup\": 3}]}'"
snap pve_pci_mapping pve1 other-node-name check '{"name": "gpu-gtx1050ti", "devices": ["0000:07:00"], "node": "pve9"}'
# the other hosts
snap pve_pci_mapping pve2 create diff '{"name": "gpu-rx6600", "devices": ["0000:0d:00"]}'
snap pve_pci_mapping pve3 create-check check+diff '{"name": "gpu-rx6800", "devices": ["0000:0b:00"]}'
snap pve_pci_mapping twin create-check check+diff '{"name": "gpu-rtx3060", "devices": ["0000:02:00"]}'
snap pve_pci_mapping shared create-check check+diff '{"name": "gpu-gtx1060", "devices": ["0000:03:00"]}'
snap pve_pci_mapping dcoff create-check check+diff '{"name": "gpu-a100", "devices": ["0000:3b:00"]}'
snap pve_pci_mapping deb12 create-check check+diff '{"name": "gpu-amd", "devices": ["0000:01:00"]}'
# refusals and bad options
snap pve_pci_mapping pve1 name-too-long check "{\"name\": \"g$(printf '%0129d' 0)\", \"devices\": [\"0000:07:00\"]}"
snap pve_pci_mapping pve1 bad-name check '{"name": "9gpu", "devices": ["0000:07:00"]}'
snap pve_pci_mapping pve1 no-name check '{"devices": ["0000:07:00"]}'
snap pve_pci_mapping pve1 no-devices check '{"name": "gpu-gtx1050ti"}'
snap pve_pci_mapping pve1 short-address check '{"name": "gpu-gtx1050ti", "devices": ["7:0"]}'
snap pve_pci_mapping pve1 bad-address check '{"name": "gpu-gtx1050ti", "devices": ["0000:07:00.9"]}'
snap pve_pci_mapping pve1 no-device check '{"name": "gpu-gtx1050ti", "devices": ["0000:99:00"]}'
snap pve_pci_mapping pve1 bad-map-mode check "{$M1, \"map_mode\": \"all\"}"
snap pve_pci_mapping pve1 duplicate-entries check '{"name": "gpu-gtx1050ti", "map_mode": "exact", "map": [{"node": "pve1", "path": "0000:07:00"}, {"node": "pve1", "path": "0000:07:00"}]}'
snap pve_pci_mapping pve1 comma-in-description check "{$M1, \"description\": \"GTX, 1050\"}"
snap pve_pci_mapping pve1 line-break-in-description check "{$M1, \"description\": \"GTX\\n1050\"}"
snap pve_pci_mapping pve1 no-pvesh real "{$M1, \"pvesh\": \"/usr/bin/no-pvesh\"}"
snap pve_pci_mapping pve1 unknown-option check "{$M1, \"bogus\": 1}"
