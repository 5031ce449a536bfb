/* ppc cache line size. */
#ifndef __ASM_PPC_CACHE_H__
#define __ASM_PPC_CACHE_H__

#define L1_CACHE_SHIFT  7

#endif
