/*
 * libsfr: the export macro shared by every public header.
 *
 * The library is built with -fvisibility=hidden; SFR_API marks the few
 * declarations that form the public ABI. A host never needs to define
 * anything to use it.
 */
#ifndef SFR_EXPORT_H
#define SFR_EXPORT_H

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
