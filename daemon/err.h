/*
 * err.h — the reason a call failed, as text a person can act on.
 * Functions that can fail return 0 or -1 and, on -1, fill a caller's struct err.
 */
#ifndef PW_ERR_H
#define PW_ERR_H

#define ERR_MAX 512

struct err {
	char msg[ERR_MAX];
};

#define PW_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Sets the message; a NULL e is allowed and ignored. Returns -1 so callers can `return err_set()`.
 */
int err_set(struct err *e, const char *fmt, ...) PW_PRINTF(2, 3);

/* Puts context in front of the message already set ("state.db: " + "disk full"). Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) PW_PRINTF(2, 3);

#endif
