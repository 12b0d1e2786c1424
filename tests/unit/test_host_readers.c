/* The small host readers behind the readiness evidence, on roots built file by
 * file: reset_method (host_reset_method), Secure Boot (host_secure_boot), the
 * boot-time loaders of a driver (host_early_load) and the configuration
 * directories they read (host_conf_dirs). Bad input (garbage, NUL bytes, a
 * directory where a file belongs) must give "unknown", never a crash and never
 * "none". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cleanup.h"
#include "files.h"
#include "host_boot_fb.h"
#include "host_conf_dirs.h"
#include "host_early_load.h"
#include "host_files.h"
#include "host_reset_method.h"
#include "host_secure_boot.h"
#include "support/tmptree.h"

static char root[256];

static int setup(void **state)
{
	(void)state;
	return tmptree_make(root, sizeof root, "host-readers");
}

static int teardown(void **state)
{
	(void)state;
	return tmptree_remove(root);
}

/* ---- reset_method ---------------------------------------------------------- */

static void test_reset_parse(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int want;
		const char *methods;
	} cases[] = {
	        {"flr bus\n", 2, "flr bus"},
	        {"device_specific\n", 1, "device_specific"},
	        {"af_flr pm bus cxl_bus\n", 4, "af_flr pm bus cxl_bus"},
	        {"\n", 0, ""}, /* every method disabled by the user */
	        {"", 0, ""},
	        {"bus", 1, "bus"},
	        {"flr  bus\n", -EINVAL, NULL},
	        {" flr\n", -EINVAL, NULL},
	        {"flr \n", -EINVAL, NULL},
	        {"FLR\n", -EINVAL, NULL},
	        {"flr\nbus\n", -EINVAL, NULL},
	        {"flr,bus\n", -EINVAL, NULL},
	        {"\xff\xfe\n", -EINVAL, NULL},
	        {"a_method_name_far_longer_than_any_the_kernel_has\n", -EINVAL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		_cleanup_free_ char *methods = NULL;
		int r = pt_reset_methods_parse(cases[i].text, &methods);
		if (r != cases[i].want)
			fail_msg("\"%s\": %d, want %d", cases[i].text, r, cases[i].want);
		if (cases[i].methods)
			assert_string_equal(methods, cases[i].methods);
		else
			assert_null(methods);
	}
	char *methods = NULL;
	assert_int_equal(pt_reset_methods_parse(NULL, &methods), -EINVAL);
}

static void test_reset_read(void **state)
{
	(void)state;
	char *methods = NULL;
	const char *dev = "sys/bus/pci/devices/0000:07:00.0/reset_method";
	/* no attribute: none on 5.15 and later, unknown before or without a release */
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "6.8.12-4-pve", &methods), 0);
	assert_string_equal(methods, "");
	free(methods);
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "5.15.0-1-pve", &methods), 0);
	free(methods);
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "5.14.21", &methods),
	                 -ENODATA);
	assert_null(methods);
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", NULL, &methods), -ENODATA);
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "custom", &methods), -ENODATA);
	assert_int_equal(pt_reset_method_attribute_exists("4.19.0"), 0);
	assert_int_equal(pt_reset_method_attribute_exists("10.0"), 1);

	tmptree_put(root, dev, "flr bus\n");
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "6.8.12-4-pve", &methods), 2);
	assert_string_equal(methods, "flr bus");
	free(methods);
	tmptree_put(root, dev, "\n");
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "6.8.12-4-pve", &methods), 0);
	free(methods);
	/* garbage, and a NUL byte inside */
	tmptree_put(root, dev, "flr\tbus\n");
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "6.8.12-4-pve", &methods),
	                 -EINVAL);
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, dev);
	tmptree_write(path, "flr\0bus\n", 8, 0644);
	assert_int_equal(pt_reset_methods_read(root, "0000:07:00.0", "6.8.12-4-pve", &methods),
	                 -EINVAL);
	assert_null(methods);
}

/* ---- Secure Boot ---------------------------------------------------------------- */

static void test_secure_boot(void **state)
{
	(void)state;
	char sb_root[256];
	assert_int_equal(tmptree_make(sb_root, sizeof sb_root, "secure-boot"), 0);
	assert_int_equal(pt_secure_boot_read(sb_root), PT_SECURE_BOOT_NOT_EFI);
	assert_string_equal(pt_secure_boot_name(PT_SECURE_BOOT_NOT_EFI), "not-efi");
	char path[512];
	snprintf(path, sizeof path, "%s/sys/firmware/efi", sb_root);
	tmptree_mkdirs(path);
	/* UEFI without efivarfs, or without the variable: unknown */
	assert_int_equal(pt_secure_boot_read(sb_root), PT_SECURE_BOOT_UNKNOWN);
	assert_null(pt_secure_boot_name(PT_SECURE_BOOT_UNKNOWN));
	snprintf(path, sizeof path, "%s%s", sb_root, PT_SECURE_BOOT_VAR);
	tmptree_put(sb_root, "sys/firmware/efi/efivars/.keep", "");
	static const struct {
		const char *bytes;
		size_t len;
		enum pt_secure_boot want;
	} cases[] = {
	        {"\x06\x00\x00\x00\x01", 5, PT_SECURE_BOOT_ON},
	        {"\x06\x00\x00\x00\x00", 5, PT_SECURE_BOOT_OFF},
	        {"\x06\x00\x00\x00\x02", 5, PT_SECURE_BOOT_UNKNOWN},
	        {"\x06\x00\x00\x00", 4, PT_SECURE_BOOT_UNKNOWN},
	        {"\x06\x00\x00\x00\x01\x00", 6, PT_SECURE_BOOT_UNKNOWN},
	        {"", 0, PT_SECURE_BOOT_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tmptree_write(path, cases[i].bytes, cases[i].len, 0644);
		assert_int_equal(pt_secure_boot_read(sb_root), cases[i].want);
	}
	assert_string_equal(pt_secure_boot_name(PT_SECURE_BOOT_ON), "on");
	assert_string_equal(pt_secure_boot_name(PT_SECURE_BOOT_OFF), "off");
	assert_int_equal(pt_secure_boot_parse(NULL, 5), PT_SECURE_BOOT_UNKNOWN);
	assert_int_equal(tmptree_remove(sb_root), 0);
}

/* ---- the firmware framebuffer at boot (boot_params' screen_info) -------------------- */

/* 64 bytes of screen_info: type, mode, base, size (raw field), line length,
 * and the high half of the base (0: none). */
static void screen_info(unsigned char *d, unsigned type, unsigned w, unsigned h, uint32_t base,
                        uint32_t size, unsigned linelength, uint32_t ext_base)
{
	memset(d, 0, 64);
	d[0x0f] = (unsigned char)type;
	d[0x12] = w & 0xff, d[0x13] = w >> 8;
	d[0x14] = h & 0xff, d[0x15] = h >> 8;
	d[0x16] = 32;
	for (int i = 0; i < 4; i++) {
		d[0x18 + i] = (base >> (8 * i)) & 0xff;
		d[0x1c + i] = (size >> (8 * i)) & 0xff;
		d[0x3a + i] = (ext_base >> (8 * i)) & 0xff;
	}
	d[0x24] = linelength & 0xff, d[0x25] = linelength >> 8;
	if (ext_base)
		d[0x36] = 1 << 1; /* VIDEO_CAPABILITY_64BIT_BASE */
}

static void test_boot_fb(void **state)
{
	(void)state;
	unsigned char d[4096] = {0};
	struct pt_boot_fb fb;
	/* OVMF's GOP in the e2e guest (Debian 13, 6.12: "efifb: framebuffer at
	 * 0xc0000000, using 4000k"): lfb_size in bytes. */
	screen_info(d, 0x70, 1280, 800, 0xc0000000, 4000 * 1024, 5120, 0);
	assert_int_equal(pt_boot_fb_parse(d, sizeof d, &fb), 1);
	assert_int_equal(fb.type, PT_BOOT_FB_EFI);
	assert_true(fb.start == 0xc0000000ULL && fb.end == 0xc0000000ULL + 4000 * 1024 - 1);
	assert_int_equal(fb.width, 1280);
	assert_int_equal(fb.height, 800);
	assert_string_equal(pt_boot_fb_kind(fb.type), "EFI");
	/* the mode larger than lfb_size: the mode wins */
	screen_info(d, 0x70, 1920, 1080, 0xc0000000, 4096, 7680, 0);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), 1);
	assert_true(fb.end == 0xc0000000ULL + 7680ULL * 1080 - 1);
	/* VESA: lfb_size in 64 KiB units */
	screen_info(d, 0x23, 1024, 768, 0xe0000000, 48, 0, 0);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), 1);
	assert_int_equal(fb.type, PT_BOOT_FB_VESA);
	assert_true(fb.end == 0xe0000000ULL + 48ULL * 65536 - 1);
	assert_string_equal(pt_boot_fb_kind(fb.type), "VESA");
	/* a 64-bit base (a framebuffer in a BAR above 4 GiB) */
	screen_info(d, 0x70, 1920, 1080, 0x00000000, 0x7e9000, 7680, 0x60);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), 1);
	assert_true(fb.start == 0x6000000000ULL);
	/* text mode (SeaBIOS: VIDEO_TYPE_VGAC), and no framebuffer at all */
	screen_info(d, 0x22, 0, 0, 0, 0, 0, 0);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), 0);
	memset(d, 0, 64);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), 0);
	/* short data, or a framebuffer with no base or no size: not believed */
	screen_info(d, 0x70, 1280, 800, 0xc0000000, 4000 * 1024, 5120, 0);
	assert_int_equal(pt_boot_fb_parse(d, 63, &fb), -EINVAL);
	assert_int_equal(pt_boot_fb_parse(NULL, 64, &fb), -EINVAL);
	screen_info(d, 0x70, 1280, 800, 0, 4000 * 1024, 5120, 0);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), -EINVAL);
	screen_info(d, 0x70, 0, 0, 0xc0000000, 0, 0, 0);
	assert_int_equal(pt_boot_fb_parse(d, 64, &fb), -EINVAL);
	/* read under a root: absent, then present */
	char root[256];
	assert_int_equal(tmptree_make(root, sizeof root, "boot-fb"), 0);
	assert_int_equal(pt_boot_fb_read(root, &fb), -ENOENT);
	char path[512];
	snprintf(path, sizeof path, "%s/sys/kernel/boot_params", root);
	tmptree_mkdirs(path);
	snprintf(path, sizeof path, "%s/sys/kernel/boot_params/data", root);
	screen_info(d, 0x70, 1280, 800, 0xc0000000, 4000 * 1024, 5120, 0);
	tmptree_write(path, d, sizeof d, 0400);
	assert_int_equal(pt_boot_fb_read(root, &fb), 1);
	assert_true(fb.start == 0xc0000000ULL);
	assert_int_equal(tmptree_remove(root), 0);
}

/* ---- configuration directories ------------------------------------------------------ */

static void test_conf_dirs(void **state)
{
	(void)state;
	char r[256];
	assert_int_equal(tmptree_make(r, sizeof r, "conf-dirs"), 0);
	tmptree_put(r, "usr/lib/modprobe.d/50-a.conf", "options a x=usr\n");
	tmptree_put(r, "etc/modprobe.d/50-a.conf", "options a x=etc\n"); /* masks usr/lib's */
	tmptree_put(r, "lib/modprobe.d/10-b.conf", "blacklist b\n");
	tmptree_put(r, "run/modprobe.d/90-c.conf", "install c /bin/true\n");
	tmptree_put(r, "etc/modprobe.d/README", "not a conf file\n");
	tmptree_put(r, "etc/modprobe.d/.hidden.conf", "blacklist hidden\n");
	struct pt_conf_files files;
	assert_int_equal(pt_conf_files_list(r, pt_modprobe_d_dirs, &files), 0);
	assert_true(files.complete);
	assert_int_equal(files.count, 3);
	assert_string_equal(files.files[0].host_path, "/lib/modprobe.d/10-b.conf");
	assert_string_equal(files.files[1].host_path, "/etc/modprobe.d/50-a.conf");
	assert_string_equal(files.files[2].host_path, "/run/modprobe.d/90-c.conf");
	pt_conf_files_release(&files);

	bool complete = false;
	_cleanup_free_ char *unreadable = NULL;
	_cleanup_json_ json_t *lines = pt_modprobe_d_lines(r, &complete, &unreadable);
	assert_true(complete);
	assert_null(unreadable);
	assert_int_equal(json_array_size(lines), 3);
	json_t *a = json_array_get(lines, 1);
	assert_string_equal(json_string_value(json_object_get(a, "path")),
	                    "/etc/modprobe.d/50-a.conf");
	assert_string_equal(json_string_value(json_object_get(a, "args")), "x=etc");

	/* a file that exists but cannot be read: the lines are incomplete */
	char dir[512];
	snprintf(dir, sizeof dir, "%s/etc/modprobe.d/60-dir.conf", r);
	tmptree_mkdirs(dir);
	json_decref(pt_modprobe_d_lines(r, &complete, NULL));
	assert_false(complete);
	/* a directory that exists but is no directory counts as absent */
	assert_int_equal(tmptree_remove(r), 0);
}

static bool no_tilde(const char *name)
{
	return name[strlen(name) - 1] != '~';
}

static void test_host_files(void **state)
{
	(void)state;
	char r[256];
	assert_int_equal(tmptree_make(r, sizeof r, "host-files"), 0);
	char **names = NULL;
	assert_int_equal(pt_host_list_dir(r, "/etc/nothing", NULL, &names), 0);
	assert_null(names);
	tmptree_put(r, "etc/x/b", "");
	tmptree_put(r, "etc/x/a", "");
	tmptree_put(r, "etc/x/a~", "");
	tmptree_put(r, "etc/file", "text\n");
	assert_int_equal(pt_host_list_dir(r, "/etc/file", NULL, &names), 0); /* no directory */
	assert_int_equal(pt_host_list_dir(r, "/etc/x", no_tilde, &names), 2);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "b");
	assert_null(names[2]);
	pt_host_names_free(names);
	tmptree_link(r, "etc/y", "/etc/x"); /* an absolute link: followed inside root */
	pt_files_confine(r);
	char ry[512];
	snprintf(ry, sizeof ry, "%s", r);
	assert_int_equal(pt_host_list_dir(ry, "/etc/y", NULL, &names), 3);
	pt_host_names_free(names);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(pt_host_read(r, &text, &len, "/etc/%s", "file"), 0);
	assert_string_equal(text, "text\n");
	assert_int_equal(len, 5);
	free(text);
	assert_int_equal(pt_host_read(r, &text, NULL, "/etc/%s", "none"), -ENOENT);
	assert_null(text);
	pt_files_confine(NULL);
	assert_int_equal(tmptree_remove(r), 0);
}

/* ---- boot-time loaders -------------------------------------------------------------- */

static void test_install_parser(void **state)
{
	(void)state;
	static const struct {
		const char *command;
		const char *want; /* space-separated */
	} cases[] = {
	        {"/sbin/modprobe nvidia; /sbin/modprobe --ignore-install snd-hda-intel",
	         "nvidia snd_hda_intel"},
	        {"modprobe -a nvidia nvidia_drm", "nvidia nvidia_drm"},
	        {"modprobe nvidia NVreg_X=1 && insmod /lib/modules/x/extra/vendor-reset.ko",
	         "nvidia vendor_reset"},
	        {"for d in 0000:07:00.0; do f=/sys/bus/pci/devices/$d/driver_override; "
	         "[ -w \"$f\" ] && echo vfio-pci > \"$f\"; done; exec /sbin/modprobe "
	         "--ignore-install vfio-pci $CMDLINE_OPTS",
	         "vfio_pci"},
	        {"/bin/true", ""},
	        {"echo nvidia", ""},
	        {"modprobe $MODULE", ""},
	        {"'/sbin/modprobe' \"nouveau\"", "nouveau"},
	        {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char out[8][64];
		size_t n = 0;
		pt_install_loaded_modules(cases[i].command, out, 8, &n);
		char joined[512] = "";
		for (size_t k = 0; k < n; k++) {
			if (k)
				strcat(joined, " ");
			strcat(joined, out[k]);
		}
		if (strcmp(joined, cases[i].want) != 0)
			fail_msg("install \"%s\": \"%s\", want \"%s\"", cases[i].command, joined,
			         cases[i].want);
	}
	char out[1][64];
	size_t n = 0;
	pt_install_loaded_modules("modprobe -a a b c", out, 1, &n);
	assert_int_equal(n, 1); /* at most max */
}

static void early_root(char *r, size_t size)
{
	assert_int_equal(tmptree_make(r, size, "early-load"), 0);
	tmptree_put(r, "lib/modules/6.1.90-custom/modules.builtin",
	            "kernel/drivers/video/fbdev/core/fb.ko\n"
	            "kernel/drivers/gpu/drm/nouveau/nouveau.ko\n"
	            "kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
	tmptree_put(r, "etc/initramfs-tools/modules",
	            "# List of modules\n"
	            "#nouveau\n"
	            "\n"
	            "  nvidia NVreg_PreserveVideoMemoryAllocations=1  \n");
	tmptree_put(r, "etc/modules",
	            "# /etc/modules\nloop\r\n; comment\nvfio_pci ids=10de:1c82\n"
	            "nvidia-drm\n");
	/* Debian's link: the same file, not read twice */
	tmptree_link(r, "etc/modules-load.d/modules.conf", "../modules");
	tmptree_put(r, "etc/modules-load.d/nvidia.conf", "nvidia\n");
	tmptree_put(r, "usr/lib/modules-load.d/nvidia.conf", "nvidia_uvm\n"); /* masked */
	tmptree_put(r, "usr/lib/modules-load.d/zz.conf", "amdgpu\n");
	tmptree_put(r, "etc/modprobe.d/nvidia.conf",
	            "softdep nouveau pre: vfio-pci\n"
	            "install snd_hda_intel /sbin/modprobe nvidia; /sbin/modprobe "
	            "--ignore-install snd_hda_intel\n"
	            "install nvidia /sbin/modprobe --ignore-install nvidia\n");
}

static void test_early_load(void **state)
{
	(void)state;
	char r[256];
	early_root(r, sizeof r);
	struct pt_load_sources src;
	assert_int_equal(pt_load_sources_read(r, "6.1.90-custom", &src), 0);
	assert_true(src.complete);
	assert_string_equal(src.builtin_file, "/lib/modules/6.1.90-custom/modules.builtin");
	char *line = NULL;
	assert_int_equal(pt_load_builtin_line(&src, "nouveau", &line), 2);
	assert_string_equal(line, "kernel/drivers/gpu/drm/nouveau/nouveau.ko");
	free(line);
	assert_int_equal(pt_load_builtin_line(&src, "vfio_pci_core", NULL), 3); /* '-' is '_' */
	assert_int_equal(pt_load_builtin_line(&src, "vfio_pci", NULL), 0);
	assert_int_equal(pt_load_builtin_line(&src, "nvidia", NULL), 0);

	const struct pt_load_entry *found[8];
	assert_int_equal(pt_load_entries_for(&src, "nvidia", found, 8), 3);
	assert_string_equal(found[0]->how, "initramfs");
	assert_string_equal(found[0]->file, "/etc/initramfs-tools/modules");
	assert_int_equal(found[0]->line, 4);
	assert_string_equal(found[0]->text, "nvidia NVreg_PreserveVideoMemoryAllocations=1");
	assert_string_equal(found[1]->how, "modules-load");
	assert_string_equal(found[1]->file, "/etc/modules-load.d/nvidia.conf");
	assert_string_equal(found[2]->how, "install");
	assert_string_equal(found[2]->file, "/etc/modprobe.d/nvidia.conf");
	assert_int_equal(found[2]->line, 2);
	assert_int_equal(pt_load_entries_for(&src, "nvidia_drm", found, 8), 1);
	assert_string_equal(found[0]->file, "/etc/modules");
	assert_int_equal(found[0]->line, 5);
	assert_int_equal(pt_load_entries_for(&src, "loop", found, 8), 1);       /* CR trimmed */
	assert_int_equal(pt_load_entries_for(&src, "vfio_pci", found, 8), 0);   /* parameters */
	assert_int_equal(pt_load_entries_for(&src, "nvidia_uvm", found, 8), 0); /* masked */
	assert_int_equal(pt_load_entries_for(&src, "amdgpu", found, 8), 1);
	assert_int_equal(pt_load_entries_for(&src, "nouveau", found, 8), 0); /* commented */
	pt_load_sources_release(&src);

	/* no release: built-in cannot be told */
	assert_int_equal(pt_load_sources_read(r, NULL, &src), 0);
	assert_int_equal(pt_load_builtin_line(&src, "nouveau", NULL), -ENODATA);
	pt_load_sources_release(&src);
	/* a kernel without modules.builtin: cannot be told either */
	assert_int_equal(pt_load_sources_read(r, "6.8.12-4-pve", &src), 0);
	assert_int_equal(pt_load_builtin_line(&src, "nouveau", NULL), -ENOENT);
	pt_load_sources_release(&src);
	assert_int_equal(pt_load_sources_read(r, "../../etc", &src), 0);
	assert_int_equal(pt_load_builtin_line(&src, "nouveau", NULL), -ENODATA);
	pt_load_sources_release(&src);

	/* a source that exists but cannot be read: incomplete, and named */
	char path[512];
	snprintf(path, sizeof path, "%s/etc/initramfs-tools/modules", r);
	assert_int_equal(remove(path), 0);
	tmptree_mkdirs(path);
	assert_int_equal(pt_load_sources_read(r, "6.1.90-custom", &src), 0);
	assert_false(src.complete);
	assert_string_equal(src.unreadable, "/etc/initramfs-tools/modules");
	assert_int_equal(pt_load_entries_for(&src, "nvidia", found, 8), 2);
	pt_load_sources_release(&src);
	assert_int_equal(tmptree_remove(r), 0);
}

static void test_early_load_empty_root(void **state)
{
	(void)state;
	struct pt_load_sources src;
	assert_int_equal(pt_load_sources_read(root, "6.8.12-4-pve", &src), 0);
	assert_true(src.complete); /* nothing there: nothing loads, and that is known */
	assert_int_equal(src.count, 0);
	const struct pt_load_entry *found[1];
	assert_int_equal(pt_load_entries_for(&src, "nvidia", found, 1), 0);
	assert_int_equal(pt_load_builtin_line(&src, "nvidia", NULL), -ENOENT);
	pt_load_sources_release(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reset_parse),
	        cmocka_unit_test(test_reset_read),
	        cmocka_unit_test(test_secure_boot),
	        cmocka_unit_test(test_boot_fb),
	        cmocka_unit_test(test_conf_dirs),
	        cmocka_unit_test(test_host_files),
	        cmocka_unit_test(test_install_parser),
	        cmocka_unit_test(test_early_load),
	        cmocka_unit_test(test_early_load_empty_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
