/*
 * libsfr: library version.
 *
 * The version is defined here and only here; the Makefile reads these three
 * macros to name the shared library (libsfr.so.MAJOR.MINOR.PATCH, SONAME
 * libsfr.so.MAJOR) and to fill sfr.pc.
 */
#ifndef SFR_VERSION_H
#define SFR_VERSION_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SFR_VERSION_MAJOR 0
#define SFR_VERSION_MINOR 1
#define SFR_VERSION_PATCH 0

/* MAJOR*10000 + MINOR*100 + PATCH, as sfr_version_number() returns. */
#define SFR_VERSION_NUMBER \
    (SFR_VERSION_MAJOR * 10000 + SFR_VERSION_MINOR * 100 + SFR_VERSION_PATCH)

/*
 * Version of the library actually loaded at run time, as
 * MAJOR*10000 + MINOR*100 + PATCH. A host built against this header should
 * check at start-up that sfr_version_number() / 10000 == SFR_VERSION_MAJOR
 * (same ABI) and sfr_version_number() >= SFR_VERSION_NUMBER (every function
 * it was compiled against exists). Thread-safe. Since 0.1.0.
 */
SFR_API unsigned sfr_version_number(void);

/*
 * The same version as a static string "MAJOR.MINOR.PATCH". Never NULL; the
 * caller must not free it. Thread-safe. Since 0.1.0.
 */
SFR_API const char *sfr_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* SFR_VERSION_H */
