/* vfio_bind: the library's run (module_utils/vfio_bind_run.h) on sandbox roots built
 * by mkroot from tests/fixtures/hosts (the seed pve1, two identical GPUs, a GPU
 * sharing its group with the NIC, Debian 12 with a 6.1 and a 6.8 kernel, a host
 * with the IOMMU off) and from the q35 capture, with the options validated by
 * the module's generated spec and the run's report put into a module result as
 * modules/vfio_bind.c does; update-initramfs and modprobe are the recording
 * stub. Then the smaller library functions one by one: paths, the plan's
 * blacklist and mechanisms, the report, the vfio-pci driver names. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "exec.h"
#include "files.h"
#include "runtime.h"
#include "strbuf.h"
#include "support/corpus.h"
#include "support/tmptree.h"
#include "vfio_bind_argspec.h"
#include "vfio_driver.h"
#include "vfio_files.h"
#include "vfio_plan.h"
#include "report.h"
#include "vfio_bind_run.h"

#define MODULE_NAME "homelab.passthrough.vfio_bind"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

static char base[256];
static char root[300];

/* --- fixtures ------------------------------------------------------------------ */

static void stub(const char *name)
{
	char path[600];
	snprintf(path, sizeof path, "%s/usr/sbin/%s", root, name);
	char dir[600];
	snprintf(dir, sizeof dir, "%s/usr/sbin", root);
	const char *const argv[] = {"/bin/mkdir", "-p", dir, NULL};
	tmptree_run(argv);
	const char *const cp[] = {
	        "/usr/bin/install", "-m", "0755", SOURCE_DIR "/build/tools/record-cmd", path, NULL};
	tmptree_run(cp);
}

/* A root from tests/fixtures/hosts/NAME.yml, with update-initramfs and modprobe stubbed. */
static void host(const char *name)
{
	snprintf(root, sizeof root, "%s/root", base);
	char yml[600];
	snprintf(yml, sizeof yml, SOURCE_DIR "/tests/fixtures/hosts/%s.yml", name);
	const char *const argv[] = {SOURCE_DIR "/build/tools/mkroot", yml, root, NULL};
	tmptree_run(argv);
	stub("update-initramfs");
	stub("modprobe");
}

static void capture(const char *tgz)
{
	snprintf(root, sizeof root, "%s/root", base);
	const char *const argv[] = {SOURCE_DIR "/build/tools/mkroot", "--capture", tgz, root, NULL};
	tmptree_run(argv);
	stub("update-initramfs");
	stub("modprobe");
}

static int make_base(void **state)
{
	(void)state;
	return tmptree_make(base, sizeof base, "vfio-bind") < 0 ? -1 : 0;
}

static int drop_base(void **state)
{
	(void)state;
	tmptree_remove(base);
	return 0;
}

static char *rpath(const char *rel)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s%s", root, rel) > 0);
	return p;
}

/* Contents of root/rel, or NULL when absent. Caller frees. */
static char *slurp(const char *rel)
{
	char *p = rpath(rel), *data = NULL;
	int r = pt_file_read(p, &data, NULL);
	free(p);
	return r == 0 ? data : NULL;
}

static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

/* A corpus file (folder/name); the test runs only when the corpus is there. */
static char *corpus(const char *folder, const char *name)
{
	char *data = NULL;
	assert_int_equal(pt_file_read(corpus_path(folder, name), &data, NULL), 0);
	return data;
}

/* A file of tests/fixtures/files. */
static char *fixture(const char *rel)
{
	char path[600], *data = NULL;
	snprintf(path, sizeof path, "%s/files/%s", FIXTURES_DIR, rel);
	assert_int_equal(pt_file_read(path, &data, NULL), 0);
	return data;
}

/* A digest of every regular file and link under root (paths and contents), to
 * prove that nothing was written. */
static struct pt_strbuf digest_buf;
static int digest_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	unsigned long h = 5381;
	if (flag == FTW_F) {
		char *data = NULL;
		size_t len = 0;
		if (pt_file_read(path, &data, &len) == 0)
			for (size_t i = 0; i < len; i++)
				h = h * 33 + (unsigned char)data[i];
		free(data);
	} else if (flag == FTW_SL) {
		char t[1024];
		ssize_t n = readlink(path, t, sizeof t);
		for (ssize_t i = 0; i < n; i++)
			h = h * 33 + (unsigned char)t[i];
	}
	pt_strbuf_printf(&digest_buf, "%s %o %lu\n", path, (unsigned)st->st_mode, h);
	return 0;
}

static char *digest(void)
{
	digest_buf = (struct pt_strbuf)PT_STRBUF_INIT;
	nftw(root, digest_one, 32, FTW_PHYS);
	return pt_strbuf_steal(&digest_buf);
}

/* Nothing under root changed since digest() gave before. */
static void expect_digest(const char *before)
{
	char *after = digest();
	assert_string_equal(before, after);
	free(after);
}

/* --- running the module --------------------------------------------------------- */

/* Run with args (a JSON object text; "root" is added). Returns the result. */
static json_t *run(const char *args_text)
{
	json_error_t jerr;
	json_t *args = json_loads(args_text, 0, &jerr);
	if (!args)
		fail_msg("bad test args %s: %s", args_text, jerr.text);
	json_object_set_new(args, "root", json_string(root));
	struct pt_module m;
	if (pt_module_init_json(&m, MODULE_NAME, vfio_bind_argspec_json, args) == 0) {
		struct pt_vfio_bind_opts o;
		struct pt_vfio_bind_result res;
		/* a refused option leaves the module failed with its message */
		if (pt_vfio_bind_opts_read(&m, &o) == 0) {
			int ret = pt_vfio_bind_run(&o, &res);
			/* a failure always comes with its message and errno */
			assert_true(ret <= 0);
			if (ret < 0)
				assert_non_null(res.report.msg);
			pt_vfio_bind_result_to_module(&m, ret, &res);
			pt_vfio_bind_result_release(&res);
		}
	}
	json_t *r = pt_module_result(&m);
	pt_module_release(&m);
	json_decref(args);
	return r;
}

static bool failed(json_t *r)
{
	return json_is_true(json_object_get(r, "failed"));
}

static bool changed(json_t *r)
{
	return json_is_true(json_object_get(r, "changed"));
}

static const char *msg(json_t *r)
{
	const char *s = json_string_value(json_object_get(r, "msg"));
	return s ? s : "";
}

static void expect_ok(json_t *r)
{
	if (failed(r))
		fail_msg("module failed: %s", msg(r));
}

/* The result's msg holds part. */
static void expect_msg(json_t *r, const char *part)
{
	if (!strstr(msg(r), part))
		fail_msg("msg [%s] lacks [%s]", msg(r), part);
}

/* Run with args (as run does), which must fail. Returns the result. */
static json_t *run_failed(const char *args)
{
	json_t *r = run(args);
	assert_true(failed(r));
	return r;
}

/* Run with args, which must fail with a msg holding each part (a NULL ends them). */
static void refused_with(const char *args, ...)
{
	json_t *r = run_failed(args);
	va_list ap;
	va_start(ap, args);
	for (const char *part = va_arg(ap, const char *); part; part = va_arg(ap, const char *))
		expect_msg(r, part);
	va_end(ap);
	json_decref(r);
}
#define refused(args, ...) refused_with(args, __VA_ARGS__, (const char *)NULL)

/* Run with args, which must succeed and change nothing. */
static void expect_no_change(const char *args)
{
	json_t *r = run(args);
	expect_ok(r);
	assert_false(changed(r));
	json_decref(r);
}

static void expect_json(json_t *v, const char *want)
{
	char *got = json_dumps(v, JSON_COMPACT);
	if (!got || strcmp(got, want) != 0)
		fail_msg("want %s\n got %s", want, got ? got : "(null)");
	free(got);
}

static bool has_warning(json_t *r, const char *part)
{
	size_t i;
	json_t *w;
	json_array_foreach (json_object_get(r, "warnings"), i, w)
		if (strstr(json_string_value(w), part))
			return true;
	return false;
}

static json_t *device(json_t *r, size_t i)
{
	json_t *d = json_array_get(json_object_get(r, "devices"), i);
	assert_non_null(d);
	return d;
}

static const char *dfield(json_t *r, size_t i, const char *k)
{
	return json_string_value(json_object_get(device(r, i), k));
}

/* The string at r[array][i][key], or NULL. */
static const char *item_str(json_t *r, const char *array, size_t i, const char *key)
{
	return json_string_value(
	        json_object_get(json_array_get(json_object_get(r, array), i), key));
}

static size_t calls(void)
{
	char *log = slurp("/var/log/record-cmd.log");
	size_t n = 0;
	for (char *p = log; p && *p; p++)
		n += *p == '\n';
	free(log);
	return n;
}

static void expect_file(const char *rel, const char *want)
{
	char *got = slurp(rel);
	if (!want && got)
		fail_msg("%s exists:\n%s", rel, got);
	if (want && (!got || strcmp(got, want) != 0))
		fail_msg("%s:\nwant:\n%s\ngot:\n%s", rel, want, got ? got : "(absent)");
	free(got);
}

#define VFIO_BEGIN                                                                                 \
	"# BEGIN homelab.passthrough.vfio_bind: managed by Ansible (edits here are overwritten)\n"
#define VFIO_END "# END homelab.passthrough.vfio_bind\n"
#define MOD_BEGIN                                                                                  \
	"# BEGIN homelab.passthrough.vfio_bind: vfio modules, managed by Ansible (edits here are " \
	"overwritten)\n"

static const char pve1_conf[] = VFIO_BEGIN "options vfio-pci ids=10de:0fb9,10de:1c82\n"
                                           "softdep nouveau pre: vfio-pci\n"
                                           "softdep nvidiafb pre: vfio-pci\n"
                                           "softdep snd_hda_intel pre: vfio-pci\n" VFIO_END;

/* --- the seed host ---------------------------------------------------------------- */

static void test_pve1_check_mode(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	char *before = digest();
	json_t *r = run("{\"devices\": [\"0000:07:00\"], \"_ansible_check_mode\": true, "
	                "\"_ansible_diff\": true}");
	expect_ok(r);
	assert_true(changed(r));
	expect_digest(before);        /* nothing written */
	assert_int_equal(calls(), 0); /* nothing run */
	assert_true(json_is_true(json_object_get(r, "initramfs_updated")));
	assert_true(json_is_true(json_object_get(r, "reboot_required")));
	expect_json(json_object_get(r, "ids"), "[\"10de:0fb9\",\"10de:1c82\"]");
	expect_json(json_object_get(r, "softdeps"), "[\"nouveau\",\"nvidiafb\",\"snd_hda_intel\"]");
	expect_json(json_object_get(r, "modules"), "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\"]");
	expect_json(json_object_get(r, "devices"),
	            "[{\"address\":\"0000:07:00.0\",\"ids\":\"10de:1c82\",\"group\":14,"
	            "\"driver_before\":\"nouveau\",\"driver_after\":\"nouveau\",\"mechanism\":"
	            "\"ids\",\"selected_by\":\"address\",\"boot_vga\":true},"
	            "{\"address\":\"0000:07:00.1\",\"ids\":\"10de:0fb9\",\"group\":14,"
	            "\"driver_before\":\"snd_hda_intel\",\"driver_after\":\"snd_hda_intel\","
	            "\"mechanism\":\"ids\",\"selected_by\":\"address\",\"boot_vga\":false}]");
	assert_true(has_warning(r, "0000:07:00.0 is the boot VGA device"));
	assert_int_equal(json_array_size(json_object_get(r, "diff")), 2);
	assert_string_equal(item_str(r, "diff", 0, "after"), pve1_conf);
	/* the path as the host sees it, not the sandbox's (issue 12, item 14) */
	assert_string_equal(item_str(r, "diff", 0, "before_header"), "/etc/modprobe.d/vfio.conf");
	assert_string_equal(item_str(r, "diff", 0, "after_header"), "/etc/modprobe.d/vfio.conf");
	assert_string_equal(item_str(r, "files", 0, "path"), "/etc/modprobe.d/vfio.conf");
	assert_string_equal(item_str(r, "files", 2, "path"), "/etc/modules");
	free(before);
	json_decref(r);
}

static void test_pve1_apply_idempotent_absent(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	char *modules_before = slurp("/etc/modules");
	json_t *check = run("{\"devices\": [\"07:00.0\"], \"_ansible_check_mode\": true}");
	json_t *r = run("{\"devices\": [\"07:00.0\"]}");
	expect_ok(r);
	/* check mode predicted the same */
	assert_true(changed(check));
	assert_true(json_equal(json_object_get(check, "files"), json_object_get(r, "files")));
	assert_true(json_equal(json_object_get(check, "devices"), json_object_get(r, "devices")));
	json_decref(check);
	expect_file("/etc/modprobe.d/vfio.conf", pve1_conf);
	char *want_modules = NULL;
	assert_true(asprintf(&want_modules,
	                     "%s" MOD_BEGIN "vfio\nvfio_iommu_type1\nvfio_pci\n" VFIO_END,
	                     modules_before) > 0);
	expect_file("/etc/modules", want_modules);
	expect_file("/etc/modprobe.d/blacklist-gpu.conf", NULL);
	expect_file("/var/log/record-cmd.log", "update-initramfs -u -k all\n");
	/* the audio function came in through its group */
	assert_string_equal(dfield(r, 1, "selected_by"), "group");
	json_decref(r);

	/* second run: nothing to do, nothing run; the devices still wait for a reboot */
	r = run("{\"devices\": [\"07:00.0\"]}");
	expect_ok(r);
	assert_false(changed(r));
	assert_false(json_is_true(json_object_get(r, "initramfs_updated")));
	assert_true(json_is_true(json_object_get(r, "reboot_required")));
	assert_int_equal(calls(), 1);
	json_decref(r);

	/* absent gives the files back */
	r = run("{\"state\": \"absent\"}");
	expect_ok(r);
	assert_true(changed(r));
	expect_file("/etc/modprobe.d/vfio.conf", NULL);
	expect_file("/etc/modules", modules_before);
	assert_int_equal(calls(), 2);
	json_decref(r);
	expect_no_change("{\"state\": \"absent\"}");
	free(want_modules);
	free(modules_before);
}

/* The user's own files at the module's paths (and another modprobe.d file, which
 * the module only reads), each owned by the test. */
struct own_files {
	char *conf, *black, *mods, *other;
};

/* Puts f's files in place and runs with devices 0000:07:00.0, a blacklist and
 * disable_vga: the user's lines come first, untouched, then the blocks. Returns
 * the result, for the caller's further checks. */
static json_t *run_over_own_files(const struct own_files *f)
{
	put("/etc/modprobe.d/vfio.conf", f->conf);
	put("/etc/modprobe.d/blacklist-gpu.conf", f->black);
	put("/etc/modules", f->mods);
	put("/etc/modprobe.d/passthrough.conf", f->other);

	json_t *r = run("{\"devices\": [\"0000:07:00.0\"], \"blacklist_drivers\": [\"nouveau\"], "
	                "\"disable_vga\": true}");
	expect_ok(r);
	/* the user's lines first, untouched; then the block */
	char *want = NULL;
	assert_true(asprintf(&want,
	                     "%s" VFIO_BEGIN "options vfio-pci ids=10de:0fb9,10de:1c82 "
	                     "disable_vga=1\nsoftdep nouveau pre: vfio-pci\nsoftdep nvidiafb pre: "
	                     "vfio-pci\nsoftdep snd_hda_intel pre: vfio-pci\n" VFIO_END,
	                     f->conf) > 0);
	expect_file("/etc/modprobe.d/vfio.conf", want);
	free(want);
	/* the blacklist file has no final newline before: still none after */
	assert_true(asprintf(&want,
	                     "%s\n# BEGIN homelab.passthrough.vfio_bind/blacklist: managed by "
	                     "Ansible (edits here are overwritten)\nblacklist nouveau\n"
	                     "# END homelab.passthrough.vfio_bind/blacklist",
	                     f->black) > 0);
	expect_file("/etc/modprobe.d/blacklist-gpu.conf", want);
	free(want);
	return r;
}

/* state=absent gives each of f's files back byte for byte; then frees them. */
static void expect_own_files_restored(struct own_files *f)
{
	json_t *r = run("{\"state\": \"absent\"}");
	expect_ok(r);
	expect_file("/etc/modprobe.d/vfio.conf", f->conf);
	expect_file("/etc/modprobe.d/blacklist-gpu.conf", f->black);
	expect_file("/etc/modules", f->mods);
	expect_file("/etc/modprobe.d/passthrough.conf", f->other);
	json_decref(r);
	free(f->conf);
	free(f->black);
	free(f->mods);
	free(f->other);
}

/* The user's own files (tests/fixtures/files) at the module's paths stay byte for
 * byte outside the block, and come back whole with state=absent. */
static void test_pve1_own_files_restored(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	struct own_files f;
	f.conf = fixture("modprobe.d/kvm-options.conf");
	f.black = fixture("modprobe.d/blacklist-no-final-newline.conf");
	f.mods = fixture("modules/with-parameters.modules");
	f.other = fixture("modprobe.d/continued-middle.conf");
	json_t *r = run_over_own_files(&f);
	/* the continued ids= line elsewhere is pointed out, by file and line */
	assert_true(has_warning(r, "/etc/modprobe.d/passthrough.conf line 3"));
	json_decref(r);
	expect_own_files_restored(&f);
}

/* The user's own files (from the corpus) at the module's paths stay byte for byte
 * outside the block, and come back whole with state=absent. */
static void test_pve1_corpus_files_restored(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	struct own_files f;
	f.conf = corpus("modprobe", "003-mikumeow-PVE_BAK.conf");
	/* 008 has no final newline */
	f.black = corpus("modprobe", "008-gammaman88-proxmox-amd-5700u-gpu-passthrough.conf");
	f.mods = corpus("modules", "005-JoonaHa-Single-GPU-VFIO-Win10.modules");
	f.other = corpus("modprobe", "001-iroger-ASRock-TRX40-proxmox.conf");
	json_t *r = run_over_own_files(&f);
	/* 005 lists vfio, vfio_iommu_type1 and vfio_pci itself: nothing to add */
	expect_file("/etc/modules", f.mods);
	expect_json(json_object_get(r, "blacklist"), "[\"nouveau\"]");
	/* the user's other ids= lines are pointed out, by file and line */
	assert_true(has_warning(r,
	                        "/etc/modprobe.d/vfio.conf line 2 (options vfio-pci "
	                        "ids=10de:0be3,10de:10c5 disable_vga=1) also sets vfio-pci ids="));
	assert_true(has_warning(r, "/etc/modprobe.d/passthrough.conf line 14"));
	json_decref(r);
	expect_own_files_restored(&f);
}

static void test_pve1_blacklist_r8169_refused(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	char *before = digest();
	const char *args = "{\"devices\": [\"0000:07:00\"], \"blacklist_drivers\": [\"r8169\"]%s}";
	for (int check = 0; check < 2; check++) {
		char text[256];
		snprintf(text, sizeof text, args, check ? ", \"_ansible_check_mode\": true" : "");
		json_t *r = run_failed(text);
		assert_false(changed(r));
		expect_msg(r, "refusing to blacklist r8169: it drives 0000:06:00.0");
		expect_msg(r, "Remove r8169 from blacklist_drivers");
		expect_msg(r, "force: true");
		assert_string_equal(item_str(r, "refusals", 0, "rule"), "blacklist_in_use");
		/* the selection is still reported */
		assert_string_equal(dfield(r, 0, "address"), "0000:07:00.0");
		json_decref(r);
		expect_digest(before);
	}
	assert_int_equal(calls(), 0);
	free(before);

	/* force: true goes ahead and says what it overrode */
	json_t *r = run("{\"devices\": [\"0000:07:00\"], \"blacklist_drivers\": [\"r8169\"], "
	                "\"force\": true}");
	expect_ok(r);
	assert_true(
	        has_warning(r, "force: true overrides this refusal: refusing to blacklist r8169"));
	char *b = slurp("/etc/modprobe.d/blacklist-gpu.conf");
	assert_non_null(strstr(b, "\nblacklist r8169\n"));
	free(b);
	json_decref(r);
}

/* blacklist_drivers: [auto] on an AMD node (tests/fixtures/hosts/pve3-rx6800.yml):
 * amdgpu, which drives the card, is blacklisted; snd_hda_intel, bound to the
 * card's audio function, is left out because the board's audio uses it too;
 * nouveau and nvidiafb, installed but matching nothing, are no candidates.
 * Check mode predicts the same; a second run changes nothing. */
static void test_pve3_blacklist_auto(void **state)
{
	(void)state;
	host("pve3-rx6800");
	const char *args = "{\"devices\": [\"0000:0b:00\"], \"blacklist_drivers\": [\"auto\"]%s}";
	char text[256];
	snprintf(text, sizeof text, args, ", \"_ansible_check_mode\": true");
	json_t *check = run(text);
	expect_ok(check);
	snprintf(text, sizeof text, args, "");
	json_t *r = run(text);
	expect_ok(r);
	expect_json(json_object_get(r, "blacklist"), "[\"amdgpu\"]");
	assert_true(
	        json_equal(json_object_get(check, "blacklist"), json_object_get(r, "blacklist")));
	expect_json(json_object_get(r, "blacklist_choice"),
	            "[{\"driver\":\"amdgpu\",\"blacklisted\":true,\"reason\":\"drives "
	            "0000:0b:00.0\"},{\"driver\":\"snd_hda_intel\",\"blacklisted\":false,"
	            "\"reason\":\"left out: it also drives 0000:0e:00.4 (Advanced Micro Devices, "
	            "Inc. [AMD] Starship/Matisse HD Audio Controller), which stays with the host, "
	            "and a blacklisted driver would not load for it at the next boot\"}]");
	char *b = slurp("/etc/modprobe.d/blacklist-gpu.conf");
	assert_non_null(b);
	assert_non_null(strstr(b, "\nblacklist amdgpu\n"));
	assert_null(strstr(b, "nouveau"));
	assert_null(strstr(b, "nvidia"));
	assert_null(strstr(b, "snd_hda_intel"));
	free(b);
	json_decref(check);
	json_decref(r);
	expect_no_change(text);

	/* auto stands alone */
	refused("{\"devices\": [\"0000:0b:00\"], \"blacklist_drivers\": [\"auto\", \"nouveau\"]}",
	        "blacklist_drivers: auto chooses the drivers");
}

static void test_pve1_host_devices_refused(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	refused("{\"devices\": [\"0000:06:00.0\"]}", "0000:06:00.0 (Realtek",
	        "carries the default route on enp6s0");
	refused("{\"ids\": [\"144d:a808\"], \"_ansible_check_mode\": true}", "0000:01:00.0",
	        "backs the filesystem mounted on / (/dev/mapper/pve-root, disk nvme0n1)");

	/* both at once: every refusal is listed */
	json_t *r = run_failed("{\"devices\": [\"0000:06:00.0\", \"0000:01:00.0\"]}");
	expect_msg(r, "safety refusals, nothing was changed: (1) ");
	expect_msg(r, " (2) ");
	assert_int_equal(json_array_size(json_object_get(r, "refusals")), 2);
	json_decref(r);
	expect_file("/etc/modprobe.d/vfio.conf", NULL);
}

static void test_pve1_group_and_selection_errors(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	refused("{\"devices\": [\"0000:07:00.0\"], \"include_group\": false}",
	        "0000:07:00.0 is in IOMMU group 14 with 0000:07:00.1", "driver snd_hda_intel");

	/* the seed's "IDs don't match your hardware" */
	refused("{\"ids\": [\"10de:1b80\", \"10de:10f0\"]}",
	        "no PCI device with ID 10de:1b80 on this host; no PCI device with ID 10de:10f0 on "
	        "this host.",
	        "Its display controllers: 0000:07:00.0 10de:1c82",
	        "Its other 10de devices: 0000:07:00.1 10de:0fb9");

	refused("{\"devices\": [\"0000:0a:00\"]}", "no PCI endpoint at 0000:0a:00 on this host.");
	refused("{\"devices\": [\"0000:07:00.0\", \"7:0.9\"]}",
	        "devices[1]: '7:0.9' is not a PCI address");
	refused("{\"ids\": [\"10de-1c82\"]}", "ids[0]: '10de-1c82' is not a vendor:device ID pair");
	refused("{\"devices\": [\"0000:00:01.0\"]}", "0000:00:01.0 is a PCI bridge");
	refused("{}", "nothing to hand to vfio-pci");
	refused("{\"devices\": [\"0000:07:00\"], \"state\": \"sideways\"}",
	        "value of state must be one of: present, absent");

	/* absent does not need the card to be there any more */
	json_t *r = run("{\"devices\": [\"0000:0a:00.0\"], \"state\": \"absent\"}");
	expect_ok(r);
	assert_true(has_warning(r, "no PCI device at 0000:0a:00.0"));
	json_decref(r);
}

static void test_paths_validated(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	refused("{\"devices\": [\"07:00\"], \"conf_path\": \"/etc/modprobe.d/vfio\"}",
	        "conf_path /etc/modprobe.d/vfio does not end in .conf");
	refused("{\"devices\": [\"07:00\"], \"blacklist_path\": \"/etc/modprobe.d/vfio.conf\"}",
	        "give the blacklist a file of its own");
	refused("{\"devices\": [\"07:00\"], \"modules_file\": \"/etc/vfio-modules\"}",
	        "modules_file /etc/vfio-modules is neither /etc/modules");

	/* a modules-load.d file of its own holds only the block, and goes with it */
	json_t *r = run(
	        "{\"devices\": [\"07:00\"], \"modules_file\": \"/etc/modules-load.d/vfio.conf\", "
	        "\"update_initramfs\": false}");
	expect_ok(r);
	assert_int_equal(calls(), 0);
	expect_file("/etc/modules-load.d/vfio.conf",
	            MOD_BEGIN "vfio\nvfio_iommu_type1\nvfio_pci\n" VFIO_END);
	json_decref(r);
	r = run("{\"state\": \"absent\", \"modules_file\": \"/etc/modules-load.d/vfio.conf\", "
	        "\"update_initramfs\": false}");
	expect_ok(r);
	expect_file("/etc/modules-load.d/vfio.conf", NULL);
	json_decref(r);
}

static void test_damaged_block_and_backup(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	put("/etc/modules", "vfio\n# BEGIN homelab.passthrough.vfio_bind\nvfio_pci\n");
	refused("{\"devices\": [\"07:00\"]}",
	        "/etc/modules: the block managed by homelab.passthrough.vfio_bind is damaged (line "
	        "2: BEGIN marker without END)");
	/* the damage in the last file stopped the run before the first was written */
	expect_file("/etc/modprobe.d/vfio.conf", NULL);
	put("/etc/modules", "vfio\n");
	json_t *r = run("{\"devices\": [\"07:00\"], \"backup\": true}");
	expect_ok(r);
	json_t *f = json_array_get(json_object_get(r, "files"), 2);
	const char *backup = json_string_value(json_object_get(f, "backup"));
	assert_non_null(backup);
	/* named as the host sees it, inside the root */
	assert_string_equal(json_string_value(json_object_get(f, "path")), "/etc/modules");
	assert_non_null(strstr(backup, "/etc/modules."));
	assert_ptr_equal(strstr(backup, "/etc/modules."), backup);
	char *old = NULL, *full = rpath(backup);
	assert_int_equal(pt_file_read(full, &old, NULL), 0);
	assert_string_equal(old, "vfio\n");
	free(old);
	free(full);
	json_decref(r);
}

/* Without update-initramfs in the root the run stops before writing, and check
 * mode says so too. */
static void test_no_update_initramfs(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	char *p = rpath("/usr/sbin/update-initramfs");
	unlink(p);
	free(p);
	for (int check = 0; check < 2; check++) {
		json_t *r = run_failed(
		        check ? "{\"devices\": [\"07:00\"], \"_ansible_check_mode\": true}"
		              : "{\"devices\": [\"07:00\"]}");
		expect_msg(r, "update-initramfs was not found under");
		expect_msg(r, "update_initramfs: false");
		assert_false(changed(r));
		json_decref(r);
	}
	expect_file("/etc/modprobe.d/vfio.conf", NULL);
	json_t *r = run("{\"devices\": [\"07:00\"], \"update_initramfs\": false}");
	expect_ok(r);
	assert_false(json_is_true(json_object_get(r, "initramfs_updated")));
	json_decref(r);
}

/* An empty file of the user's at a managed path stays, and counts as unchanged. */
static void test_empty_user_file_kept(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	put("/etc/modprobe.d/blacklist-gpu.conf", "");
	json_t *r = run("{\"devices\": [\"07:00\"]}");
	expect_ok(r);
	expect_file("/etc/modprobe.d/blacklist-gpu.conf", "");
	json_t *f = json_array_get(json_object_get(r, "files"), 1);
	assert_false(json_is_true(json_object_get(f, "changed")));
	assert_string_equal(item_str(r, "files", 1, "state"), "absent");
	assert_string_equal(item_str(r, "files", 0, "state"), "present");
	json_decref(r);
	r = run("{\"state\": \"absent\"}");
	expect_ok(r);
	expect_file("/etc/modprobe.d/blacklist-gpu.conf", "");
	json_decref(r);
}

/* --- bind now --------------------------------------------------------------------- */

static void test_bind_now_writes(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	char *d = rpath("/sys/bus/pci/drivers/vfio-pci");
	mkdir(d, 0755);
	free(d);
	put("/sys/bus/pci/drivers/vfio-pci/unbind", "");

	/* check mode: predicted, nothing written */
	char *before = digest();
	json_t *r = run("{\"devices\": [\"07:00\"], \"bind_now\": true, \"_ansible_check_mode\": "
	                "true}");
	expect_ok(r);
	assert_string_equal(dfield(r, 0, "driver_after"), "vfio-pci");
	assert_string_equal(dfield(r, 1, "driver_after"), "vfio-pci");
	assert_false(json_is_true(json_object_get(r, "reboot_required")));
	expect_digest(before);
	free(before);
	json_decref(r);

	/* for real: the sysfs files are plain files here, so the device cannot move and
	 * the check after drivers_probe fails, naming it */
	r = run_failed("{\"devices\": [\"07:00\"], \"bind_now\": true}");
	expect_msg(r,
	           "0000:07:00.0 did not bind to vfio-pci: its driver_override is set to vfio-pci "
	           "and it was unbound from its driver and it was reprobed, but its driver is now "
	           "nouveau");
	assert_true(changed(r));
	expect_file("/sys/bus/pci/devices/0000:07:00.0/driver_override", "vfio-pci");
	expect_file("/sys/bus/pci/drivers/nouveau/unbind", "0000:07:00.0");
	expect_file("/sys/bus/pci/drivers_probe", "0000:07:00.0");
	/* the persistent part was done first */
	expect_file("/etc/modprobe.d/vfio.conf", pve1_conf);
	/* vfio-pci was there: no modprobe */
	expect_file("/var/log/record-cmd.log", "update-initramfs -u -k all\n");
	json_decref(r);
}

static void test_bind_now_loads_vfio_pci(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	json_t *r = run_failed("{\"devices\": [\"07:00\"], \"bind_now\": true, "
	                       "\"update_initramfs\": false}");
	expect_file("/var/log/record-cmd.log", "modprobe vfio-pci\n");
	expect_msg(r, "modprobe vfio-pci succeeded but");
	expect_msg(r, "/sys/bus/pci/drivers/vfio-pci did not appear");
	json_decref(r);
}

/* Point a device's driver link at vfio-pci, as the kernel shows a bound device. */
static void on_vfio(const char *addr, bool override)
{
	char *d = rpath("/sys/bus/pci/drivers/vfio-pci");
	mkdir(d, 0755);
	free(d);
	put("/sys/bus/pci/drivers/vfio-pci/unbind", "");
	char rel[200];
	snprintf(rel, sizeof rel, "/sys/bus/pci/devices/%s/driver", addr);
	char *link = rpath(rel);
	unlink(link);
	assert_int_equal(symlink("../../../../bus/pci/drivers/vfio-pci", link), 0);
	free(link);
	snprintf(rel, sizeof rel, "/sys/bus/pci/devices/%s/driver_override", addr);
	put(rel, override ? "vfio-pci\n" : "(null)\n");
}

static void test_bind_now_already_bound_and_release(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	on_vfio("0000:07:00.0", true);
	on_vfio("0000:07:00.1", true);
	json_t *r = run("{\"devices\": [\"07:00\"], \"bind_now\": true}");
	expect_ok(r);
	assert_true(changed(r)); /* the files */
	assert_string_equal(dfield(r, 0, "driver_before"), "vfio-pci");
	assert_string_equal(dfield(r, 0, "driver_after"), "vfio-pci");
	assert_false(json_is_true(json_object_get(r, "reboot_required")));
	json_decref(r);
	expect_no_change("{\"devices\": [\"07:00\"], \"bind_now\": true}");

	/* absent + bind_now: driver_override cleared, unbound from vfio-pci, reprobed */
	r = run("{\"devices\": [\"07:00\"], \"bind_now\": true, \"state\": \"absent\"}");
	expect_ok(r);
	assert_true(changed(r));
	expect_file("/sys/bus/pci/devices/0000:07:00.0/driver_override", "\n");
	expect_file("/sys/bus/pci/devices/0000:07:00.1/driver_override", "\n");
	expect_file("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:07:00.1");
	expect_file("/sys/bus/pci/drivers_probe", "0000:07:00.1");
	assert_true(json_is_null(json_object_get(device(r, 0), "mechanism")));
	expect_file("/etc/modprobe.d/vfio.conf", NULL);
	json_decref(r);
}

static void test_iommu_off(void **state)
{
	(void)state;
	host("datacenter-gpu-iommu-off");
	json_t *r = run("{\"devices\": [\"0000:3b:00.0\"]}");
	expect_ok(r);
	assert_true(has_warning(r, "0000:3b:00.0 is in no IOMMU group"));
	assert_true(json_is_null(json_object_get(device(r, 0), "group")));
	char *c = slurp("/etc/modprobe.d/vfio.conf");
	assert_non_null(strstr(c, "options vfio-pci ids=10de:20b0\n"));
	assert_non_null(strstr(c, "softdep nvidia pre: vfio-pci\n"));
	free(c);
	json_decref(r);
	refused("{\"devices\": [\"0000:3b:00.0\"], \"bind_now\": true}",
	        "cannot bind 0000:3b:00.0 now: it is in no IOMMU group");
}

/* --- other hosts --------------------------------------------------------------------- */

static void test_two_identical_gpus(void **state)
{
	(void)state;
	host("two-identical-gpus");
	json_t *r = run("{\"devices\": [\"0000:02:00\"]}");
	expect_ok(r);
	assert_string_equal(dfield(r, 0, "address"), "0000:02:00.0");
	assert_string_equal(dfield(r, 0, "mechanism"), "driver_override");
	assert_string_equal(dfield(r, 1, "mechanism"), "driver_override");
	expect_json(json_object_get(r, "ids"), "[]");
	/* no ids= line that would take the host's card too; the install command binds
	 * exactly the VM's functions */
	char *c = slurp("/etc/modprobe.d/vfio.conf");
	assert_null(strstr(c, "options vfio-pci"));
	assert_null(strstr(c, "0000:01:00"));
	assert_non_null(strstr(c, "\ninstall vfio-pci for d in 0000:02:00.0 0000:02:00.1; do "));
	assert_non_null(strstr(c, "\nsoftdep nouveau pre: vfio-pci\n"));
	free(c);
	json_decref(r);
	r = run("{\"devices\": [\"0000:02:00\"]}");
	assert_false(changed(r));
	json_decref(r);

	/* by ID, both cards are taken: ids= is then right for them all */
	r = run("{\"ids\": [\"10de:2504\"], \"_ansible_check_mode\": true}");
	expect_ok(r);
	assert_int_equal(json_array_size(json_object_get(r, "devices")), 4);
	assert_string_equal(dfield(r, 0, "mechanism"), "ids");
	expect_json(json_object_get(r, "ids"), "[\"10de:228e\",\"10de:2504\"]");
	assert_true(has_warning(r, "0000:01:00.0 is the boot VGA device"));
	json_decref(r);
}

static void test_gpu_shares_group_with_nic(void **state)
{
	(void)state;
	host("gpu-shares-group-with-nic");
	char *before = digest();
	refused("{\"devices\": [\"0000:03:00\"]}", "0000:04:00.0 (Intel Corporation 82574L",
	        "carries the default route on eno1", "through include_group");
	refused("{\"devices\": [\"0000:03:00\"], \"include_group\": false}",
	        "0000:03:00.0 is in IOMMU group 10 with 0000:04:00.0");
	expect_digest(before);
	free(before);
}

static void test_debian12_two_kernels(void **state)
{
	(void)state;
	host("debian12-vfio-virqfd");
	/* a third, custom kernel with vfio-pci compiled in */
	put("/lib/modules/6.9.0-custom/modules.dep", "kernel/drivers/vfio/vfio.ko:\n");
	put("/lib/modules/6.9.0-custom/modules.builtin",
	    "kernel/drivers/vfio/pci/vfio-pci.ko\n"
	    "kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
	json_t *r = run("{\"devices\": [\"0000:01:00\"], \"_ansible_check_mode\": true}");
	expect_ok(r);
	expect_json(json_object_get(r, "modules"),
	            "[\"vfio\",\"vfio_iommu_type1\",\"vfio_pci\",\"vfio_virqfd\"]");
	expect_json(json_object_get(r, "kernels"),
	            "[{\"release\":\"6.1.0-18-amd64\",\"vfio_virqfd\":\"module\"},"
	            "{\"release\":\"6.8.12-4-pve\",\"vfio_virqfd\":\"absent\"},"
	            "{\"release\":\"6.9.0-custom\",\"vfio_virqfd\":\"absent\"}]");
	assert_true(has_warning(r, "kernel 6.9.0-custom has vfio-pci built in"));
	assert_false(has_warning(r, "kernel 6.1.0-18-amd64 has vfio-pci built in"));
	json_decref(r);
}

static void test_q35_capture(void **state)
{
	(void)state;
	capture(FIXTURES_DIR "/captures/qemu-q35-intel-vtd.tgz");
	json_t *r = run("{\"devices\": [\"0000:01:00\"], \"_ansible_diff\": true}");
	expect_ok(r);
	expect_json(json_object_get(r, "ids"), "[\"1234:1111\",\"8086:293e\"]");
	expect_json(json_object_get(r, "softdeps"), "[\"bochs\",\"snd_hda_intel\"]");
	assert_int_equal(json_integer_value(json_object_get(device(r, 0), "group")), 7);
	assert_true(has_warning(r, "0000:01:00.0 is the boot VGA device"));
	json_decref(r);
	/* the ICH9 functions share group 6: not isolated */
	refused("{\"devices\": [\"0000:00:1f.2\"], \"include_group\": false}",
	        "0000:00:1f.2 is in IOMMU group 6 with 0000:00:1f.0");
}

/* update-initramfs fails after the files are written: the run says so, keeps
 * the command's output in the result, and counts as a change. */
static void test_initramfs_fails(void **state)
{
	(void)state;
	host("pve1-gtx1050ti");
	put("/etc/record-cmd/update-initramfs.rc", "3\n");
	put("/etc/record-cmd/update-initramfs.err", "E: boom\n");
	json_t *r = run_failed("{\"devices\": [\"07:00\"]}");
	assert_true(changed(r));
	assert_string_equal(msg(r), "update-initramfs -u -k all failed (rc 3): E: boom\n; the "
	                            "files are written, so fix the cause and run the task again "
	                            "(it reruns update-initramfs until it succeeds), or run it by "
	                            "hand before rebooting");
	json_t *cmd = json_object_get(r, "initramfs");
	assert_int_equal(json_integer_value(json_object_get(cmd, "rc")), 3);
	assert_string_equal(json_string_value(json_object_get(cmd, "stderr")), "E: boom\n");
	expect_file("/etc/modprobe.d/vfio.conf", pve1_conf);
	json_decref(r);
}

/* --- the library's smaller parts ---------------------------------------------------- */

static int check_paths(const char *conf, const char *blacklist, const char *modules, char **message)
{
	struct pt_vfio_bind_opts o = {
	        .conf_path = conf, .blacklist_path = blacklist, .modules_file = modules};
	struct pt_report rep;
	assert_int_equal(pt_report_init(&rep), 0);
	int ret = pt_vfio_files_check_paths(&o, &rep);
	*message = rep.msg ? strdup(rep.msg) : NULL;
	pt_report_release(&rep);
	return ret;
}

static void test_paths(void **state)
{
	(void)state;
	static const char *const good[][3] = {
	        {"/etc/modprobe.d/vfio.conf", "/etc/modprobe.d/blacklist-gpu.conf", "/etc/modules"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b.conf",
	         "/etc/modules-load.d/vfio.conf"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b.conf",
	         "/usr/lib/modules-load.d/vfio.conf"},
	};
	static const char *const bad[][4] = {
	        {"/etc/modprobe.d/vfio", "/etc/modprobe.d/b.conf", "/etc/modules",
	         "conf_path /etc/modprobe.d/vfio does not end in .conf"},
	        {NULL, "/etc/modprobe.d/b.conf", "/etc/modules", "conf_path (none) does not end"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b", "/etc/modules",
	         "blacklist_path /etc/modprobe.d/b does not end in .conf"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/a.conf", "/etc/modules",
	         "conf_path and blacklist_path are both /etc/modprobe.d/a.conf"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b.conf", NULL,
	         "modules_file must be set"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b.conf", "/etc/modules-load.d/vfio",
	         "modules_file /etc/modules-load.d/vfio is neither"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b.conf", "modules-load.d/vfio.conf",
	         "modules_file modules-load.d/vfio.conf is neither"},
	        {"/etc/modprobe.d/a.conf", "/etc/modprobe.d/b.conf",
	         "/etc/my-modules-load.d/v.conf",
	         "is neither /etc/modules nor a .conf file in a modules-load.d directory"},
	};
	char *m = NULL;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		assert_int_equal(check_paths(good[i][0], good[i][1], good[i][2], &m), 0);
		assert_null(m);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(check_paths(bad[i][0], bad[i][1], bad[i][2], &m), -EINVAL);
		if (!m || !strstr(m, bad[i][3]))
			fail_msg("case %zu: want [%s] in [%s]", i, bad[i][3], m ? m : "(null)");
		free(m);
	}
}

static void test_report(void **state)
{
	(void)state;
	struct pt_report rep;
	assert_int_equal(pt_report_init(&rep), 0);
	pt_report_warn(&rep, "%s line %d", "/etc/modules", 9);
	/* text that is not UTF-8 is kept byte for byte, for the runtime to encode */
	pt_report_warn(&rep, "caf\xe9");
	pt_report_diff(&rep, "/etc/x.conf", NULL, "a\xff\n");
	assert_int_equal(pt_report_fail(&rep, -EINVAL, "first %d", 1), -EINVAL);
	/* the first failure is the one the user sees */
	assert_int_equal(pt_report_fail(&rep, -ENOMEM, "second"), -ENOMEM);
	assert_string_equal(rep.msg, "first 1");
	assert_int_equal(rep.error, -EINVAL);
	assert_string_equal(json_string_value(json_array_get(rep.warnings, 0)),
	                    "/etc/modules line 9");
	assert_string_equal(json_string_value(json_array_get(rep.warnings, 1)), "caf\xe9");
	json_t *d = json_array_get(rep.diffs, 0);
	assert_string_equal(json_string_value(json_object_get(d, "path")), "/etc/x.conf");
	assert_string_equal(json_string_value(json_object_get(d, "before")), "");
	assert_string_equal(json_string_value(json_object_get(d, "after")), "a\xff\n");
	pt_report_release(&rep);
}

static void test_driver_names(void **state)
{
	(void)state;
	assert_true(pt_vfio_driver_is_vfio("vfio-pci"));
	assert_true(pt_vfio_driver_is_vfio("vfio_pci"));
	assert_false(pt_vfio_driver_is_vfio("vfio"));
	assert_false(pt_vfio_driver_is_vfio("vfio-pci-core"));
	assert_false(pt_vfio_driver_is_vfio(NULL));
}

/* A test on a fresh base directory of its own. */
#define base_test(test) cmocka_unit_test_setup_teardown(test, make_base, drop_base)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        base_test(test_pve1_check_mode),
	        base_test(test_pve1_apply_idempotent_absent),
	        base_test(test_pve1_own_files_restored),
	        base_test(test_pve1_blacklist_r8169_refused),
	        base_test(test_pve3_blacklist_auto),
	        base_test(test_pve1_host_devices_refused),
	        base_test(test_pve1_group_and_selection_errors),
	        base_test(test_paths_validated),
	        base_test(test_damaged_block_and_backup),
	        base_test(test_no_update_initramfs),
	        base_test(test_empty_user_file_kept),
	        base_test(test_bind_now_writes),
	        base_test(test_bind_now_loads_vfio_pci),
	        base_test(test_bind_now_already_bound_and_release),
	        base_test(test_iommu_off),
	        base_test(test_two_identical_gpus),
	        base_test(test_gpu_shares_group_with_nic),
	        base_test(test_debian12_two_kernels),
	        base_test(test_q35_capture),
	        base_test(test_initramfs_fails),
	        cmocka_unit_test(test_paths),
	        cmocka_unit_test(test_report),
	        cmocka_unit_test(test_driver_names),
	};
	const struct CMUnitTest corpus_tests[] = {
	        base_test(test_pve1_corpus_files_restored),
	};
	int rc = cmocka_run_group_tests_name("vfio_bind", tests, NULL, NULL);
	if (corpus_present())
		rc += cmocka_run_group_tests_name("vfio_bind corpus", corpus_tests, NULL, NULL);
	return rc;
}
