/* qmp/version.c — QEMU version numbers under QEMU's development and release-candidate conventions. */
#include "qmp/version.h"

/* Before the yearly scheme, the release after these was a new major (0.15 -> 1.0, 1.7 -> 2.0,
 * 2.12 -> 3.0, 3.1 -> 4.0), so their candidates (1.7.90 is 2.0.0-rc0) belong to that major. */
static const QmpVersion final_minor_before_yearly[] = {
  { 0, 15, 0 },
  { 1, 7, 0 },
  { 2, 12, 0 },
  { 3, 1, 0 },
};

/* From 4.0 on QEMU releases x.0, x.1 and x.2 each year; x.2 is followed by (x+1).0. */
#define FIRST_YEARLY_MAJOR 4
#define YEARLY_FINAL_MINOR 2

#define FIRST_CANDIDATE_MICRO 90

static gboolean
is_final_minor (guint major, guint minor)
{
  if (major >= FIRST_YEARLY_MAJOR)
    return minor >= YEARLY_FINAL_MINOR;
  for (gsize i = 0; i < G_N_ELEMENTS (final_minor_before_yearly); i++)
    if (final_minor_before_yearly[i].major == major && final_minor_before_yearly[i].minor == minor)
      return TRUE;
  return FALSE;
}

/* The release a version stands for when gating features: a candidate is the release it
 * leads to; a development tree (micro 50) already compares above its base release. */
static QmpVersion
effective_version (const QmpVersion *version)
{
  QmpVersion release = *version;

  if (version->micro < FIRST_CANDIDATE_MICRO)
    return release;
  if (is_final_minor (version->major, version->minor))
    {
      release.major++;
      release.minor = 0;
    }
  else
    release.minor++;
  release.micro = 0;
  return release;
}

static int
compare_uint (guint a, guint b)
{
  return (a > b) - (a < b);
}

int
qmp_version_compare (const QmpVersion *a, const QmpVersion *b)
{
  QmpVersion left = effective_version (a);
  QmpVersion right = effective_version (b);

  if (left.major != right.major)
    return compare_uint (left.major, right.major);
  if (left.minor != right.minor)
    return compare_uint (left.minor, right.minor);
  return compare_uint (left.micro, right.micro);
}

gboolean
qmp_version_at_least (const QmpVersion *version, guint major, guint minor, guint micro)
{
  const QmpVersion wanted = { major, minor, micro };

  return qmp_version_compare (version, &wanted) >= 0;
}

char *
qmp_version_to_string (const QmpVersion *version)
{
  return g_strdup_printf ("%u.%u.%u", version->major, version->minor, version->micro);
}

/* Reads decimal digits at *@cursor. Nine digits at most, so the value cannot overflow. */
static gboolean
read_component (const char **cursor, guint *component)
{
  const char *digits = *cursor;
  guint value = 0;
  int count = 0;

  while (g_ascii_isdigit (digits[count]))
    {
      if (++count > 9)
        return FALSE;
      value = value * 10 + (guint) (digits[count - 1] - '0');
    }
  if (count == 0)
    return FALSE;
  *component = value;
  *cursor = digits + count;
  return TRUE;
}

gboolean
qmp_version_parse (const char *text, QmpVersion *version)
{
  QmpVersion parsed = { 0, 0, 0 };
  const char *cursor = text;

  if (text == NULL || !read_component (&cursor, &parsed.major) || *cursor != '.')
    return FALSE;
  cursor++;
  if (!read_component (&cursor, &parsed.minor))
    return FALSE;
  if (*cursor == '.')
    {
      cursor++;
      if (!read_component (&cursor, &parsed.micro))
        return FALSE;
    }
  if (*cursor != '\0')
    return FALSE;
  *version = parsed;
  return TRUE;
}
