#ifndef CAUSEWAY_CIRCCLIENT_SHIM_H
#define CAUSEWAY_CIRCCLIENT_SHIM_H
// Debian's libircclient ships no pkg-config file; its headers sit in /usr/include.
#include <libircclient.h>
#include <libirc_rfcnumeric.h>

// Swift cannot call C variadic functions and libircclient has no va_list variant of
// irc_send_raw; this fixed-arity wrapper lets the C compiler make the variadic call. The format
// is the literal "%s", so a '%' in a line is never interpreted.
static inline int causeway_irc_send_line(irc_session_t *session, const char *line) {
    return irc_send_raw(session, "%s", line);
}
#endif
