/*
 * main.c — the paperwatch program: the command line (cli.c) is all there is to it.
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
