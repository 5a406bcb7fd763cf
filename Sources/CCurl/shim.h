/* libcurl's variadic curl_easy_setopt and curl_easy_getinfo, one typed function per argument type. */
#ifndef FLOWSPOOL_CCURL_SHIM_H
#define FLOWSPOOL_CCURL_SHIM_H

#include <curl/curl.h>

/* The shape of CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION and CURLOPT_READFUNCTION alike. */
typedef size_t (*flowspool_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode flowspool_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flowspool_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flowspool_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flowspool_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flowspool_curl_setopt_data_callback(CURL *handle, CURLoption option, flowspool_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode flowspool_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode flowspool_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode flowspool_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
