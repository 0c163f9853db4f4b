/* qmp/version.h — QEMU version numbers and the gates vcpuprobe branches on. */
#pragma once
#include <glib.h>

typedef struct {
  guint major;
  guint minor;
  guint micro;
} QmpVersion;

/* Compares the *effective* versions: micro 90 and above is a release candidate of
 * the next minor (2.11.90 counts as 2.12.0 for feature gates), micro 50 a
 * development tree after major.minor.0 (it has what major.minor.0 has). Returns <0, 0, >0. */
int      qmp_version_compare (const QmpVersion *a, const QmpVersion *b);
gboolean qmp_version_at_least (const QmpVersion *version, guint major, guint minor, guint micro);

/* "7.2.22". */
char *qmp_version_to_string (const QmpVersion *version);

/* Parses "1.5.3" (micro optional). FALSE on anything else. */
gboolean qmp_version_parse (const char *text, QmpVersion *version);
