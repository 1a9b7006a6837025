/*
 * net.c — libcurl loaded with dlopen() the first time a configuration has a network notifier,
 * so that a configuration of local notifiers never maps it: Debian's libcurl brings 28 more
 * libraries (GnuTLS, Kerberos, LDAP, RTMP, SSH, ...) that cost a process about 6 MiB before
 * the first call, more than three times paperwatch's own pages.
 *
 * The other files call curl_easy_setopt() and the rest as curl/curl.h declares them, with the
 * header's type checks. This file defines each function they use, passing the call on to the
 * library's own, which dlsym() found. The program is not linked with libcurl (the Makefile
 * takes its headers only), so nothing else defines these names, and the library, loaded
 * RTLD_LOCAL, never sees them. A libcurl function the code starts to use needs a line in
 * NET_FUNCTIONS and a definition here: until then, the link fails naming it.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The three setopt and getinfo macros of curl.h would rename the definitions below. */
#include <curl/curl.h>
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt

#include "net.h"

/* Every libcurl function the program calls, and the two net_load() and net_end() call. */
#define NET_FUNCTIONS(X)                                                                           \
	X(curl_global_init)                                                                        \
	X(curl_global_cleanup)                                                                     \
	X(curl_easy_init)                                                                          \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_multi_init)                                                                         \
	X(curl_multi_cleanup)                                                                      \
	X(curl_multi_setopt)                                                                       \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_socket_action)                                                                \
	X(curl_multi_info_read)                                                                    \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

/* The library's functions, each of the type its declaration in curl.h gives it. */
static struct {
#define NET_FIELD(f) __typeof__(f) *(f);
	NET_FUNCTIONS(NET_FIELD)
#undef NET_FIELD
} lib;

static void *handle; /* the library, once loaded: never closed */
static bool loaded;  /* every function in lib found */
static bool started; /* curl_global_init done, curl_global_cleanup not yet */

/* Finds every function in the library: NULL, or the name of the first one missing. */
static const char *net_resolve(void)
{
	void *fn;

	/* A function's address as dlsym() returns it; POSIX makes the conversion exact. */
#define NET_FIND(f)                                                                                \
	fn = dlsym(handle, #f);                                                                    \
	if (fn == NULL)                                                                            \
		return #f;                                                                         \
	lib.f = (__typeof__(lib.f))fn;
	NET_FUNCTIONS(NET_FIND)
#undef NET_FIND
	return NULL;
}

int net_load(struct err *err)
{
	const char *missing;

	if (started)
		return 0;
	if (handle == NULL) {
		handle = dlopen(NET_LIBCURL, RTLD_NOW | RTLD_LOCAL);
		if (handle == NULL)
			return err_set(err, "cannot load libcurl, which network notifiers need: %s",
				       dlerror());
		missing = net_resolve();
		if (missing != NULL) {
			err_set(err, "%s: this libcurl has no %s", NET_LIBCURL, missing);
			dlclose(handle);
			handle = NULL;
			return -1;
		}
		loaded = true;
	}
	if (lib.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(err, "libcurl: curl_global_init failed");
	started = true;
	return 0;
}

void net_end(void)
{
	if (started)
		lib.curl_global_cleanup();
	started = false;
}

/* ---- The functions passed on ---- */

CURL *curl_easy_init(void)
{
	return started ? lib.curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *curl)
{
	if (loaded)
		lib.curl_easy_cleanup(curl);
}

/* The setopt functions take one argument after the option, of the type the option's number
 * says (curl.h's CURLOPTTYPE_* ranges, which curl_multi_setopt's options share, and by which
 * libcurl reads it): read as that type, it is passed on as that type. Function pointers all
 * have one representation, as dlsym() itself requires. */
enum net_arg { NET_LONG, NET_POINTER, NET_FUNCTION, NET_OFF_T };

static enum net_arg net_arg(int option)
{
	if (option < CURLOPTTYPE_OBJECTPOINT)
		return NET_LONG;
	if (option < CURLOPTTYPE_FUNCTIONPOINT)
		return NET_POINTER;
	if (option < CURLOPTTYPE_OFF_T)
		return NET_FUNCTION;
	if (option < CURLOPTTYPE_BLOB)
		return NET_OFF_T;
	return NET_POINTER; /* a struct curl_blob * */
}

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	CURLcode rc = CURLE_FAILED_INIT;
	va_list ap;

	if (!loaded)
		return rc;
	va_start(ap, option);
	switch (net_arg((int)option)) {
	/* The branches differ in the type va_arg reads, which clang-tidy does not compare. */
	case NET_LONG: /* NOLINT(bugprone-branch-clone) */
		rc = lib.curl_easy_setopt(curl, option, va_arg(ap, long));
		break;
	case NET_POINTER:
		rc = lib.curl_easy_setopt(curl, option, va_arg(ap, void *));
		break;
	case NET_FUNCTION:
		rc = lib.curl_easy_setopt(curl, option, va_arg(ap, void (*)(void)));
		break;
	case NET_OFF_T:
		rc = lib.curl_easy_setopt(curl, option, va_arg(ap, curl_off_t));
		break;
	}
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	CURLcode rc = CURLE_FAILED_INIT;
	va_list ap;

	if (!loaded)
		return rc;
	va_start(ap, info);
	rc = lib.curl_easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *curl_easy_strerror(CURLcode code)
{
	return loaded ? lib.curl_easy_strerror(code) : "libcurl error (libcurl not loaded)";
}

CURLM *curl_multi_init(void)
{
	return started ? lib.curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi_handle)
{
	return loaded ? lib.curl_multi_cleanup(multi_handle) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_setopt(CURLM *multi_handle, CURLMoption option, ...)
{
	CURLMcode rc = CURLM_BAD_HANDLE;
	va_list ap;

	if (!loaded)
		return rc;
	va_start(ap, option);
	switch (net_arg((int)option)) {
	/* The branches differ in the type va_arg reads, which clang-tidy does not compare. */
	case NET_LONG: /* NOLINT(bugprone-branch-clone) */
		rc = lib.curl_multi_setopt(multi_handle, option, va_arg(ap, long));
		break;
	case NET_POINTER:
		rc = lib.curl_multi_setopt(multi_handle, option, va_arg(ap, void *));
		break;
	case NET_FUNCTION:
		rc = lib.curl_multi_setopt(multi_handle, option, va_arg(ap, void (*)(void)));
		break;
	case NET_OFF_T:
		rc = lib.curl_multi_setopt(multi_handle, option, va_arg(ap, curl_off_t));
		break;
	}
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_add_handle(CURLM *multi_handle, CURL *curl_handle)
{
	return loaded ? lib.curl_multi_add_handle(multi_handle, curl_handle) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *multi_handle, CURL *curl_handle)
{
	return loaded ? lib.curl_multi_remove_handle(multi_handle, curl_handle) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_socket_action(CURLM *multi_handle, curl_socket_t s, int ev_bitmask,
				   int *running_handles)
{
	return loaded ? lib.curl_multi_socket_action(multi_handle, s, ev_bitmask, running_handles)
		      : CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *multi_handle, int *msgs_in_queue)
{
	return loaded ? lib.curl_multi_info_read(multi_handle, msgs_in_queue) : NULL;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	return loaded ? lib.curl_slist_append(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (loaded)
		lib.curl_slist_free_all(list);
}
