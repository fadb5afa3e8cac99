#ifndef CAUSEWAY_CLIBXML2_SHIM_H
#define CAUSEWAY_CLIBXML2_SHIM_H
// Debian builds libxml2 with ICU, and its encoding.h then includes ICU's headers, whose
// UErrorCode clashes with the copy inside Foundation: any Swift module seeing both fails to
// build. Causeway never touches libxml2's encoding handlers (XMPP is UTF-8), so ICU stays out.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#endif
