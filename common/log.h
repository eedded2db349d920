/*
 * log.h - leveled logging to stderr.
 *
 * The level is checked before the arguments are formatted, so a disabled
 * debug line costs one comparison. Library code in common/ logs at debug
 * level at most; callers log once.
 */
#ifndef MB_LOG_H
#define MB_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_FATAL = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

extern int log_level;

/* Set the threshold; messages above it are dropped before formatting. */
void log_set_level(int level);

/* Set the program name printed before each line (borrowed, not copied). */
void log_set_ident(const char *ident);

/* Format and write one line. Use the macros below instead. */
void log_emit(int level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print one line and exit(2). Only startup code may call this. */
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...)                                                         \
	((log_level >= LOG_LEVEL_DEBUG)                                        \
		 ? log_emit(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)                   \
		 : (void)0)
#define log_info(...)                                                          \
	((log_level >= LOG_LEVEL_INFO)                                         \
		 ? log_emit(LOG_LEVEL_INFO, 0, __VA_ARGS__)                    \
		 : (void)0)
#define log_warn(...)                                                          \
	((log_level >= LOG_LEVEL_WARN)                                         \
		 ? log_emit(LOG_LEVEL_WARN, 0, __VA_ARGS__)                    \
		 : (void)0)
/* Like log_warn, appending ": strerror(-r)" for a negative errno r. */
#define log_warn_r(r, ...)                                                     \
	((log_level >= LOG_LEVEL_WARN)                                         \
		 ? log_emit(LOG_LEVEL_WARN, (r), __VA_ARGS__)                  \
		 : (void)0)

#endif
