/**
 * @file sfr/export.h
 * @brief The export macro shared by every public header.
 *
 * The library is built with -fvisibility=hidden; #SFR_API marks the few
 * declarations that form the public ABI (docs/abi.md). A host never needs to
 * define anything to use it.
 *
 * @since 0.1.0
 */
#ifndef SFR_EXPORT_H
#define SFR_EXPORT_H

/**
 * @def SFR_API
 * @brief Marks a declaration as part of the public ABI.
 *
 * Expands to the default-visibility attribute on GCC and Clang, to
 * __declspec(dllexport) when the library itself is built for Windows
 * (SFR_BUILDING_LIBRARY defined), and to nothing otherwise. Hosts use the
 * headers as they are.
 *
 * @since 0.1.0
 */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(SFR_BUILDING_LIBRARY)
#    define SFR_API __declspec(dllexport)
#  else
#    define SFR_API
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define SFR_API __attribute__((visibility("default")))
#else
#  define SFR_API
#endif

#endif /* SFR_EXPORT_H */
