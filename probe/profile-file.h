/* probe/profile-file.h — a profile's text in memory, its pages present from the start.
 *
 * A profile is read once from end to end (its skim) and then in parts: touching each of
 * its pages one fault at a time costs more than reading them, so the file is mapped with
 * its pages read in at once, and a text that is kept (the first profile of a kind, whose
 * parts are read later) is copied into memory populated the same way. */
#pragma once
#include <glib.h>

/* The contents of the regular file @path, mapped read-only; NULL with @error
 * (G_FILE_ERROR) naming @path. An empty file gives empty bytes. */
GBytes *probe_profile_file_map (const char *path, GError **error);

/* A private copy of @length bytes at @text: a mapping can fault if the file is cut short
 * while it is read, a copy cannot. */
GBytes *probe_profile_file_copy (const char *text, gsize length);
