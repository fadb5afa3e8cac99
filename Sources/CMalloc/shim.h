#ifndef CAUSEWAY_CMALLOC_SHIM_H
#define CAUSEWAY_CMALLOC_SHIM_H
// glibc's allocator controls (malloc_trim), which the Glibc module does not import.
#if defined(__linux__)
#include <malloc.h>
#endif
#endif
