/*
 * net.h — libcurl, loaded into the process only once a notifier needs the network. The code
 * calls libcurl's functions as curl/curl.h declares them; net.c passes each call on to the
 * library once net_load() has loaded it.
 */
#ifndef PW_NET_H
#define PW_NET_H

#include "err.h"

/* The library loaded: libcurl's soname (Debian's libcurl4, the OpenSSL flavour whose headers
 * the build uses), unchanged since curl 7.16. */
#ifndef NET_LIBCURL
#define NET_LIBCURL "libcurl.so.4"
#endif

/* Loads libcurl and runs curl_global_init, unless done already; 0, or -1 with the reason (no
 * libcurl installed, or one without a function paperwatch calls). Until it has succeeded, the
 * libcurl functions the program calls do nothing and fail: curl_easy_init and
 * curl_multi_init return NULL, the others an error code. */
int net_load(struct err *err);
/* curl_global_cleanup, once the last handle is gone, if net_load() ran it. The library stays
 * mapped until the process ends: a later net_load() has only to initialise it again, and the
 * TLS libraries under it are not made to be unloaded. */
void net_end(void);

#endif
