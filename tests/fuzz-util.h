/* tests/fuzz-util.h — what the libFuzzer targets that read files share: a private
 * directory for the input, removed at exit, and the checks every refusal must pass. */
#pragma once
#include <glib.h>
#include <stddef.h>

/* A new directory under $TMPDIR named after @prefix ("fuzz-replies"); it and the files in
 * it are removed when the fuzzer exits. Aborts when it cannot be made. Static; never NULL. */
const char *fuzz_private_dir (const char *prefix);

/* Writes @len bytes of @data to @path, aborting on failure. */
void fuzz_write_file (const char *path, const void *data, size_t len);

/* Aborts unless @error is set and its message names @name: a refusal says which input. */
void fuzz_expect_refusal (const GError *error, const char *name);
