# The package's version: the library's (include/sfr/version.h), which a test
# keeps equal.
__version__ = "0.2.0"
