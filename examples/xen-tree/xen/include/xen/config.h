/*
 * The forced include of every compilation in the patchbot example tree
 * (-include xen/config.h), shaped like Xen's.  For assembly it defines
 * ALIGN and ENTRY, so every xen.lds.S has to #undef them before it can use
 * the linker keywords of the same names.
 */
#ifndef __XEN_CONFIG_H__
#define __XEN_CONFIG_H__

#include <xen/kconfig.h>

#ifdef __ASSEMBLY__
# define _AC(X, Y)  X
#else
# define __AC(X, Y) (X ## Y)
# define _AC(X, Y)  __AC(X, Y)
#endif

#define KB(_kb)     (_AC(_kb, ULL) << 10)
#define MB(_mb)     (_AC(_mb, ULL) << 20)
#define GB(_gb)     (_AC(_gb, ULL) << 30)

#define IS_ALIGNED(val, align) (((val) & ((align) - 1)) == 0)

#ifdef __ASSEMBLY__
# define ALIGN .balign 16
# define ENTRY(name) \
    .globl name;     \
    ALIGN;           \
    name:
#endif

#define NR_CPUS CONFIG_NR_CPUS

#endif /* __XEN_CONFIG_H__ */
