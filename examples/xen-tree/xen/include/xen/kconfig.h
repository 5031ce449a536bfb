/*
 * Kconfig helpers of the patchbot example tree: pulls in the generated
 * autoconf.h and gives IS_ENABLED(), which is 1 for a bool option set to y
 * and 0 for anything else (including a misspelt name).
 */
#ifndef __XEN_KCONFIG_H__
#define __XEN_KCONFIG_H__

#include <generated/autoconf.h>

#define __PB_PICK_1 0,
#define __pb_second(ignored, val, ...) val
#define ___pb_enabled(junk_or_zero) __pb_second(junk_or_zero 1, 0, 0)
#define __pb_enabled(val) ___pb_enabled(__PB_PICK_##val)
#define IS_ENABLED(option) __pb_enabled(option)

#endif /* __XEN_KCONFIG_H__ */
