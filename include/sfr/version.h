/**
 * @file sfr/version.h
 * @brief Library version: at compile time (macros) and at run time (functions).
 *
 * The version is defined here and only here; the Makefile reads the three
 * SFR_VERSION_MAJOR/MINOR/PATCH macros to name the shared library
 * (libsfr.so.MAJOR.MINOR.PATCH, SONAME libsfr.so.MAJOR) and to fill sfr.pc.
 * The compatibility promise behind the numbers is docs/abi.md.
 *
 * @since 0.1.0
 */
#ifndef SFR_VERSION_H
#define SFR_VERSION_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of these headers: a change means an incompatible ABI. @since 0.1.0 */
#define SFR_VERSION_MAJOR 0
/** Minor version of these headers: a change adds symbols, codes or keys. @since 0.1.0 */
#define SFR_VERSION_MINOR 2
/** Patch version of these headers: a change fixes behaviour only. @since 0.1.0 */
#define SFR_VERSION_PATCH 0

/**
 * The headers' version as one number, MAJOR*10000 + MINOR*100 + PATCH, in
 * the form sfr_version_number() returns (0.1.0 is 100).
 * @since 0.1.0
 */
#define SFR_VERSION_NUMBER \
    (SFR_VERSION_MAJOR * 10000 + SFR_VERSION_MINOR * 100 + SFR_VERSION_PATCH)

/**
 * @brief Version of the library actually loaded at run time.
 *
 * A host built against these headers should check at start-up that
 * `sfr_version_number() / 10000 == SFR_VERSION_MAJOR` (same ABI) and
 * `sfr_version_number() >= SFR_VERSION_NUMBER` (every function it was
 * compiled against exists).
 *
 * Thread-safe; never fails.
 *
 * @return MAJOR*10000 + MINOR*100 + PATCH of the loaded library.
 * @since 0.1.0
 */
SFR_API unsigned sfr_version_number(void);

/**
 * @brief The loaded library's version as a string "MAJOR.MINOR.PATCH".
 *
 * Thread-safe; never fails.
 *
 * @return A static string, never NULL; the caller must not free or modify it.
 * @since 0.1.0
 */
SFR_API const char *sfr_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* SFR_VERSION_H */
