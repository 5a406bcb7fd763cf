/* zlib, for the gzipped API models botocore ships. inflateInit2 is a macro: wrapped here. */
#ifndef FLOWSPOOL_CZLIB_SHIM_H
#define FLOWSPOOL_CZLIB_SHIM_H

#include <zlib.h>

/* An inflate stream that reads a gzip header (window bits 15, plus 16 for gzip). */
static inline int flowspool_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
