/* vcpuprobe.h — libvcpuprobe: which x86 CPU QEMU will give a guest, asked before it starts.
 *
 * The library answers the questions of the vcpuprobe command line (vcpuprobe(1)) for a
 * program: `expand` and `check` of a CPU definition, the `host` capability report and the
 * named `models`. Each answer is the very JSON document `vcpuprobe --format json COMMAND`
 * prints for the same source and settings, byte for byte, plus the few values a caller
 * branches on without parsing it: the verdict and the updated definition, as libvirt
 * <cpu> XML and as a QEMU -cpu string. The document's members are described in
 * vcpuprobe(1), "OUTPUT".
 *
 *   #include <vcpuprobe.h>
 *
 *   g_autoptr (GError) error = NULL;
 *   g_autoptr (VcpuprobeContext) context = vcpuprobe_context_new (VCPUPROBE_SOURCE_QEMU, NULL);
 *   vcpuprobe_context_set_accel (context, VCPUPROBE_ACCEL_KVM);
 *   vcpuprobe_context_set_machine (context, "pc-q35-7.2");
 *   g_autoptr (VcpuprobeResult) result = vcpuprobe_check (context, "Haswell-noTSX,+x2apic",
 *                                                         FALSE, &error);
 *   if (result == NULL)
 *     return g_error_matches (error, VCPUPROBE_ERROR, VCPUPROBE_ERROR_INPUT) ? 2 : 3;
 *   if (vcpuprobe_result_verdict (result) == VCPUPROBE_VERDICT_FAIL)
 *     g_print ("the guest gets -cpu %s\n", vcpuprobe_result_updated_cpu (result));
 *   fputs (vcpuprobe_result_json (result), stdout);
 *
 * Build with `pkg-config --cflags --libs vcpuprobe`.
 *
 * Stability: the functions and types below keep their meaning within SONAME
 * libvcpuprobe.so.0; new ones are only added. The JSON document grows as the command
 * line's does: members are added, never renamed or removed.
 *
 * Threads: a call that runs a question (vcpuprobe_expand(), _check(), _host(),
 * _models()) must not overlap another such call in the same process; a program that asks
 * from several threads serialises those calls. Everything else may be called from any
 * thread. The library installs no signal handler: a QEMU it starts is ended before the
 * call returns, and writes to a QEMU that died raise no SIGPIPE. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#if defined(VCPUPROBE_COMPILATION) && defined(__GNUC__)
#define VCPUPROBE_API __attribute__ ((visibility ("default")))
#else
#define VCPUPROBE_API
#endif

/* ---- errors ---- */

/* Every failure is a GError in this domain, whatever layer failed; its message is the line
 * the command line prints after "vcpuprobe: " for the same failure. */
#define VCPUPROBE_ERROR (vcpuprobe_error_quark ())
VCPUPROBE_API GQuark vcpuprobe_error_quark (void);

/* The codes are the command line's exit statuses for the same failure. */
typedef enum {
  VCPUPROBE_ERROR_INPUT = 2,    /* bad input: a CPU definition, file, recording, profile or
                                 * setting that cannot be used */
  VCPUPROBE_ERROR_FAILURE = 3,  /* QEMU or the probe failed: no QEMU, a crash, a timeout,
                                 * a QMP error, a question a profile holds no answer for */
} VcpuprobeError;

/* ---- where QEMU's answers come from ---- */

typedef enum {
  VCPUPROBE_SOURCE_QEMU,     /* launch this QEMU binary (NULL path: qemu-system-x86_64 from
                              * PATH), as often as the question needs (--qemu) */
  VCPUPROBE_SOURCE_SOCKET,   /* a running QEMU's QMP UNIX socket (--socket) */
  VCPUPROBE_SOURCE_REPLAY,   /* a recorded QMP conversation, a .replies file (--replay) */
  VCPUPROBE_SOURCE_PROFILE,  /* a host profile made by `vcpuprobe profile`: answers for that
                              * host, starting nothing (--profile; expand, check and models) */
} VcpuprobeSource;

typedef enum {
  VCPUPROBE_ACCEL_DEFAULT,   /* the source decides: a recording's own, else kvm where
                              * /dev/kvm is usable, else tcg */
  VCPUPROBE_ACCEL_KVM,
  VCPUPROBE_ACCEL_TCG,
} VcpuprobeAccel;

typedef enum {
  VCPUPROBE_METHOD_AUTO,        /* by QEMU's version */
  VCPUPROBE_METHOD_EXPANSION,   /* query-cpu-model-expansion (QEMU >= 2.9.0) */
  VCPUPROBE_METHOD_POST_START,  /* a paused throw-away QEMU with the real -cpu */
} VcpuprobeMethod;

/* The source and the settings every question asked through it shares. */
typedef struct VcpuprobeContext VcpuprobeContext;

/* A context asking @source, named by @path (copied; NULL only for VCPUPROBE_SOURCE_QEMU).
 * Nothing is opened yet: a path that cannot be used fails the first question with
 * VCPUPROBE_ERROR_INPUT. Free with vcpuprobe_context_free(). */
VCPUPROBE_API VcpuprobeContext *vcpuprobe_context_new (VcpuprobeSource source, const char *path);
/* Frees @context (NULL is ignored). No QEMU outlives a question, so nothing else ends. */
VCPUPROBE_API void vcpuprobe_context_free (VcpuprobeContext *context);

/* The settings, each the command-line option named; they apply to the questions asked
 * after the call. Strings are copied; NULL restores the default. */

/* --accel; default VCPUPROBE_ACCEL_DEFAULT. */
VCPUPROBE_API void vcpuprobe_context_set_accel (VcpuprobeContext *context, VcpuprobeAccel accel);
/* --machine: the guest's machine type, e.g. "pc-q35-7.2"; default QEMU's default. */
VCPUPROBE_API void vcpuprobe_context_set_machine (VcpuprobeContext *context, const char *machine);
/* --method; default VCPUPROBE_METHOD_AUTO. */
VCPUPROBE_API void vcpuprobe_context_set_method (VcpuprobeContext *context, VcpuprobeMethod method);
/* --timeout: the deadline of each question, in seconds from its start; default 30. A
 * value that is not a positive number fails the next question with VCPUPROBE_ERROR_INPUT. */
VCPUPROBE_API void vcpuprobe_context_set_timeout (VcpuprobeContext *context, double seconds);
/* --no-cache when FALSE: the probe cache (~/.cache/vcpuprobe) is neither read nor
 * written; default TRUE, as on the command line. */
VCPUPROBE_API void vcpuprobe_context_set_cache (VcpuprobeContext *context, gboolean enabled);
/* --cpuid-dump: the host's CPUID from this file (`cpuid -1r` text or vcpuprobe's JSON)
 * instead of this machine's, e.g. beside a recording made on another host. */
VCPUPROBE_API void vcpuprobe_context_set_cpuid_dump (VcpuprobeContext *context, const char *path);
/* --cpu-map: libvirt's CPU map directory; default /usr/share/libvirt/cpu_map if present. */
VCPUPROBE_API void vcpuprobe_context_set_cpu_map (VcpuprobeContext *context, const char *directory);

/* ---- questions and answers ---- */

typedef enum {
  VCPUPROBE_VERDICT_NONE,   /* host and models judge no definition */
  VCPUPROBE_VERDICT_PASS,   /* the guest gets exactly the CPU asked for */
  VCPUPROBE_VERDICT_FAIL,   /* it does not: the document's "problems" say why */
} VcpuprobeVerdict;

/* One answer. Immutable; free with vcpuprobe_result_free(). */
typedef struct VcpuprobeResult VcpuprobeResult;

/* `expand CPU`: the guest CPU QEMU creates for @cpu, a -cpu string ("Haswell-noTSX,+x2apic,
 * -hle", "host", "max") or the path of a file holding a libvirt <cpu> element or a whole
 * domain XML (whose emulator, domain type and machine type apply unless set here). The
 * verdict is the one check would give. Returns a new result, or NULL with @error set
 * (VCPUPROBE_ERROR_INPUT for a definition that cannot be read). */
VCPUPROBE_API VcpuprobeResult *vcpuprobe_expand (VcpuprobeContext *context, const char *cpu,
                                                 GError **error);
/* `check CPU [--strict]`: as vcpuprobe_expand(), judged as the check command judges
 * (libvirt's check='full' rules for libvirt input when its CPU map is there); @strict also
 * fails features QEMU adds. A failing check is a result with VCPUPROBE_VERDICT_FAIL, not
 * an error. */
VCPUPROBE_API VcpuprobeResult *vcpuprobe_check (VcpuprobeContext *context, const char *cpu,
                                                gboolean strict, GError **error);
/* `host`: hardware CPUID, KVM, QEMU's host and max models, the named models, under each
 * accelerator (or the one set). NULL with @error set on failure. */
VCPUPROBE_API VcpuprobeResult *vcpuprobe_host (VcpuprobeContext *context, GError **error);
/* `models`: every named model under one accelerator, usable or not, and which layer blocks
 * each missing feature. NULL with @error set on failure. */
VCPUPROBE_API VcpuprobeResult *vcpuprobe_models (VcpuprobeContext *context, GError **error);

/* The JSON document, as `vcpuprobe --format json` prints it (two-space indentation, a
 * final newline). Owned by @result. */
VCPUPROBE_API const char *vcpuprobe_result_json (const VcpuprobeResult *result);
/* The verdict: for check, the one that decides the command's exit status; for expand, the
 * document's "verdict"; VCPUPROBE_VERDICT_NONE for host and models. */
VCPUPROBE_API VcpuprobeVerdict vcpuprobe_result_verdict (const VcpuprobeResult *result);
/* The updated definition, which gives exactly the guest QEMU creates, as a libvirt <cpu>
 * element (the document's "xml"."updated"), or NULL when there is none (host, models, a
 * definition libvirt refuses before it starts QEMU). Owned by @result. */
VCPUPROBE_API const char *vcpuprobe_result_updated_xml (const VcpuprobeResult *result);
/* The same definition as a QEMU -cpu argument (the document's "cpu_string"), or NULL.
 * Owned by @result. */
VCPUPROBE_API const char *vcpuprobe_result_updated_cpu (const VcpuprobeResult *result);
/* Frees @result (NULL is ignored). */
VCPUPROBE_API void vcpuprobe_result_free (VcpuprobeResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcpuprobeContext, vcpuprobe_context_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcpuprobeResult, vcpuprobe_result_free)

G_END_DECLS
