#ifndef CAUSEWAY_CIRCCLIENT_SHIM_H
#define CAUSEWAY_CIRCCLIENT_SHIM_H
// Debian's libircclient ships no pkg-config file; its headers sit in /usr/include.
#include <libircclient.h>
#include <libirc_rfcnumeric.h>
#endif
