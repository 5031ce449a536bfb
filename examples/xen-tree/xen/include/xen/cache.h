/* Cache line size and the data placement attributes that depend on it. */
#ifndef __XEN_CACHE_H__
#define __XEN_CACHE_H__

#include <asm/cache.h>

#define L1_CACHE_BYTES  (1 << L1_CACHE_SHIFT)
#define SMP_CACHE_BYTES L1_CACHE_BYTES

#ifndef __ASSEMBLY__
#include <xen/compiler.h>

#define __read_mostly   __section(".data.read_mostly")
/* Written during boot only; a script may gather it with read-only data. */
#define __ro_after_init __section(".data.ro_after_init")
#endif

#endif /* __XEN_CACHE_H__ */
