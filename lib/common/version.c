/* Run-time version queries; the values come from include/sfr/version.h. */
#include "sfr/version.h"

#define SFRI_STR2(x) #x
#define SFRI_STR(x) SFRI_STR2(x)

SFR_API unsigned sfr_version_number(void)
{
    return SFR_VERSION_NUMBER;
}

SFR_API const char *sfr_version_string(void)
{
    return SFRI_STR(SFR_VERSION_MAJOR) "." SFRI_STR(SFR_VERSION_MINOR) "." SFRI_STR(
        SFR_VERSION_PATCH);
}
