#ifndef CAUSEWAY_CLIBXML2_SHIM_H
#define CAUSEWAY_CLIBXML2_SHIM_H
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#endif
