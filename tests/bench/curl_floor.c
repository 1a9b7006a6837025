/*
 * curl_floor.c — libcurl's floor, for the memory benchmark (tests/bench/memory.py): a program
 * that links Debian's libcurl, calls curl_global_init and waits, doing nothing else. With
 * --no-init it leaves the call out too, which tells what mapping the library and its own
 * dependencies costs from what initialising them adds. It says "ready" when it has done so.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int init = !(argc > 1 && strcmp(argv[1], "--no-init") == 0);

	if (init && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("curl_floor: curl_global_init failed\n", stderr);
		return 1;
	}
	if (puts("ready") < 0 || fflush(stdout) != 0)
		return 1;
	pause(); /* until the benchmark's SIGTERM */
	return 0;
}
