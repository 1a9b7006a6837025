/*
 * config_libraries.h — the configuration's libraries, for config.c: reading the list, checking
 * that every like:NAME of a rule names one, and freeing them.
 */
#ifndef PW_CONFIG_LIBRARIES_H
#define PW_CONFIG_LIBRARIES_H

#include "config.h"
#include "config_read.h"

/* Reads `libraries`, loads each file and checks every rule's like: names; problems go
 * through c. Sets the matcher's answer to like: terms. */
void config_load_libraries(struct conf_ctx *c, const config_t *cf, struct config *cfg);

/* Frees the libraries of cfg. */
void config_free_libraries(struct config *cfg);

#endif
