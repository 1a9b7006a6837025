/*
 * unit.h — what every unit test file includes: cmocka, and where the fixtures are.
 */
#ifndef PW_UNIT_H
#define PW_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The path of a file under tests/fixtures, in a static buffer. */
static inline const char *fixture(const char *name)
{
	static char path[4096];
	const char *dir = getenv("FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	return path;
}

#endif
