/* OpenSSL's libcrypto: SHA-256 and HMAC-SHA256 for AWS Signature Version 4. */
#ifndef FLOWSPOOL_CCRYPTO_SHIM_H
#define FLOWSPOOL_CCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/hmac.h>

#endif
