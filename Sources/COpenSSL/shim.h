#ifndef CAUSEWAY_COPENSSL_SHIM_H
#define CAUSEWAY_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#endif
